from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "safeguard.evidence"
    label = "evidence"
    verbose_name = "Evidence"
