from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "safeguard.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from safeguard.cases.services import escalation_group
        from safeguard.intake.hooks import escalation_accepted

        escalation_accepted.subscribe(escalation_group)
