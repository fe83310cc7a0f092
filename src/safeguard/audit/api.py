"""Audit endpoints: read events, verify the log, prove an event, the newest checkpoint."""

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router
from pydantic import BaseModel, Field

from safeguard.accounts.auth import requires
from safeguard.accounts.permissions import Permission
from safeguard.audit.models import TARGET_ID_MAX_LENGTH
from safeguard.audit.selectors import (
    audit_event_proof,
    audit_events_for,
    audit_latest_checkpoint,
    audit_log_verify,
)
from safeguard.core.fields import IDENTIFIER, MAX_DB_ID, DbId, QueryIn
from safeguard.core.openapi import answers

router = Router(tags=["audit"])


class AuditEventOut(BaseModel):
    id: int
    # The event's place in the Merkle tree; null for the second or so until it is sequenced.
    leaf_index: int | None
    created_at: datetime
    event_type: str
    actor: str
    source: str
    target_type: str
    target_id: str
    data: dict[str, Any]
    payload_sha256: str


class AuditFilter(QueryIn):
    target_type: Annotated[str, Field(max_length=64), IDENTIFIER] | None = None
    target_id: Annotated[str, Field(max_length=TARGET_ID_MAX_LENGTH), IDENTIFIER] | None = None
    after_id: int = Field(default=0, ge=0, le=MAX_DB_ID)
    limit: int = Field(default=100, ge=1, le=1000)


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    tree_size: int
    root: str
    checkpoints: int
    problem: str | None
    problem_kind: str | None
    problem_event_id: int | None
    problem_leaf_index: int | None


class ProofOut(BaseModel):
    format: str
    event: dict[str, Any]
    leaf_index: int
    tree_size: int
    inclusion_proof: list[str]
    checkpoint: str


class CheckpointOut(BaseModel):
    size: int
    root: str
    checkpoint: str
    public_key: str


@router.get(
    "/audit/events",
    response=list[AuditEventOut],
    auth=requires(Permission.AUDIT_EVENT_READ),
    summary="Audit events in the order they were written",
)
def audit_events(request: HttpRequest, filters: Query[AuditFilter]) -> list[AuditEventOut]:
    events = audit_events_for(
        user=request.auth,  # type: ignore[attr-defined]
        target_type=filters.target_type,
        target_id=filters.target_id,
    ).filter(id__gt=filters.after_id)[: filters.limit]
    return [
        AuditEventOut(
            id=e.pk,
            leaf_index=e.leaf_index,
            created_at=e.created_at,
            event_type=e.event_type,
            actor=e.actor_label,
            source=e.source,
            target_type=e.target_type,
            target_id=e.target_id,
            data=e.data,
            payload_sha256=e.payload_sha256,
        )
        for e in events
    ]


@router.get(
    "/audit/verify",
    response=VerifyOut,
    auth=requires(Permission.AUDIT_CHAIN_VERIFY),
    summary="Recompute the audit tree, check every checkpoint, name the first tampered event",
)
def audit_verify(request: HttpRequest) -> VerifyOut:
    result = audit_log_verify()
    problem = result.problem
    return VerifyOut(
        ok=result.ok,
        checked=result.checked,
        tree_size=result.size,
        root=result.root.hex(),
        checkpoints=result.checkpoints,
        problem=problem.message if problem else None,
        problem_kind=problem.kind.value if problem else None,
        problem_event_id=problem.event_id if problem else None,
        problem_leaf_index=problem.leaf_index if problem else None,
    )


@router.get(
    "/audit/events/{event_id}/proof",
    response=answers(ProofOut, 404, 409),
    auth=requires(Permission.AUDIT_EVENT_READ),
    summary="A self-contained inclusion proof of one event, with the signed checkpoint",
)
def audit_proof(request: HttpRequest, event_id: Path[DbId]) -> ProofOut:
    return ProofOut(**audit_event_proof(event_id=event_id))


@router.get(
    "/audit/checkpoint",
    response=answers(CheckpointOut, 409),
    auth=requires(Permission.AUDIT_CHAIN_VERIFY),
    summary="The newest signed checkpoint and the public key that verifies it",
)
def audit_checkpoint(request: HttpRequest) -> CheckpointOut:
    return CheckpointOut(**audit_latest_checkpoint())
