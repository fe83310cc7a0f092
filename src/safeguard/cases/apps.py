from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "safeguard.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from safeguard.cases.holds import content_hold_keys
        from safeguard.cases.services import escalation_group
        from safeguard.evidence.hooks import hold_scope
        from safeguard.intake.hooks import escalation_accepted

        escalation_accepted.subscribe(escalation_group)
        # A hold on a case or a subject holds their content, whenever it joined.
        hold_scope.register(content_hold_keys)
