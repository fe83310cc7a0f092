"""Case endpoints: read a case with its escalations, list recent cases, read an escalation."""

import uuid

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.cases.schemas import CaseOut, case_out
from safeguard.cases.selectors import case_get_for, case_list_for, escalation_get_for
from safeguard.cases.workflow import CaseState
from safeguard.core.fields import QueryIn
from safeguard.intake.presenters import escalation_detail
from safeguard.intake.schemas import EscalationDetail

router = Router(tags=["cases"])


class CaseFilter(QueryIn):
    state: CaseState | None = None
    limit: int = Field(default=50, ge=1, le=200)


@router.get(
    "/cases/{case_id}",
    response=CaseOut,
    auth=requires(Permission.CASES_CASE_READ),
    summary="A case with its escalations",
)
def case_get(request: HttpRequest, case_id: uuid.UUID) -> CaseOut:
    return case_out(case_get_for(user=request.auth, case_id=case_id), detail=True)  # type: ignore[attr-defined]


@router.get(
    "/cases",
    response=list[CaseOut],
    auth=requires(Permission.CASES_CASE_READ),
    summary="Recently opened cases, newest first",
)
def case_list(request: HttpRequest, filters: Query[CaseFilter]) -> list[CaseOut]:
    cases = case_list_for(
        user=request.auth,  # type: ignore[attr-defined]
        state=filters.state.value if filters.state else None,
        limit=filters.limit,
    )
    return [case_out(c) for c in cases]


@router.get(
    "/escalations/{escalation_id}",
    response=EscalationDetail,
    auth=requires(Permission.INTAKE_ESCALATION_READ),
    summary="An escalation exactly as received",
)
def escalation_get(request: HttpRequest, escalation_id: uuid.UUID) -> EscalationDetail:
    escalation = escalation_get_for(user=request.auth, escalation_id=escalation_id)  # type: ignore[attr-defined]
    return escalation_detail(escalation)
