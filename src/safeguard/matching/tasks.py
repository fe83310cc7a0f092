"""Matching tasks: scan media once it is stored."""

from __future__ import annotations

import uuid

from django_tasks import task

from safeguard.core.tasks import enqueue
from safeguard.evidence.models import ContentItem
from safeguard.matching.scanning import content_scan


def scan_stored_media(*, content: ContentItem) -> None:
    """Subscribed to `evidence.hooks.media_stored`: stored media is always scanned, once the
    transaction that stored it commits."""
    enqueue(content_scan_task, content_id=str(content.pk))


@task()
def content_scan_task(content_id: str) -> str:
    outcome = content_scan(content_id=uuid.UUID(content_id))
    if outcome.error:
        return f"not scanned: {outcome.error}"
    return f"{outcome.matches} match(es), {len(outcome.escalations)} escalation(s)"
