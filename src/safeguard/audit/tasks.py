"""Audit tasks: the sequencer, triggered after each audited commit, and checkpoint delivery."""

from __future__ import annotations

from django_tasks import task

from safeguard.audit import services
from safeguard.core.retry import delivery_outcome


@task()
def audit_sequence_task() -> str:
    # Takes whatever has committed by the time it runs: several kicks may find nothing left.
    count = services.audit_sequence()
    return f"sequenced {count} events"


@task()
def audit_checkpoint_deliver(size: int, attempt: int) -> str:
    outcome = services.audit_checkpoint_deliver_attempt(size=size, attempt=attempt)
    return delivery_outcome(audit_checkpoint_deliver, outcome, attempt, size=size)
