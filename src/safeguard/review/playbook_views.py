"""Console views for a case's playbook: tick a step with a note, close the case.

A refused tick or close keeps what the person typed: it is held in the session for one showing
of the case page, where `playbook_context` hands it to `review/_playbook.html` to put back in
the field with the error beside it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from safeguard.accounts.console import console_required
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.cases.models import Case
from safeguard.cases.playbook_selectors import playbook_for_case
from safeguard.cases.playbook_services import (
    PlaybookConflict,
    PlaybookIncomplete,
    PlaybookPermissionDenied,
    PlaybookStepNotFound,
    PlaybookTickError,
    case_close,
    playbook_step_tick,
)
from safeguard.cases.services import CasePermissionDenied
from safeguard.cases.workflow import EDGES_BY_NAME, CaseState, CaseTransition, IllegalTransition
from safeguard.review.case_forms import (
    back_to,
    keep_refused,
    person,
    refused_form,
    visible_case,
)

__all__ = ["case_close_view", "playbook_context", "playbook_tick_view"]

# The session key holding a refused form for the next showing of its case page.
REJECTED = "playbook_rejected"
CLOSABLE = EDGES_BY_NAME[CaseTransition.CLOSE].sources


def playbook_context(*, request: HttpRequest, case: Case) -> dict[str, Any]:
    """What `review/_playbook.html` needs besides `case`: the checklist (`playbook`), what the
    person may do with it, and a form refused on the last submit (shown once)."""
    user = person(request)
    form = refused_form(request, REJECTED, case)
    state = CaseState(case.state)
    return {
        "playbook": playbook_for_case(case=case),
        "playbook_form": form,
        "playbook_can_tick": user.has_permission(Permission.CASES_CASE_REVIEW)
        and state is not CaseState.CLOSED,
        "playbook_can_close": user.has_permission(Permission.CASES_CASE_CLOSE)
        and state in CLOSABLE,
        "playbook_is_lead": user.has_permission(Permission.CASES_CASE_ASSIGN),
    }


@require_POST
@console_required
def playbook_tick_view(request: HttpRequest, case_id: uuid.UUID, step_id: str) -> HttpResponse:
    case = visible_case(request, case_id)
    note = request.POST.get("note", "")
    try:
        tick = playbook_step_tick(
            case=case, step_id=step_id, actor=person(request), note=note, source=AuditSource.CONSOLE
        )
    except (
        PlaybookStepNotFound,
        PlaybookPermissionDenied,
        PlaybookConflict,
        PlaybookTickError,
    ) as exc:
        keep_refused(request, REJECTED, case, step=step_id, note=note, error=f"Not ticked: {exc}")
        return back_to(case_id, f"playbook-step-{step_id}")
    messages.success(request, f"Step done: {tick.step_title}.")
    return back_to(case_id, f"playbook-step-{step_id}")


@require_POST
@console_required
def case_close_view(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = visible_case(request, case_id)
    reason = request.POST.get("reason", "")
    try:
        case_close(case=case, actor=person(request), source=AuditSource.CONSOLE, reason=reason)
    except (
        CasePermissionDenied,
        IllegalTransition,
        PlaybookIncomplete,
        PlaybookTickError,
    ) as exc:
        keep_refused(request, REJECTED, case, close_reason=reason, close_error=f"Not closed: {exc}")
        return back_to(case_id, "playbook-close")
    messages.success(request, "Case closed.")
    return back_to(case_id, "playbook")
