"""Audit endpoints: read events, verify the chain."""

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import BaseModel, Field

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.models import TARGET_ID_MAX_LENGTH
from safeguard.audit.selectors import audit_chain_verify, audit_events_for
from safeguard.core.fields import IDENTIFIER, MAX_DB_ID, QueryIn

router = Router(tags=["audit"])


class AuditEventOut(BaseModel):
    seq: int
    created_at: datetime
    event_type: str
    actor: str
    source: str
    target_type: str
    target_id: str
    data: dict[str, Any]
    hash: str


class AuditFilter(QueryIn):
    target_type: Annotated[str, Field(max_length=64), IDENTIFIER] | None = None
    target_id: Annotated[str, Field(max_length=TARGET_ID_MAX_LENGTH), IDENTIFIER] | None = None
    after_seq: int = Field(default=0, ge=0, le=MAX_DB_ID)
    limit: int = Field(default=100, ge=1, le=1000)


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    problem: str | None
    problem_kind: str | None
    problem_seq: int | None


@router.get(
    "/audit/events",
    response=list[AuditEventOut],
    auth=requires(Permission.AUDIT_EVENT_READ),
    summary="Audit events in chain order",
)
def audit_events(request: HttpRequest, filters: Query[AuditFilter]) -> list[AuditEventOut]:
    events = audit_events_for(
        user=request.auth,  # type: ignore[attr-defined]
        target_type=filters.target_type,
        target_id=filters.target_id,
    ).filter(seq__gt=filters.after_seq)[: filters.limit]
    return [
        AuditEventOut(
            seq=e.seq,
            created_at=e.created_at,
            event_type=e.event_type,
            actor=e.actor_label,
            source=e.source,
            target_type=e.target_type,
            target_id=e.target_id,
            data=e.data,
            hash=e.hash,
        )
        for e in events
    ]


@router.get(
    "/audit/verify",
    response=VerifyOut,
    auth=requires(Permission.AUDIT_CHAIN_VERIFY),
    summary="Walk the whole audit chain and report the first tampered event",
)
def audit_verify(request: HttpRequest) -> VerifyOut:
    result = audit_chain_verify()
    problem = result.problem
    return VerifyOut(
        ok=result.ok,
        checked=result.checked,
        problem=problem.message if problem else None,
        problem_kind=problem.kind.value if problem else None,
        problem_seq=problem.seq if problem else None,
    )
