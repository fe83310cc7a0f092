"""Decision and action endpoints: decide, escalate to a lead, confirm and reverse actions."""

import uuid
from typing import Annotated

from django.http import HttpRequest
from ninja import Router
from pydantic import Field

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.actions.selectors import action_get_for, action_get_for_platform
from safeguard.actions.services import action_confirm, action_reverse
from safeguard.audit.events import AuditSource
from safeguard.cases.deciding import case_decide, case_escalate_to_lead
from safeguard.cases.decisions import ActionKind, DecisionLabel, IndustryClass, Referral
from safeguard.cases.schemas import ActionOut, CaseOut, action_out, case_out
from safeguard.cases.selectors import case_get_for
from safeguard.core.fields import IDENTIFIER, STORABLE, ApiIn, Choice
from safeguard.core.openapi import answers

router = Router(tags=["decisions"])


Reason = Annotated[str, Field(min_length=1, max_length=10_000), STORABLE]
# A content item's id as the console and the API show it (a UUID, in any case).
ItemId = Annotated[str, Field(min_length=1, max_length=64), IDENTIFIER]


class DecisionIn(ApiIn):
    labels: Annotated[list[Choice[DecisionLabel]], Field(max_length=len(DecisionLabel))] = []
    item_labels: Annotated[dict[ItemId, Choice[IndustryClass]], Field(max_length=500)] = Field(
        default={}, description="content item id -> A1, A2, B1 or B2"
    )
    reason: Reason
    actions: Annotated[list[Choice[ActionKind]], Field(max_length=len(ActionKind))] = []
    referrals: Annotated[list[Choice[Referral]], Field(max_length=len(Referral))] = []


class EscalateIn(ApiIn):
    note: Reason
    proposed_labels: Annotated[
        list[Choice[DecisionLabel]], Field(max_length=len(DecisionLabel))
    ] = []


class ReverseIn(ApiIn):
    reason: Reason


@router.post(
    "/cases/{case_id}/decision",
    response=answers(CaseOut, 422),
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
    response=answers(CaseOut, 422),
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
    user = request.auth  # type: ignore[attr-defined]
    # Only actions addressed to the caller's own platform exist for it (404 otherwise).
    action = action_get_for_platform(user=user, action_id=action_id)
    return action_out(action_confirm(action=action, actor=user, source=AuditSource.API))


@router.post(
    "/actions/{action_id}/reverse",
    response=answers(ActionOut, 422),
    auth=requires(Permission.CASES_CASE_ASSIGN),
    summary="A lead reverses a confirmed action (restore, unban, unrestrict) with a reason",
)
def reverse(request: HttpRequest, action_id: uuid.UUID, payload: ReverseIn) -> ActionOut:
    user = request.auth  # type: ignore[attr-defined]
    # The same access as the case, and the same 404 whether the action is missing or unseen.
    action = action_get_for(user=user, action_id=action_id)
    return action_out(
        action_reverse(action=action, actor=user, reason=payload.reason, source=AuditSource.API)
    )
