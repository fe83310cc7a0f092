"""Matching tasks: scan media once it is stored."""

from __future__ import annotations

import uuid

from django_tasks import task

from safeguard.matching.scanning import content_scan


@task()
def content_scan_task(content_id: str) -> str:
    outcome = content_scan(content_id=uuid.UUID(content_id))
    if outcome.error:
        return f"not scanned: {outcome.error}"
    return f"{outcome.matches} match(es), {len(outcome.escalations)} escalation(s)"
