"""Writes for evidence: storing a content item's media bytes in the vault."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.core.errors import Conflict, Invalid
from safeguard.core.tasks import enqueue
from safeguard.evidence import hooks, tasks
from safeguard.evidence.enums import MEDIA_KINDS
from safeguard.evidence.models import (
    Blob,
    ContentItem,
    ContentTombstone,
    DeletionKind,
    RenderState,
)
from safeguard.evidence.sniff import sniff
from safeguard.evidence.store import vault
from safeguard.evidence.vault import HashMismatch


class MediaConflict(Conflict):
    """The content item already holds different bytes."""


class MediaNotAccepted(Invalid):
    """This kind of content item has no media bytes to upload."""


# Names only the caller's own content id: never the hash of bytes someone stored before.
_ALREADY_HAS_MEDIA = (
    "content {!r} already has different media; a platform id names one piece of content"
)


@dataclass(frozen=True)
class MediaResult:
    content: ContentItem
    blob: Blob
    created: bool


def content_media_store(
    *,
    content: ContentItem,
    upload: BinaryIO,
    declared_type: str,
    actor: User,
    source: AuditSource,
    declared_sha256: str | None = None,
) -> MediaResult:
    """Encrypt an upload into the vault and attach it to its content item.

    The bytes must match every hash declared for them (at intake and with the upload). An
    identical re-upload is a no-op; different bytes for an item that has media are refused.
    What the bytes are is read from them: bytes that are not an image or video of the item's
    kind are kept as opaque evidence, flagged with what they are, and never rendered.
    """
    if content.kind not in MEDIA_KINDS:
        kinds = ", ".join(sorted(k.value for k in MEDIA_KINDS))
        raise MediaNotAccepted(f"content of kind {content.kind!r} takes no media; only {kinds}")
    if ContentTombstone.objects.filter(content=content, kind=DeletionKind.DESTRUCTION).exists():
        raise MediaConflict(
            f"content {content.platform_id!r} was destroyed on a lawful request; its bytes are "
            "not accepted again"
        )
    store = vault()
    address, size = store.digest(upload, max_bytes=settings.SAFEGUARD_MAX_MEDIA_BYTES)
    for declared in (declared_sha256, content.declared_sha256 or None):
        if declared is not None and declared != address:
            raise HashMismatch(declared, address)
    if content.blob_id is not None and content.blob_id != address:
        raise MediaConflict(_ALREADY_HAS_MEDIA.format(content.platform_id))
    sniffed = sniff(upload)
    # The encrypted file is written before the transaction; an orphan file left by a crash
    # between the two is harmless (content-addressed, re-used by the next upload of those bytes).
    stored = store.put(
        upload, max_bytes=settings.SAFEGUARD_MAX_MEDIA_BYTES, declared_sha256=address
    )
    with transaction.atomic():
        item = ContentItem.objects.select_for_update().get(pk=content.pk)
        blob, new_blob = Blob.objects.get_or_create(
            sha256=address,
            defaults={
                "size": size,
                "declared_type": declared_type[:100],
                "stored_at": timezone.now(),
                "media_kind": sniffed.kind,
                "media_type": sniffed.media_type,
                "detected": sniffed.description[:300],
                "markup": sniffed.markup,
                "render_state": RenderState.PENDING if sniffed.kind else RenderState.NONE,
            },
        )
        if item.blob_id == address:
            return MediaResult(content=item, blob=blob, created=False)
        if item.blob_id is not None:
            raise MediaConflict(_ALREADY_HAS_MEDIA.format(item.platform_id))
        item.blob = blob
        item.save(update_fields=["blob"])
        audit_record(
            event_type=AuditEventType.CONTENT_MEDIA_STORED,
            actor=actor,
            source=source,
            target_type="content",
            target_id=item.pk,
            data={
                "sha256": address,
                "size": size,
                "new_in_vault": stored.created,
                "declared_type": declared_type[:100],
                "detected": blob.detected,
                "renderable": blob.media_kind == item.kind,
            },
        )
        if new_blob and blob.render_state == RenderState.PENDING:
            enqueue(tasks.blob_render_task, sha256=address)
        # Announced with the change it follows: whoever scans stored media hears of every one.
        hooks.media_stored.announce(content=item)
        return MediaResult(content=item, blob=blob, created=True)


@transaction.atomic
def content_reveal(
    *, content: ContentItem, case_id: object, actor: User, source: AuditSource
) -> None:
    """A person chose to see a media item unblurred: audited, and the item marked as viewed."""
    locked = ContentItem.objects.select_for_update().get(pk=content.pk)
    now = timezone.now()
    if not locked.viewed_by_person:
        locked.viewed_by_person = True
        locked.first_viewed_at = now
        locked.save(update_fields=["viewed_by_person", "first_viewed_at"])
    audit_record(
        event_type=AuditEventType.MEDIA_REVEALED,
        actor=actor,
        source=source,
        target_type="content",
        target_id=locked.pk,
        data={"case": str(case_id), "sha256": locked.blob_id},
    )


@transaction.atomic
def content_download(
    *, content: ContentItem, case_id: object, actor: User, source: AuditSource
) -> None:
    """A person took the stored bytes as a file: audited, and the item marked as viewed, since
    whoever holds the file may open it."""
    locked = ContentItem.objects.select_for_update().get(pk=content.pk)
    if not locked.viewed_by_person:
        locked.viewed_by_person = True
        locked.first_viewed_at = timezone.now()
        locked.save(update_fields=["viewed_by_person", "first_viewed_at"])
    audit_record(
        event_type=AuditEventType.MEDIA_DOWNLOADED,
        actor=actor,
        source=source,
        target_type="content",
        target_id=locked.pk,
        data={"case": str(case_id), "sha256": locked.blob_id},
    )
