"""Action delivery with retries and backoff."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from safeguard.actions.services import action_deliver_attempt
from safeguard.actions.webhooks import backoff


@task()
def action_deliver(action_id: str, attempt: int) -> str:
    outcome = action_deliver_attempt(action_id=uuid.UUID(action_id), attempt=attempt)
    if outcome is False:
        wait = backoff(attempt, base_seconds=settings.SAFEGUARD_WEBHOOK_BACKOFF_SECONDS)
        action_deliver.using(run_after=timezone.now() + wait).enqueue(
            action_id=action_id, attempt=attempt + 1
        )
        return f"attempt {attempt} failed; retrying"
    return "delivered" if outcome else "nothing to do"
