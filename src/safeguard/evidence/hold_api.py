"""Legal-hold endpoints: place, extend, release and read holds; delete a content item's stored
media (refused under a hold); record and approve a lawful destruction request."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import AwareDatetime, Field, Strict, field_validator

from safeguard.accounts.auth import requires
from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.core.fields import IDENTIFIER, STORABLE, ApiIn, Choice, QueryIn
from safeguard.core.openapi import answers
from safeguard.evidence import deletion, holds
from safeguard.evidence.models import (
    ContentItem,
    ContentTombstone,
    DestructionRequest,
    HoldSource,
    HoldTarget,
    LegalHold,
)

router = Router(tags=["legal holds"])

REASON = Annotated[str, Field(min_length=1, max_length=holds.REASON_MAX), STORABLE]


def _iso_text(value: object) -> object:
    # Converted from text only: pydantic would also read a number as Unix time.
    if value is not None and not isinstance(value, str):
        raise ValueError("must be an ISO-8601 date and time such as 2027-03-01T00:00:00Z")
    return value


class HoldIn(ApiIn):
    target_type: Choice[HoldTarget] = Field(description="content, subject or case")
    target_id: Annotated[str, Field(min_length=1, max_length=64), IDENTIFIER] = Field(
        description="the content item's, subject's or case's id"
    )
    reason: REASON
    source: Choice[HoldSource] = Field(description="request, report or manual")
    source_reference: Annotated[str, Field(max_length=holds.REFERENCE_MAX), STORABLE] = Field(
        default="", description="the request's or report's id (required unless manual)"
    )
    ends_at: Annotated[AwareDatetime, Strict(False)] | None = Field(
        default=None, description="when the hold ends; none holds until released"
    )

    _ends = field_validator("ends_at", mode="before")(_iso_text)


class ExtendIn(ApiIn):
    ends_at: Annotated[AwareDatetime, Strict(False)] | None = Field(
        description="the new, later end; null holds until released"
    )
    reason: REASON

    _ends = field_validator("ends_at", mode="before")(_iso_text)


class ReleaseIn(ApiIn):
    reason: REASON


class HoldFilter(QueryIn):
    active: bool = False
    target_type: Choice[HoldTarget] | None = None
    target_id: Annotated[str, Field(max_length=64)] | None = None


class ExtensionOut(Schema):
    previous_ends_at: datetime | None
    ends_at: datetime | None
    reason: str
    extended_by: str | None
    extended_at: datetime


class HoldOut(Schema):
    id: uuid.UUID
    target_type: str
    target_id: str
    reason: str
    source: str
    source_reference: str
    placed_by: str | None
    placed_at: datetime
    ends_at: datetime | None
    state: str = Field(description="in force, ended or released")
    released_at: datetime | None
    released_by: str | None
    release_reason: str
    extensions: list[ExtensionOut]


def _name(user: User | None) -> str | None:
    return user.username if user is not None else None


def hold_out(hold: LegalHold) -> HoldOut:
    return HoldOut(
        id=hold.pk,
        target_type=hold.target_type,
        target_id=hold.target_id,
        reason=hold.reason,
        source=hold.source,
        source_reference=hold.source_reference,
        placed_by=_name(hold.placed_by),
        placed_at=hold.placed_at,
        ends_at=hold.ends_at,
        state=holds.hold_state(hold, timezone.now()),
        released_at=hold.released_at,
        released_by=_name(hold.released_by),
        release_reason=hold.release_reason,
        extensions=[
            ExtensionOut(
                previous_ends_at=e.previous_ends_at,
                ends_at=e.ends_at,
                reason=e.reason,
                extended_by=_name(e.extended_by),
                extended_at=e.extended_at,
            )
            for e in hold.extensions.all()
        ],
    )


@router.get(
    "/holds",
    response=list[HoldOut],
    auth=requires(Permission.EVIDENCE_HOLD_READ),
    summary="Legal holds, newest first (optionally only those in force, or on one target)",
)
def hold_list(request: HttpRequest, filters: Query[HoldFilter]) -> list[HoldOut]:
    found = holds.holds_list_for(
        user=request.auth,  # type: ignore[attr-defined]
        active_only=filters.active,
        target_type=filters.target_type,
        target_id=filters.target_id,
    )
    return [hold_out(h) for h in found[:500]]


@router.post(
    "/holds",
    response=answers({201: HoldOut}, 422),
    auth=requires(Permission.EVIDENCE_HOLD_MANAGE),
    summary="Place a legal hold on a content item, a subject or a case",
)
def hold_create(request: HttpRequest, payload: HoldIn) -> Status[HoldOut]:
    hold = holds.hold_place(
        target_type=payload.target_type,
        target_id=payload.target_id,
        reason=payload.reason,
        hold_source=payload.source,
        source_reference=payload.source_reference,
        ends_at=payload.ends_at,
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
    )
    return Status(201, hold_out(hold))


@router.get(
    "/holds/{hold_id}",
    response=HoldOut,
    auth=requires(Permission.EVIDENCE_HOLD_READ),
    summary="One legal hold, with its extensions",
)
def hold_detail(request: HttpRequest, hold_id: uuid.UUID) -> HoldOut:
    return hold_out(holds.hold_get_for(user=request.auth, hold_id=hold_id))  # type: ignore[attr-defined]


@router.post(
    "/holds/{hold_id}/extend",
    response=answers(HoldOut, 409, 422),
    auth=requires(Permission.EVIDENCE_HOLD_MANAGE),
    summary="Move a hold's end later (audited, kept in its history)",
)
def hold_extend(request: HttpRequest, hold_id: uuid.UUID, payload: ExtendIn) -> HoldOut:
    actor = request.auth  # type: ignore[attr-defined]
    hold = holds.hold_extend(
        hold=holds.hold_get_for(user=actor, hold_id=hold_id),
        ends_at=payload.ends_at,
        reason=payload.reason,
        actor=actor,
        source=AuditSource.API,
    )
    return hold_out(holds.hold_get_for(user=actor, hold_id=hold.pk))


@router.post(
    "/holds/{hold_id}/release",
    response=answers(HoldOut, 409, 422),
    auth=requires(Permission.EVIDENCE_HOLD_MANAGE),
    summary="Release a hold now, with a reason",
)
def hold_release(request: HttpRequest, hold_id: uuid.UUID, payload: ReleaseIn) -> HoldOut:
    actor = request.auth  # type: ignore[attr-defined]
    hold = holds.hold_release(
        hold=holds.hold_get_for(user=actor, hold_id=hold_id),
        reason=payload.reason,
        actor=actor,
        source=AuditSource.API,
    )
    return hold_out(holds.hold_get_for(user=actor, hold_id=hold.pk))


@router.get(
    "/content/{content_id}/holds",
    response=list[HoldOut],
    auth=requires(Permission.EVIDENCE_HOLD_READ),
    summary="The holds in force over one content item (its own, its cases' and subjects')",
)
def content_holds(request: HttpRequest, content_id: uuid.UUID) -> list[HoldOut]:
    if not ContentItem.objects.filter(pk=content_id).exists():
        raise deletion.ContentNotFound(content_id)
    found = holds.holds_covering(content_ids=[content_id])
    return [hold_out(h) for h in found.get(content_id, [])]


class DeleteIn(ApiIn):
    reason: REASON
    parts: list[Choice[deletion.ContentPart]] = Field(
        default_factory=lambda: sorted(deletion.ContentPart),
        min_length=1,
        max_length=len(deletion.ContentPart),
        description="what to delete: media (the bytes and their previews), text; both by default",
    )


class TombstoneOut(Schema):
    content_id: uuid.UUID
    kind: str
    deleted_at: datetime
    deleted_by: str | None
    reason: str
    media_sha256: str
    text_sha256: str
    vault_removed: list[str]


def tombstone_out(tombstone: ContentTombstone) -> TombstoneOut:
    return TombstoneOut(
        content_id=tombstone.content_id,
        kind=tombstone.kind,
        deleted_at=tombstone.deleted_at,
        deleted_by=_name(tombstone.deleted_by),
        reason=tombstone.reason,
        media_sha256=tombstone.media_sha256,
        text_sha256=tombstone.text_sha256,
        vault_removed=list(tombstone.vault_removed),
    )


# A POST that creates the deletion's record (the item stays, as a tombstone), not a DELETE of
# /content/{id}/media: that path belongs to the upload's router, and a second router's view of
# the same path would never be reached.
@router.post(
    "/content/{content_id}/deletion",
    response=answers({201: TombstoneOut}, 409, 422),
    auth=requires(Permission.EVIDENCE_CONTENT_DELETE),
    summary="Delete what is stored of a content item (409 naming every hold, if any covers it)",
)
def content_deletion(
    request: HttpRequest, content_id: uuid.UUID, payload: DeleteIn
) -> Status[TombstoneOut]:
    tombstone = deletion.content_delete(
        content_id=content_id,
        reason=payload.reason,
        parts=frozenset(payload.parts),
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
    )
    return Status(201, tombstone_out(tombstone))


class DestructionIn(ApiIn):
    content_ids: list[Annotated[uuid.UUID, Strict(False)]] = Field(
        min_length=1, max_length=deletion.DESTRUCTION_MAX_ITEMS
    )
    request_reference: Annotated[str, Field(min_length=1, max_length=200), STORABLE] = Field(
        description="the law-enforcement request or document asking for destruction"
    )
    agency: Annotated[str, Field(min_length=1, max_length=200), STORABLE]
    reason: REASON


class DestructionOut(Schema):
    id: uuid.UUID
    request_reference: str
    agency: str
    reason: str
    content_ids: list[uuid.UUID]
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None


def destruction_out(request: DestructionRequest) -> DestructionOut:
    return DestructionOut(
        id=request.pk,
        request_reference=request.request_reference,
        agency=request.agency,
        reason=request.reason,
        content_ids=sorted(c.pk for c in request.content.all()),
        requested_by=request.requested_by.username,
        requested_at=request.requested_at,
        approved_by=_name(request.approved_by),
        approved_at=request.approved_at,
    )


@router.get(
    "/destructions",
    response=list[DestructionOut],
    auth=requires(Permission.EVIDENCE_CONTENT_DESTROY),
    summary="Destruction requests, newest first",
)
def destruction_list(request: HttpRequest) -> list[DestructionOut]:
    return [destruction_out(d) for d in deletion.destructions_for(user=request.auth)]  # type: ignore[attr-defined]


@router.post(
    "/destructions",
    response=answers({201: DestructionOut}, 422),
    auth=requires(Permission.EVIDENCE_CONTENT_DESTROY),
    summary="Record a law-enforcement request to destroy content (a second person approves)",
)
def destruction_create(request: HttpRequest, payload: DestructionIn) -> Status[DestructionOut]:
    recorded = deletion.destruction_request_record(
        content_ids=payload.content_ids,
        request_reference=payload.request_reference,
        agency=payload.agency,
        reason=payload.reason,
        actor=request.auth,  # type: ignore[attr-defined]
        source=AuditSource.API,
    )
    return Status(201, destruction_out(recorded))


class DestroyedOut(Schema):
    destruction: DestructionOut
    destroyed: list[TombstoneOut]


@router.post(
    "/destructions/{destruction_id}/approve",
    response=answers(DestroyedOut, 409),
    auth=requires(Permission.EVIDENCE_CONTENT_DESTROY),
    summary="A second legal person approves a destruction: the content is destroyed at once, "
    "even under hold",
)
def destruction_approve(request: HttpRequest, destruction_id: uuid.UUID) -> DestroyedOut:
    actor = request.auth  # type: ignore[attr-defined]
    recorded = deletion.destruction_get_for(user=actor, request_id=destruction_id)
    tombstones = deletion.destruction_approve(request=recorded, actor=actor, source=AuditSource.API)
    return DestroyedOut(
        destruction=destruction_out(
            deletion.destruction_get_for(user=actor, request_id=recorded.pk)
        ),
        destroyed=[tombstone_out(t) for t in tombstones],
    )
