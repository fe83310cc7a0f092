"""Deleting stored evidence: by a person (API, console, CLI), by the retention job, and the one
path that overrides a hold, destruction on a lawful request approved by a second legal person.

Every path goes through `_erase`: the items are locked, the hold check (or an approved
destruction) issues the vault's clearance, the item rows stay as tombstones that record the
hashes that were there, the audit event records hashes and never content, and the vault files
are removed only once that transaction has committed.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.core.errors import Conflict, Forbidden, Invalid, NotFound
from safeguard.evidence import holds
from safeguard.evidence.models import (
    Blob,
    ContentItem,
    ContentTombstone,
    DeletionKind,
    DestructionRequest,
)
from safeguard.evidence.store import vault
from safeguard.evidence.vault import DeletionClearance

REASON_MAX = 2000
FIELD_MAX = 200
DESTRUCTION_MAX_ITEMS = 500
DESTRUCTION_TARGET = "destruction"
SWEEP_MIN_AGE_SECONDS = 3600


class ContentPart(StrEnum):
    """What of a content item is stored and can be deleted."""

    MEDIA = "media"  # the bytes in the vault, with their renditions
    TEXT = "text"  # the text kept on the item (a message thread's messages, a caption)


ALL_PARTS = frozenset(ContentPart)


class DeletionInvalid(Invalid):
    """A deletion asked for without what it needs (a reason, a known part)."""


class NothingToDelete(Conflict):
    """The item holds none of what was asked to be deleted (already deleted, or never stored)."""


class DeletionForbidden(Forbidden):
    """The person lacks the permission this deletion needs."""


class ContentNotFound(NotFound):
    def __init__(self, content_id: object) -> None:
        super().__init__(f"no content {content_id}")


class DestructionNotFound(NotFound):
    def __init__(self, request_id: object) -> None:
        super().__init__(f"no destruction request {request_id}")


class DestructionConflict(Conflict):
    """A destruction request already approved."""


class SecondApproverRequired(Forbidden):
    """The person who recorded a destruction request cannot also approve it."""


def _require(actor: User | None, permission: Permission) -> None:
    if actor is not None and not actor.has_permission(permission):
        raise DeletionForbidden(
            f"{actor.username} ({actor.role or 'no role'}) lacks {permission.value}"
        )


def _text(value: str, field: str, limit: int = REASON_MAX) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise DeletionInvalid(f"{field} is required")
    if len(cleaned) > limit:
        raise DeletionInvalid(f"{field} is at most {limit} characters")
    return cleaned


def parts_of(values: Iterable[str]) -> frozenset[ContentPart]:
    """Parse part names ("media", "text"); an unknown name is refused with the known ones."""
    parsed = set()
    for value in values:
        try:
            parsed.add(ContentPart(value))
        except ValueError:
            known = ", ".join(p.value for p in ContentPart)
            raise DeletionInvalid(f"unknown content part {value!r}; one of {known}") from None
    if not parsed:
        raise DeletionInvalid("name at least one part to delete: media, text")
    return frozenset(parsed)


@dataclass(frozen=True)
class _Erasure:
    item: ContentItem
    media_sha256: str
    text_sha256: str
    # Vault objects that go with this item: its media and renditions, when no item that
    # remains still references them.
    removes: tuple[str, ...]


def _erasures(
    items: list[ContentItem], parts: frozenset[ContentPart]
) -> tuple[list[_Erasure], set[str]]:
    """What deleting `parts` of `items` erases, and which vault objects may go with them.

    Bytes are content-addressed: one blob can be the media of several items, and a rendition
    could equal another blob's rendition or even another item's media. An object goes only when
    nothing that stays references it.
    """
    ids = [i.pk for i in items]
    leaving: set[str] = set()
    if ContentPart.MEDIA in parts:
        for blob_id in {i.blob_id for i in items if i.blob_id}:
            kept = ContentItem.objects.filter(blob_id=blob_id).exclude(pk__in=ids).exists()
            if not kept:
                leaving.add(blob_id)
    blobs = {b.sha256: b for b in Blob.objects.filter(sha256__in=leaving)}
    candidates = set(leaving)
    for blob in blobs.values():
        candidates.update(a for a in (blob.thumbnail_sha256, blob.display_sha256) if a)
    # A candidate is still needed by a blob that stays (as its media or a rendition).
    needed = set(
        Blob.objects.exclude(sha256__in=leaving)
        .filter(
            Q(sha256__in=candidates)
            | Q(thumbnail_sha256__in=candidates)
            | Q(display_sha256__in=candidates)
        )
        .values_list("sha256", "thumbnail_sha256", "display_sha256")
    )
    still = {a for row in needed for a in row} & candidates
    removable = candidates - still
    erasures = []
    for item in items:
        media = item.blob_id if ContentPart.MEDIA in parts and item.blob_id else ""
        text = (
            hashlib.sha256(item.text.encode("utf-8")).hexdigest()
            if ContentPart.TEXT in parts and item.text
            else ""
        )
        removes: list[str] = []
        if media in leaving:
            blob = blobs[media]
            removes = [
                a
                for a in (media, blob.thumbnail_sha256, blob.display_sha256)
                if a and a in removable
            ]
        erasures.append(_Erasure(item, media, text, tuple(dict.fromkeys(removes))))
    return erasures, removable


def _remove_after_commit(addresses: Collection[str], clearance: DeletionClearance) -> None:
    """Remove the files once the deletion is committed: a rolled-back deletion keeps its bytes.
    A crash between the commit and the unlink leaves a file nothing references, which
    `vault_sweep` (run by every retention run) removes."""
    if not addresses:
        return
    store = vault()
    ordered = sorted(addresses)

    def remove() -> None:
        for address in ordered:
            store.delete(address, clearance=clearance)

    transaction.on_commit(remove, robust=False)


def _erase(
    *,
    items: list[ContentItem],
    parts: frozenset[ContentPart],
    kind: DeletionKind,
    reason: str,
    actor: User | None,
    source: AuditSource,
    event_type: AuditEventType,
    now: datetime,
    clear: Any,
    extra: Mapping[uuid.UUID, Mapping[str, Any]] | None = None,
    destruction: DestructionRequest | None = None,
) -> list[ContentTombstone]:
    """Erase `parts` of the locked `items` in the caller's transaction. `clear(content_ids,
    addresses)` is the hold check (or the destruction's override) that issues the clearance;
    it raises, and so changes nothing, when a hold stands in the way."""
    erasures, removable = _erasures(items, parts)
    clearance: DeletionClearance = clear([e.item.pk for e in erasures], removable)
    tombstones = []
    for erasure in erasures:
        item = erasure.item
        fields = []
        if erasure.media_sha256:
            item.blob = None
            fields.append("blob")
        if erasure.text_sha256:
            item.text = ""
            fields.append("text")
        item.save(update_fields=fields)
        tombstone = ContentTombstone.objects.create(
            content=item,
            kind=kind,
            deleted_at=now,
            deleted_by=actor,
            reason=reason,
            media_sha256=erasure.media_sha256,
            text_sha256=erasure.text_sha256,
            vault_removed=list(erasure.removes),
            destruction=destruction,
        )
        tombstones.append(tombstone)
        audit_record(
            event_type=event_type,
            actor=actor,
            source=source,
            target_type="content",
            target_id=item.pk,
            data={
                "kind": kind.value,
                "media_sha256": erasure.media_sha256,
                "text_sha256": erasure.text_sha256,
                "vault_removed": list(erasure.removes),
                "reason": reason,
                "tombstone": tombstone.pk,
                **dict((extra or {}).get(item.pk, {})),
            },
        )
    # The blob rows that no item references any more describe bytes that are gone.
    Blob.objects.filter(sha256__in=removable).delete()
    _remove_after_commit(removable, clearance)
    return tombstones


def _has(item: ContentItem, parts: frozenset[ContentPart]) -> bool:
    return (ContentPart.MEDIA in parts and item.blob_id is not None) or (
        ContentPart.TEXT in parts and bool(item.text)
    )


def _hold_check(now: datetime) -> Any:
    def clear(content_ids: Collection[uuid.UUID], addresses: Iterable[str]) -> DeletionClearance:
        return holds.deletion_clearance(content_ids=content_ids, addresses=addresses, now=now)

    return clear


def content_delete(
    *,
    content_id: uuid.UUID,
    reason: str,
    actor: User,
    source: AuditSource,
    parts: frozenset[ContentPart] = ALL_PARTS,
) -> ContentTombstone:
    """A legal person deletes what is stored of one content item (its media, its text, or
    both). Refused, with every hold named and nothing changed, while any hold covers it."""
    _require(actor, Permission.EVIDENCE_CONTENT_DELETE)
    cleaned = _text(reason, "reason")
    now = timezone.now()
    with transaction.atomic():
        item = ContentItem.objects.select_for_update().filter(pk=content_id).first()
        if item is None:
            raise ContentNotFound(content_id)
        if not _has(item, parts):
            names = " or ".join(sorted(p.value for p in parts))
            raise NothingToDelete(f"content {content_id} has no stored {names} to delete")
        [tombstone] = _erase(
            items=[item],
            parts=parts,
            kind=DeletionKind.MANUAL,
            reason=cleaned,
            actor=actor,
            source=source,
            event_type=AuditEventType.CONTENT_DELETED,
            now=now,
            clear=_hold_check(now),
        )
    return tombstone


def content_retention_delete(
    *,
    content_id: uuid.UUID,
    parts: frozenset[ContentPart],
    reason: str,
    rule: Mapping[str, Any],
    now: datetime,
    source: AuditSource,
) -> ContentTombstone | None:
    """The retention job deletes `parts` of one item past its period. None when the item no
    longer holds them; raises ContentHeld when a hold now covers it (the job counts it as kept).
    Its own transaction, so one item's refusal never undoes another's deletion."""
    with transaction.atomic():
        item = ContentItem.objects.select_for_update().filter(pk=content_id).first()
        if item is None or not _has(item, parts):
            return None
        [tombstone] = _erase(
            items=[item],
            parts=parts,
            kind=DeletionKind.RETENTION,
            reason=reason,
            actor=None,
            source=source,
            event_type=AuditEventType.CONTENT_RETENTION_DELETED,
            now=now,
            clear=_hold_check(now),
            extra={item.pk: {"rule": dict(rule)}},
        )
    return tombstone


# --- destruction on a lawful request (18 U.S.C. §2258B(c)) ------------------------------------


def destruction_request_record(
    *,
    content_ids: Collection[uuid.UUID],
    request_reference: str,
    agency: str,
    reason: str,
    actor: User,
    source: AuditSource,
) -> DestructionRequest:
    """A legal person records a law-enforcement request to destroy named content. Nothing is
    destroyed until a different legal person approves it (`destruction_approve`)."""
    _require(actor, Permission.EVIDENCE_CONTENT_DESTROY)
    reference = _text(request_reference, "request_reference", FIELD_MAX)
    agency_name = _text(agency, "agency", FIELD_MAX)
    cleaned = _text(reason, "reason")
    wanted = list(dict.fromkeys(content_ids))
    if not wanted:
        raise DeletionInvalid("name at least one content item to destroy")
    if len(wanted) > DESTRUCTION_MAX_ITEMS:
        raise DeletionInvalid(f"a destruction request names at most {DESTRUCTION_MAX_ITEMS} items")
    now = timezone.now()
    with transaction.atomic():
        found = {i.pk: i for i in ContentItem.objects.select_for_update().filter(pk__in=wanted)}
        missing = [str(c) for c in wanted if c not in found]
        if missing:
            raise DeletionInvalid(f"no content {', '.join(missing)}")
        request = DestructionRequest.objects.create(
            request_reference=reference,
            agency=agency_name,
            reason=cleaned,
            requested_by=actor,
            requested_at=now,
        )
        request.content.set(found.values())
        held = holds.holds_covering(content_ids=wanted, now=now)
        audit_record(
            event_type=AuditEventType.DESTRUCTION_REQUESTED,
            actor=actor,
            source=source,
            target_type=DESTRUCTION_TARGET,
            target_id=request.pk,
            data={
                "request_reference": reference,
                "agency": agency_name,
                "reason": cleaned,
                "content": [str(c) for c in wanted],
                "held": {str(c): [str(h.pk) for h in hs] for c, hs in held.items()},
            },
        )
    return request


def destruction_get_for(*, user: User, request_id: uuid.UUID) -> DestructionRequest:
    """A destruction request, for a person holding EVIDENCE_CONTENT_DESTROY."""
    if not user.has_permission(Permission.EVIDENCE_CONTENT_DESTROY):
        raise DestructionNotFound(request_id)
    request = (
        DestructionRequest.objects.select_related("requested_by", "approved_by")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise DestructionNotFound(request_id)
    return request


def destructions_for(*, user: User) -> list[DestructionRequest]:
    if not user.has_permission(Permission.EVIDENCE_CONTENT_DESTROY):
        return []
    return list(
        DestructionRequest.objects.select_related("requested_by", "approved_by")
        .prefetch_related("content")
        .order_by("-requested_at")[:200]
    )


def destruction_approve(
    *, request: DestructionRequest, actor: User, source: AuditSource
) -> list[ContentTombstone]:
    """A second legal person approves a recorded destruction request; the named content's bytes
    and text are then destroyed at once, holds notwithstanding: the one audited path that
    overrides a hold."""
    _require(actor, Permission.EVIDENCE_CONTENT_DESTROY)
    now = timezone.now()
    with transaction.atomic():
        locked = DestructionRequest.objects.select_for_update().get(pk=request.pk)
        if locked.approved_at is not None:
            raise DestructionConflict(
                f"destruction {locked.pk} was already approved at {locked.approved_at.isoformat()}"
            )
        if locked.requested_by_id == actor.pk:
            raise SecondApproverRequired(
                f"{actor.username} recorded destruction {locked.pk} and cannot also approve it: "
                "a different person with the legal role must approve"
            )
        locked.approved_by = actor
        locked.approved_at = now
        locked.save(update_fields=["approved_by", "approved_at"])
        ids = list(locked.content.values_list("pk", flat=True))
        items = list(ContentItem.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        held = holds.holds_covering(content_ids=ids, now=now)
        present = [i for i in items if _has(i, ALL_PARTS)]
        audit_record(
            event_type=AuditEventType.DESTRUCTION_APPROVED,
            actor=actor,
            source=source,
            target_type=DESTRUCTION_TARGET,
            target_id=locked.pk,
            data={
                "requested_by": locked.requested_by.label,
                "request_reference": locked.request_reference,
                "content": [str(c) for c in ids],
                "destroyed": [str(i.pk) for i in present],
                "overrode_holds": sorted({str(h.pk) for hs in held.values() for h in hs}),
            },
        )

        def clear(_ids: Collection[uuid.UUID], addresses: Iterable[str]) -> DeletionClearance:
            return holds.destruction_clearance(request=locked, addresses=addresses)

        tombstones = _erase(
            items=present,
            parts=ALL_PARTS,
            kind=DeletionKind.DESTRUCTION,
            reason=f"destroyed on request {locked.request_reference} ({locked.agency}): "
            f"{locked.reason}",
            actor=actor,
            source=source,
            event_type=AuditEventType.CONTENT_DELETED,
            now=now,
            clear=clear,
            extra={
                i.pk: {
                    "destruction": str(locked.pk),
                    "overrode_holds": [str(h.pk) for h in held.get(i.pk, [])],
                }
                for i in present
            },
            destruction=locked,
        )
    return tombstones


def vault_sweep() -> int:
    """Remove vault files that a committed deletion left behind (a crash between its commit and
    the unlink): media a tombstone records whose blob row is gone. Returns how many."""
    recorded = set(
        ContentTombstone.objects.exclude(media_sha256="").values_list("media_sha256", flat=True)
    )
    renditions: set[str] = set()
    for removed in ContentTombstone.objects.exclude(vault_removed=[]).values_list(
        "vault_removed", flat=True
    ):
        renditions.update(removed)
    candidates = recorded | renditions
    if not candidates:
        return 0
    referenced = Blob.objects.filter(
        Q(sha256__in=candidates)
        | Q(thumbnail_sha256__in=candidates)
        | Q(display_sha256__in=candidates)
    ).values_list("sha256", "thumbnail_sha256", "display_sha256")
    still = {a for row in referenced for a in row}
    store = vault()
    # A file younger than this may be an upload whose blob row has not committed yet.
    settled = time.time() - SWEEP_MIN_AGE_SECONDS
    leftover = sorted(
        a for a in candidates - still if store.exists(a) and store.path(a).stat().st_mtime < settled
    )
    if not leftover:
        return 0
    with transaction.atomic():
        clearance = holds.orphan_clearance(addresses=leftover)
        _remove_after_commit(leftover, clearance)
    return len(leftover)
