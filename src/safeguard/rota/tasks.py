"""Paging tasks: deliver with retries and backoff, and escalate an unacknowledged P0."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from safeguard.actions.webhooks import backoff
from safeguard.rota.services import page_deliver_attempt, page_escalate_if_unacknowledged


@task()
def page_deliver(page_id: str, attempt: int) -> str:
    outcome = page_deliver_attempt(page_id=uuid.UUID(page_id), attempt=attempt)
    if outcome is False:
        wait = backoff(attempt, base_seconds=settings.SAFEGUARD_WEBHOOK_BACKOFF_SECONDS)
        page_deliver.using(run_after=timezone.now() + wait).enqueue(
            page_id=page_id, attempt=attempt + 1
        )
        return f"attempt {attempt} failed; retrying"
    return "delivered" if outcome else "nothing to do"


@task()
def page_check_acknowledged(incident: str, round_: int) -> str:
    sent = page_escalate_if_unacknowledged(incident=uuid.UUID(incident), round_=round_)
    return f"escalated to {len(sent)}" if sent else "acknowledged or nothing to escalate"
