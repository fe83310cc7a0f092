"""Triage endpoints: read and replace the live policy, upload a draft or a shadow and promote it,
explain an escalation without saving it."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router
from pydantic import BaseModel, Field

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission, Role
from safeguard.audit.events import AuditSource
from safeguard.cases.queue_api import Reason
from safeguard.cases.schemas import CaseOut, case_out
from safeguard.cases.selectors import case_get_for
from safeguard.cases.workflow import Priority
from safeguard.core.fields import STORABLE, ApiIn, Choice
from safeguard.core.openapi import answers
from safeguard.core.versioned import version_described
from safeguard.intake.schemas import EscalationIn
from safeguard.triage.explain import explain_result
from safeguard.triage.lifecycle import policy_promote, policy_shadow, policy_upload
from safeguard.triage.models import PolicyStatus, TriagePolicy
from safeguard.triage.policy import MAX_POLICY_BYTES
from safeguard.triage.services import (
    case_priority_override,
    default_policy_source,
    policy_active,
)

router = Router(tags=["triage"])


class PriorityIn(ApiIn):
    priority: Choice[Priority]
    reason: Reason


class PolicyIn(ApiIn):
    # Bounded here so an oversized document is refused before the YAML reader sees it; the
    # reader bounds it again in bytes for callers other than the API.
    source: Annotated[str, Field(min_length=1, max_length=MAX_POLICY_BYTES), STORABLE] = Field(
        description="the policy YAML document"
    )
    status: Choice[PolicyStatus] = Field(
        default=PolicyStatus.LIVE,
        description="live (the default: it decides from now on), shadow (evaluated beside the "
        "live policy, never acted on; replaces the previous shadow) or draft (only stored)",
    )


class PromoteIn(ApiIn):
    reason: Reason


class PolicyOut(BaseModel):
    version: str
    status: str
    source: str
    built_in: bool
    uploaded_by: str | None
    uploaded_at: datetime | None


@router.get(
    "/triage/policy",
    response=PolicyOut,
    auth=requires(Permission.TRIAGE_POLICY_READ),
    summary="The triage policy in force",
)
def policy_get(request: HttpRequest) -> PolicyOut:
    record = TriagePolicy.objects.select_related("uploaded_by").filter(active=True).first()
    return PolicyOut(
        **version_described(
            record,
            built_in_version=policy_active().version,
            built_in_source=default_policy_source(),
        ),
        status=PolicyStatus.LIVE,
    )


def _described(record: TriagePolicy) -> PolicyOut:
    return PolicyOut(
        **version_described(record, built_in_version="", built_in_source=""),
        status=record.status,
    )


@router.put(
    "/triage/policy",
    response=answers(PolicyOut, 409, 422),
    auth=requires(Permission.TRIAGE_POLICY_MANAGE),
    summary="Upload a policy, live by default (or as the shadow, or a draft); every rule is "
    "compiled first and a bad one changes nothing",
)
def policy_put(request: HttpRequest, payload: PolicyIn) -> PolicyOut:
    record = policy_upload(
        source_text=payload.source,
        status=payload.status,
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
    )
    return _described(record)


@router.post(
    "/triage/policies/{version}/shadow",
    response=answers(PolicyOut, 404, 409),
    auth=requires(Permission.TRIAGE_POLICY_MANAGE),
    summary="Make an uploaded version the shadow policy (the previous shadow becomes a draft)",
)
def policy_shadow_post(request: HttpRequest, version: str) -> PolicyOut:
    record = policy_shadow(version=version, actor=request.auth, source=AuditSource.API)  # type: ignore[attr-defined]
    return _described(record)


@router.post(
    "/triage/policies/{version}/promote",
    response=answers(PolicyOut, 404, 409, 422),
    auth=requires(Permission.TRIAGE_POLICY_MANAGE),
    summary="Make an uploaded version live, with a reason (the old live version becomes a draft)",
)
def policy_promote_post(request: HttpRequest, version: str, payload: PromoteIn) -> PolicyOut:
    record = policy_promote(
        version=version,
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
        reason=payload.reason,
    )
    return _described(record)


@router.post(
    "/triage/explain",
    response=dict[str, Any],
    auth=requires(Permission.TRIAGE_POLICY_READ),
    summary="What the policy in force would decide for an escalation; nothing is saved",
)
def explain(request: HttpRequest, payload: EscalationIn) -> dict[str, Any]:
    from django.utils import timezone

    user = request.auth  # type: ignore[attr-defined]
    return explain_result(
        payload,
        timezone.now(),
        policy=policy_active(),
        le_partner=getattr(user, "role", "") == Role.LE_PARTNER,
        history=True,
    )


@router.post(
    "/cases/{case_id}/priority",
    response=answers(CaseOut, 422),
    auth=requires(Permission.CASES_CASE_PRIORITIZE),
    summary="Override a case's priority (up or down) with a reason",
)
def priority_override(request: HttpRequest, case_id: uuid.UUID, payload: PriorityIn) -> CaseOut:
    user = request.auth  # type: ignore[attr-defined]
    case = case_get_for(user=user, case_id=case_id)
    case_priority_override(
        case=case,
        priority=payload.priority,
        actor=user,
        reason=payload.reason,
        source=AuditSource.API,
    )
    return case_out(case_get_for(user=user, case_id=case_id))
