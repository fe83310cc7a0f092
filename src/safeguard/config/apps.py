from django.apps import AppConfig


class SafeguardConfig(AppConfig):
    """Holds the operational commands (serve, worker, demo, users, tokens, diagrams)."""

    name = "safeguard.config"
    label = "safeguard_config"
    verbose_name = "Safeguard"
