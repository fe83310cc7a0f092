"""Action delivery with retries and backoff."""

from __future__ import annotations

import uuid

from django_tasks import task

from safeguard.actions import services
from safeguard.core.retry import delivery_outcome


@task()
def action_deliver(action_id: str, attempt: int) -> str:
    outcome = services.action_deliver_attempt(action_id=uuid.UUID(action_id), attempt=attempt)
    return delivery_outcome(action_deliver, outcome, attempt, action_id=action_id)
