"""Content items with bytes really in the vault, and holds, for the hold, deletion and retention
tests. Media is generated benign bytes (a test pattern), never downloaded."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditSource
from safeguard.config.demo import pattern_png
from safeguard.evidence.holds import hold_place
from safeguard.evidence.models import Blob, ContentItem, HoldSource, LegalHold, RenderState
from safeguard.evidence.store import vault
from tests.factories import UserFactory

_seeds = itertools.count(1)


def legal(**extra: Any) -> User:
    return UserFactory(role=Role.LEGAL.value, **extra)


def _put(data: bytes) -> str:
    return vault().put(io.BytesIO(data), max_bytes=len(data) + 1).sha256


def blob_for(data: bytes, *, renditions: bool = True) -> Blob:
    """A stored blob of `data`, with a thumbnail and a display rendition in the vault too."""
    address = _put(data)
    seed = next(_seeds)
    thumbnail = _put(pattern_png("checkerboard", seed + 1000, size=32)) if renditions else ""
    display = _put(pattern_png("checkerboard", seed + 2000, size=64)) if renditions else ""
    blob, _ = Blob.objects.get_or_create(
        sha256=address,
        defaults={
            "size": len(data),
            "declared_type": "image/png",
            "stored_at": timezone.now(),
            "media_kind": "image",
            "media_type": "image/png",
            "render_state": RenderState.READY,
            "thumbnail_sha256": thumbnail,
            "display_sha256": display,
        },
    )
    return blob


def image_item(
    *,
    data: bytes | None = None,
    blob: Blob | None = None,
    first_seen: datetime | None = None,
    renditions: bool = True,
) -> ContentItem:
    seed = next(_seeds)
    if blob is None:
        blob = blob_for(data or pattern_png("checkerboard", seed), renditions=renditions)
    return ContentItem.objects.create(
        platform="example",
        platform_id=f"img:{seed}",
        kind="image",
        blob=blob,
        declared_sha256=blob.sha256,
        first_seen_at=first_seen or timezone.now(),
    )


def thread_item(
    *, text: str = "how old are you?", first_seen: datetime | None = None
) -> ContentItem:
    seed = next(_seeds)
    return ContentItem.objects.create(
        platform="example",
        platform_id=f"thread:{seed}",
        kind="message_thread",
        text=text,
        first_seen_at=first_seen or timezone.now(),
    )


def hold_on(
    target: ContentItem | tuple[str, str],
    *,
    by: User | None = None,
    reason: str = "Preservation request from the Example Police (fictional)",
    source: HoldSource = HoldSource.REQUEST,
    reference: str = "LE-REQ-0001",
    days: int | None = 90,
) -> LegalHold:
    target_type, target_id = (
        ("content", str(target.pk)) if isinstance(target, ContentItem) else target
    )
    return hold_place(
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        hold_source=source,
        source_reference=reference if source is not HoldSource.MANUAL else "",
        ends_at=timezone.now() + timedelta(days=days) if days is not None else None,
        actor=by or legal(),
        source=AuditSource.CONSOLE,
    )


def vault_files() -> set[str]:
    """The names of every object file in the vault."""
    root = vault().root
    return {p.name for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")}
