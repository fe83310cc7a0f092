from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "safeguard.actions"
    label = "actions"
    verbose_name = "Actions"

    def ready(self) -> None:
        from safeguard.actions.services import decision_act
        from safeguard.cases.hooks import decision_recorded

        decision_recorded.subscribe(decision_act)
