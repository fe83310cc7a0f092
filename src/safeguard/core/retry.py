"""Retrying a webhook delivery task with backoff: one rule for pages and platform actions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from safeguard.core.tasks import enqueue
from safeguard.core.webhooks import backoff


def delivery_outcome(task: Any, outcome: bool | None, attempt: int, **kwargs: Any) -> str:
    """Re-enqueue `task` for the next attempt when this one failed (`outcome` False), after the
    backoff for `attempt`; otherwise say what happened."""
    if outcome is False:
        wait = backoff(attempt, base_seconds=settings.SAFEGUARD_WEBHOOK_BACKOFF_SECONDS)
        with transaction.atomic():
            enqueue(task, run_after=timezone.now() + wait, attempt=attempt + 1, **kwargs)
        return f"attempt {attempt} failed; retrying"
    return "delivered" if outcome else "nothing to do"
