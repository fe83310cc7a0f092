from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "safeguard.matching"
    label = "matching"
    verbose_name = "Matching"
