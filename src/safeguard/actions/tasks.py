"""Action delivery with retries and backoff."""

from __future__ import annotations

import uuid

from django_tasks import task

from safeguard.actions.retry import delivery_outcome
from safeguard.actions.services import action_deliver_attempt


@task()
def action_deliver(action_id: str, attempt: int) -> str:
    outcome = action_deliver_attempt(action_id=uuid.UUID(action_id), attempt=attempt)
    return delivery_outcome(action_deliver, outcome, attempt, action_id=action_id)
