"""`enqueue_once`: one task per transaction however many changes ask, released with the commit,
and asked for again once a savepoint that asked rolls back."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from safeguard.audit.tasks import audit_sequence_task
from safeguard.core.tasks import NotInTransaction, enqueue_once

pytestmark = pytest.mark.django_db

PATH = "safeguard.audit.tasks.audit_sequence_task"


def queued() -> int:
    return DBTaskResult.objects.filter(task_path=PATH).count()


def test_many_asks_in_one_transaction_enqueue_one_task_with_its_priority() -> None:
    with transaction.atomic():
        for _ in range(5):
            enqueue_once(audit_sequence_task, priority=50)

    assert queued() == 1
    assert DBTaskResult.objects.get(task_path=PATH).priority == 50


def test_a_rolled_back_savepoint_takes_its_task_with_it_and_the_next_ask_enqueues_again() -> None:
    with transaction.atomic():
        try:
            with transaction.atomic():
                enqueue_once(audit_sequence_task)
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
        assert queued() == 0
        enqueue_once(audit_sequence_task)

    assert queued() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_transaction_it_is_refused() -> None:
    with pytest.raises(NotInTransaction):
        enqueue_once(audit_sequence_task)


def test_one_sequencer_run_drops_the_kicks_waiting_behind_it_but_not_a_scheduled_one() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from safeguard.core.tasks import enqueue
    from tests.tasks import run_tasks

    for _ in range(3):
        enqueue(audit_sequence_task)
    enqueue(audit_sequence_task, run_after=timezone.now() + timedelta(hours=1))

    run_tasks()

    statuses = sorted(DBTaskResult.objects.filter(task_path=PATH).values_list("status", flat=True))
    # One ran; the two kicks behind it were dropped; the scheduled one still waits.
    assert statuses == ["READY", "SUCCESSFUL"]
