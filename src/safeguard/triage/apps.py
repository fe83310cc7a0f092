from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "safeguard.triage"
    label = "triage"
    verbose_name = "Triage"
