from django.apps import AppConfig


class LawEnforcementConfig(AppConfig):
    name = "safeguard.lawenforcement"
    label = "lawenforcement"
    verbose_name = "Law enforcement"

    def ready(self) -> None:
        from safeguard.intake.hooks import escalation_accepted
        from safeguard.lawenforcement.services import le_request_from_escalation

        # After cases has grouped the escalation (cases is installed, and subscribes, first).
        escalation_accepted.subscribe(le_request_from_escalation)
