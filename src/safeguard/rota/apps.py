from django.apps import AppConfig


class RotaConfig(AppConfig):
    name = "safeguard.rota"
    label = "rota"
    verbose_name = "Rota and paging"

    def ready(self) -> None:
        from safeguard.cases.hooks import (
            case_claimed,
            case_first_action,
            case_released_before_action,
        )
        from safeguard.rota.services import (
            deadline_notify,
            page_answer_by_action,
            page_answer_by_claim,
            page_p0,
            page_released_before_action,
        )
        from safeguard.triage.hooks import case_became_p0, deadline_passed

        case_became_p0.subscribe(page_p0)
        deadline_passed.subscribe(deadline_notify)
        # Acting on a case answers its pages; a P0 released before anyone acted pages again.
        case_claimed.subscribe(page_answer_by_claim)
        case_first_action.subscribe(page_answer_by_action)
        case_released_before_action.subscribe(page_released_before_action)
