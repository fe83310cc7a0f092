"""Decision and action endpoints: decide, escalate to a lead, confirm and reverse actions."""

import uuid

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.actions.models import Action
from safeguard.actions.services import ActionError, action_confirm, action_reverse
from safeguard.audit.events import AuditSource
from safeguard.cases.deciding import case_decide, case_escalate_to_lead
from safeguard.cases.decisions import ActionKind, DecisionLabel, IndustryClass, Referral
from safeguard.cases.schemas import ActionOut, CaseOut, action_out, case_out
from safeguard.cases.selectors import case_get_for

router = Router(tags=["decisions"])


class DecisionIn(Schema):
    labels: list[DecisionLabel] = []
    item_labels: dict[str, IndustryClass] = Field(
        default={}, description="content item id -> A1, A2, B1 or B2"
    )
    reason: str = Field(min_length=1, max_length=10_000)
    actions: list[ActionKind] = []
    referrals: list[Referral] = []


class EscalateIn(Schema):
    note: str = Field(min_length=1, max_length=10_000)
    proposed_labels: list[DecisionLabel] = []


class ReverseIn(Schema):
    reason: str = Field(min_length=1, max_length=10_000)


@router.post(
    "/cases/{case_id}/decision",
    response=CaseOut,
    auth=requires(Permission.CASES_CASE_DECIDE),
    summary="Decide a claimed case: labels, reason, actions on the platform, referrals",
)
def decide(request: HttpRequest, case_id: uuid.UUID, payload: DecisionIn) -> CaseOut:
    user = request.auth  # type: ignore[attr-defined]
    case_decide(
        case=case_get_for(user=user, case_id=case_id),
        actor=user,
        labels=payload.labels,
        item_labels=payload.item_labels,
        reason=payload.reason,
        actions=payload.actions,
        referrals=payload.referrals,
        source=AuditSource.API,
    )
    return case_out(case_get_for(user=user, case_id=case_id), detail=True)


@router.post(
    "/cases/{case_id}/escalate",
    response=CaseOut,
    auth=requires(Permission.CASES_CASE_REVIEW),
    summary="Hand a claimed case to the lead queue with a note",
)
def escalate(request: HttpRequest, case_id: uuid.UUID, payload: EscalateIn) -> CaseOut:
    user = request.auth  # type: ignore[attr-defined]
    case_escalate_to_lead(
        case=case_get_for(user=user, case_id=case_id),
        actor=user,
        note=payload.note,
        proposed_labels=payload.proposed_labels,
        source=AuditSource.API,
    )
    return case_out(case_get_for(user=user, case_id=case_id), detail=True)


@router.post(
    "/actions/{action_id}/confirm",
    response=ActionOut,
    auth=requires(Permission.ACTIONS_ACTION_CONFIRM),
    summary="The platform confirms it carried out an action (idempotent)",
)
def confirm(request: HttpRequest, action_id: uuid.UUID) -> ActionOut:
    action = Action.objects.filter(pk=action_id).first()
    if action is None:
        raise ActionError(f"no action {action_id}")
    return action_out(action_confirm(action=action, actor=request.auth, source=AuditSource.API))  # type: ignore[attr-defined]


@router.post(
    "/actions/{action_id}/reverse",
    response=ActionOut,
    auth=requires(Permission.CASES_CASE_ASSIGN),
    summary="A lead reverses a confirmed action (restore, unban, unrestrict) with a reason",
)
def reverse(request: HttpRequest, action_id: uuid.UUID, payload: ReverseIn) -> ActionOut:
    user = request.auth  # type: ignore[attr-defined]
    action = Action.objects.filter(pk=action_id).first()
    if action is None:
        raise ActionError(f"no action {action_id}")
    case_get_for(user=user, case_id=action.case_id)  # the same access as the case
    return action_out(
        action_reverse(action=action, actor=user, reason=payload.reason, source=AuditSource.API)
    )
