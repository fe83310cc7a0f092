"""Paging tasks: deliver with retries and backoff, and escalate an unacknowledged P0."""

from __future__ import annotations

import uuid

from django_tasks import task

from safeguard.core.retry import delivery_outcome
from safeguard.rota import services


@task()
def page_deliver(page_id: str, attempt: int) -> str:
    outcome = services.page_deliver_attempt(page_id=uuid.UUID(page_id), attempt=attempt)
    return delivery_outcome(page_deliver, outcome, attempt, page_id=page_id)


@task()
def page_check_acknowledged(incident: str, round_: int) -> str:
    sent = services.page_escalate_if_unacknowledged(incident=uuid.UUID(incident), round_=round_)
    return f"escalated to {len(sent)}" if sent else "acknowledged or nothing to escalate"
