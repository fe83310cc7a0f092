from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "safeguard.triage"
    label = "triage"
    verbose_name = "Triage"

    def ready(self) -> None:
        from safeguard.cases.hooks import escalation_grouped
        from safeguard.triage.services import escalation_rank

        escalation_grouped.subscribe(escalation_rank)
