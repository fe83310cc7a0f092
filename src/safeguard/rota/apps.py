from django.apps import AppConfig


class RotaConfig(AppConfig):
    name = "safeguard.rota"
    label = "rota"
    verbose_name = "Rota and paging"

    def ready(self) -> None:
        from safeguard.rota.services import deadline_notify, page_p0
        from safeguard.triage.hooks import case_became_p0, deadline_passed

        case_became_p0.subscribe(page_p0)
        deadline_passed.subscribe(deadline_notify)
