"""Writes for evidence: storing a content item's media bytes in the vault."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.evidence.models import Blob, ContentItem
from safeguard.evidence.vault import HashMismatch, Vault
from safeguard.intake.enums import MEDIA_KINDS


class MediaConflict(Exception):
    """The content item already holds different bytes."""


class MediaNotAccepted(Exception):
    """This kind of content item has no media bytes to upload."""


@cache
def _vault(root: Path, key: bytes) -> Vault:
    return Vault(root, key)


def vault() -> Vault:
    """The vault configured in settings (cached per root and key, so tests can point elsewhere)."""
    return _vault(Path(settings.SAFEGUARD_VAULT_DIR), settings.SAFEGUARD_VAULT_KEY)


@dataclass(frozen=True)
class MediaResult:
    content: ContentItem
    blob: Blob
    created: bool


def content_media_store(
    *,
    content: ContentItem,
    upload: BinaryIO,
    content_type: str,
    actor: User,
    source: AuditSource,
    declared_sha256: str | None = None,
) -> MediaResult:
    """Encrypt an upload into the vault and attach it to its content item.

    The bytes must match every hash declared for them (at intake and with the upload). An
    identical re-upload is a no-op; different bytes for an item that has media are refused.
    """
    if content.kind not in MEDIA_KINDS:
        kinds = ", ".join(sorted(k.value for k in MEDIA_KINDS))
        raise MediaNotAccepted(f"content of kind {content.kind!r} takes no media; only {kinds}")
    store = vault()
    address, size = store.digest(upload, max_bytes=settings.SAFEGUARD_MAX_MEDIA_BYTES)
    for declared in (declared_sha256, content.declared_sha256 or None):
        if declared is not None and declared != address:
            raise HashMismatch(declared, address)
    if content.blob_id is not None and content.blob_id != address:
        raise MediaConflict(
            f"content {content.platform_id!r} already has media with sha256 {content.blob_id}"
        )
    # The encrypted file is written before the transaction; an orphan file left by a crash
    # between the two is harmless (content-addressed, re-used by the next upload of those bytes).
    stored = store.put(
        upload, max_bytes=settings.SAFEGUARD_MAX_MEDIA_BYTES, declared_sha256=address
    )
    with transaction.atomic():
        item = ContentItem.objects.select_for_update().get(pk=content.pk)
        blob, _ = Blob.objects.get_or_create(
            sha256=address,
            defaults={"size": size, "content_type": content_type, "stored_at": timezone.now()},
        )
        if item.blob_id == address:
            return MediaResult(content=item, blob=blob, created=False)
        if item.blob_id is not None:
            raise MediaConflict(
                f"content {item.platform_id!r} already has media with sha256 {item.blob_id}"
            )
        item.blob = blob
        item.save(update_fields=["blob"])
        audit_record(
            event_type=AuditEventType.CONTENT_MEDIA_STORED,
            actor=actor,
            source=source,
            target_type="content",
            target_id=item.pk,
            data={"sha256": address, "size": size, "new_in_vault": stored.created},
        )
        # Enqueued with the change it follows: stored media is always scanned.
        from safeguard.matching.tasks import content_scan_task

        content_scan_task.enqueue(content_id=str(item.pk))
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
