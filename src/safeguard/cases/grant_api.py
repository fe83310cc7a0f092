"""Read-grant endpoints: a lead opens a queue or a case to an auditor for a while, or revokes it."""

import uuid
from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import AwareDatetime, Field, Strict, field_validator

from safeguard.accounts.auth import requires
from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.cases.grants import (
    MAX_REASON,
    GrantRefused,
    read_grant_active,
    read_grant_create,
    read_grant_get_for,
    read_grant_revoke,
    read_grants_for,
)
from safeguard.cases.models import Case, Queue, ReadGrant
from safeguard.cases.queues import QueueNotFound
from safeguard.cases.selectors import CaseNotFound
from safeguard.core.fields import IDENTIFIER, STORABLE, ApiIn, QueryIn
from safeguard.core.openapi import answers

router = Router(tags=["read grants"])


# The same bases as every other body and query of the API (`safeguard.core.fields`): strict
# types, unknown fields refused, no NUL anywhere (PostgreSQL text cannot hold one), identifiers
# free of invisible characters. A UUID and a time arrive as JSON strings, so they convert.
class GrantIn(ApiIn):
    grantee: Annotated[str, Field(min_length=1, max_length=150), IDENTIFIER] = Field(
        description="the auditor's username"
    )
    queue: Annotated[str, Field(max_length=64), IDENTIFIER] | None = Field(
        default=None, description="open every case of this queue"
    )
    case_id: Annotated[uuid.UUID, Strict(False)] | None = Field(
        default=None, description="or open this one case"
    )
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON), STORABLE]
    expires_at: Annotated[AwareDatetime, Strict(False)] = Field(description="at most 30 days ahead")

    @field_validator("expires_at", mode="before")
    @classmethod
    def _iso_text(cls, value: object) -> object:
        # Converted from text only: pydantic would also read a number as Unix time.
        if not isinstance(value, str):
            raise ValueError("must be an ISO-8601 date and time such as 2026-11-24T09:30:00Z")
        return value


class RevokeIn(ApiIn):
    reason: Annotated[str, Field(max_length=MAX_REASON), STORABLE] = ""


class GrantFilter(QueryIn):
    active: bool = False


class GrantOut(Schema):
    id: uuid.UUID
    grantee: str
    queue: str | None
    case_id: uuid.UUID | None
    granted_by: str
    reason: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    active: bool


def grant_out(grant: ReadGrant) -> GrantOut:
    return GrantOut(
        id=grant.pk,
        grantee=grant.grantee.username,
        queue=grant.queue.name if grant.queue else None,
        case_id=grant.case_id,
        granted_by=grant.granted_by.username,
        reason=grant.reason,
        created_at=grant.created_at,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
        revoked_by=grant.revoked_by.username if grant.revoked_by else None,
        active=read_grant_active(grant),
    )


@router.get(
    "/grants",
    response=list[GrantOut],
    auth=requires(Permission.CASES_GRANT_MANAGE, Permission.AUDIT_EVENT_READ),
    summary="Read grants to auditors, newest first (leads and auditors)",
)
def grant_list(request: HttpRequest, filters: Query[GrantFilter]) -> list[GrantOut]:
    grants = read_grants_for(user=request.auth, active_only=filters.active)  # type: ignore[attr-defined]
    return [grant_out(g) for g in grants[:500]]


@router.post(
    "/grants",
    response=answers({201: GrantOut}, 404, 422),
    auth=requires(Permission.CASES_GRANT_MANAGE),
    summary="A lead opens a queue or one case to an auditor until a time, with a reason",
)
def grant_create(request: HttpRequest, payload: GrantIn) -> Status[GrantOut]:
    actor = request.auth  # type: ignore[attr-defined]
    grantee = User.objects.filter(username=payload.grantee).first()
    if grantee is None:
        raise GrantRefused(f"no user {payload.grantee!r}")
    queue = case = None
    if payload.queue is not None:
        queue = Queue.objects.filter(name=payload.queue).first()
        if queue is None:
            raise QueueNotFound(payload.queue)
    if payload.case_id is not None:
        case = Case.objects.filter(pk=payload.case_id).first()
        if case is None:
            raise CaseNotFound(payload.case_id)
    grant = read_grant_create(
        grantee=grantee,
        actor=actor,
        reason=payload.reason,
        expires_at=payload.expires_at,
        queue=queue,
        case=case,
        source=AuditSource.API,
    )
    return Status(201, grant_out(read_grant_get_for(user=actor, grant_id=grant.pk)))


@router.post(
    "/grants/{grant_id}/revoke",
    response=answers(GrantOut, 422),
    auth=requires(Permission.CASES_GRANT_MANAGE),
    summary="End a read grant now",
)
def grant_revoke(
    request: HttpRequest, grant_id: uuid.UUID, payload: RevokeIn | None = None
) -> GrantOut:
    actor = request.auth  # type: ignore[attr-defined]
    grant = read_grant_get_for(user=actor, grant_id=grant_id)
    read_grant_revoke(
        grant=grant, actor=actor, source=AuditSource.API, reason=payload.reason if payload else ""
    )
    return grant_out(read_grant_get_for(user=actor, grant_id=grant_id))
