"""Queue and claim endpoints: claim the next case, renew or release, reassign, reprioritise."""

import uuid
from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Router, Schema
from ninja.responses import Status
from pydantic import Field

from safeguard.accounts.auth import requires
from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission, Role
from safeguard.audit.events import AuditSource
from safeguard.cases.queues import (
    MAX_LEASE,
    ClaimError,
    case_claim_release,
    case_claim_renew,
    case_reassign,
    lease_length,
    queue_claim_next,
    queue_get_for,
    queue_save,
)
from safeguard.cases.schemas import CaseOut, case_out
from safeguard.cases.selectors import case_get_for, queue_summaries_for
from safeguard.core.fields import IDENTIFIER, STORABLE, ApiIn, Choice
from safeguard.core.openapi import answers

router = Router(tags=["queues"])


# A queue's name as the triage policy writes it (lower-case letters, digits, '-' and '_').
QueueName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Username = Annotated[str, Field(min_length=1, max_length=150), IDENTIFIER]
Reason = Annotated[str, Field(min_length=1, max_length=10_000), STORABLE]


class ClaimIn(ApiIn):
    lease_seconds: Annotated[int, Field(ge=1, le=int(MAX_LEASE.total_seconds()))] | None = Field(
        default=None, description="default 600"
    )


class ReleaseIn(ApiIn):
    reason: Annotated[str, Field(max_length=10_000), STORABLE] = ""


class ReassignIn(ApiIn):
    to_user: Username | None = None
    to_queue: QueueName | None = None
    reason: Reason


class QueueIn(ApiIn):
    roles: Annotated[list[Choice[Role]], Field(max_length=len(Role))]
    description: Annotated[str, Field(max_length=300), STORABLE] = ""
    lead: Username | None = None


class QueueSummary(Schema):
    name: str
    description: str
    open_cases: int
    by_priority: dict[str, int]
    # Whether a P0 is waiting here: such queues are listed first and stand out.
    has_p0: bool
    oldest_opened_at: datetime | None
    at_risk: int
    breached: int
    # Open cases someone holds on a live claim right now.
    in_review: int


@router.get(
    "/queues",
    response=list[QueueSummary],
    auth=requires(Permission.CASES_CASE_REVIEW),
    summary="Queues the caller may work, with counts by priority and cases at risk",
)
def queue_list(request: HttpRequest) -> list[QueueSummary]:
    return [QueueSummary(**s) for s in queue_summaries_for(user=request.auth)]  # type: ignore[attr-defined]


@router.put(
    "/queues/{name}",
    response=answers(QueueSummary, 422),
    auth=requires(Permission.CASES_QUEUE_MANAGE),
    summary="Create or update a queue and who may work it",
)
def queue_put(request: HttpRequest, name: Path[QueueName], payload: QueueIn) -> QueueSummary:
    lead = None
    if payload.lead:
        lead = User.objects.filter(username=payload.lead, is_active=True).first()
        if lead is None:
            raise ClaimError(f"no active user {payload.lead!r}")
    queue_save(
        name=name,
        roles=payload.roles,
        description=payload.description,
        lead=lead,
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
    )
    summaries = {s["name"]: s for s in queue_summaries_for(user=None)}
    return QueueSummary(**summaries[name])


@router.post(
    "/queues/{name}/next",
    response=answers({200: CaseOut, 204: None}, 422),
    auth=requires(Permission.CASES_CASE_REVIEW),
    summary="Claim the most urgent case in the queue (204 when the queue is empty)",
)
def queue_next(
    request: HttpRequest, name: Path[QueueName], payload: ClaimIn | None = None
) -> Status[CaseOut | None]:
    user = request.auth  # type: ignore[attr-defined]
    queue = queue_get_for(user=user, name=name)
    lease = lease_length(payload.lease_seconds if payload else None)
    case = queue_claim_next(queue=queue, actor=user, lease=lease, source=AuditSource.API)
    if case is None:
        return Status(204, None)
    return Status(200, case_out(case_get_for(user=user, case_id=case.pk)))


@router.post(
    "/cases/{case_id}/claim/renew",
    response=answers(CaseOut, 409, 422),
    auth=requires(Permission.CASES_CASE_REVIEW),
    summary="Extend the caller's lease on a case",
)
def claim_renew(
    request: HttpRequest, case_id: uuid.UUID, payload: ClaimIn | None = None
) -> CaseOut:
    user = request.auth  # type: ignore[attr-defined]
    case = case_get_for(user=user, case_id=case_id)
    lease = lease_length(payload.lease_seconds if payload else None)
    case_claim_renew(case=case, actor=user, lease=lease, source=AuditSource.API)
    return case_out(case_get_for(user=user, case_id=case_id))


@router.post(
    "/cases/{case_id}/claim/release",
    response=answers(CaseOut, 409),
    auth=requires(Permission.CASES_CASE_REVIEW),
    summary="Give a claimed case back to its queue",
)
def claim_release(
    request: HttpRequest, case_id: uuid.UUID, payload: ReleaseIn | None = None
) -> CaseOut:
    user = request.auth  # type: ignore[attr-defined]
    case = case_get_for(user=user, case_id=case_id)
    case_claim_release(
        case=case, actor=user, source=AuditSource.API, reason=payload.reason if payload else ""
    )
    return case_out(case_get_for(user=user, case_id=case_id))


@router.post(
    "/cases/{case_id}/reassign",
    response=answers(CaseOut, 422),
    auth=requires(Permission.CASES_CASE_ASSIGN),
    summary="A lead moves a case to a person or another queue, with a reason",
)
def reassign(request: HttpRequest, case_id: uuid.UUID, payload: ReassignIn) -> CaseOut:
    user = request.auth  # type: ignore[attr-defined]
    case = case_get_for(user=user, case_id=case_id)
    to_user = None
    if payload.to_user:
        to_user = User.objects.filter(username=payload.to_user, is_active=True).first()
        if to_user is None:
            raise ClaimError(f"no active user {payload.to_user!r}")
    to_queue = None
    if payload.to_queue:
        from safeguard.cases.models import Queue

        to_queue = Queue.objects.filter(name=payload.to_queue).first()
        if to_queue is None:
            raise ClaimError(f"no queue {payload.to_queue!r}")
    case_reassign(
        case=case,
        actor=user,
        reason=payload.reason,
        to_user=to_user,
        to_queue=to_queue,
        source=AuditSource.API,
    )
    return case_out(case_get_for(user=user, case_id=case_id))
