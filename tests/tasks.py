"""Running the task worker to completion in a test, instead of waiting in a polling loop."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.db.models import F, QuerySet
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max

# A bound on the rounds of `run_tasks(within=…)`, so a task that re-enqueues itself for ever
# fails the test instead of hanging it.
MAX_ROUNDS = 100


def _run_due() -> None:
    """Run every task that is due with the database backend's own worker, then return.

    Inside a test's transaction the worker's loop would close the connection between tasks, so
    there each due task is claimed and run by the same worker code, one after another.
    """
    if not connection.in_atomic_block:
        call_command("db_worker", batch=True, startup_delay=False, interval=0.01, verbosity=0)
        return
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    while (result := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
        result.claim(worker.worker_id)
        worker.run_task(result)


def _scheduled() -> QuerySet[DBTaskResult[Any, Any]]:
    """Tasks not yet run that were given a moment to run at (a task to run at once has the far
    future, `get_date_max()`, as its `run_after`)."""
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY).exclude(
        run_after=get_date_max()
    )


def _next_wait() -> timedelta | None:
    """How long until the next task waiting for its `run_after` is due, if one is waiting."""
    soonest = _scheduled().order_by("run_after").values_list("run_after", flat=True).first()
    if soonest is None:
        return None
    return max(soonest - timezone.now(), timedelta(0))


def let_time_pass(wait: timedelta) -> None:
    """As far as the task queue knows, `wait` passes: every task waiting to run becomes due that
    much sooner. (Tasks read nothing else of the clock; a page's acknowledgement window and a
    retry's backoff are both only a task's `run_after`.)"""
    _scheduled().update(run_after=F("run_after") - wait)


def run_tasks(*, within: timedelta = timedelta(0)) -> None:
    """Run every task that is due, and then, as though `within` of time passed, every task that
    would fall due in that time, including those the tasks enqueue (retries after their
    backoff, a page's next round), in the order they would fall due. Tasks due later than that
    are left waiting, `within` nearer than they were: calls add up, as the clock does.

    With the default, only what is due now runs (and what that enqueues to run at once).
    """
    elapsed = timedelta(0)
    for _ in range(MAX_ROUNDS):
        _run_due()
        wait = _next_wait()
        if wait is None or elapsed + wait > within:
            # The rest of the time passes with nothing falling due in it.
            if within > elapsed:
                let_time_pass(within - elapsed)
            return
        let_time_pass(wait)
        elapsed += wait
    raise AssertionError(f"tasks were still falling due after {MAX_ROUNDS} rounds")
