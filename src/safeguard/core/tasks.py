"""The one way to enqueue a task: visible to workers only once the transaction that asked for
it commits, on every task backend.

With the database backend the task is a row written in the caller's transaction, so it commits
or rolls back with the change. Any other backend (RQ on Redis) sends the task at once, where a
worker could run it before the change it follows is committed, find nothing and give up: there
the task is sent from `transaction.on_commit`. Outside a transaction nothing is enqueued, so a
caller cannot forget the rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django_tasks.base import Task
from django_tasks_db.backend import DatabaseBackend


class NotInTransaction(RuntimeError):
    """`enqueue` was called outside a transaction: there is no commit to wait for."""


def enqueue(task: Task[Any, Any], /, *, run_after: datetime | None = None, **kwargs: Any) -> None:
    """Enqueue `task` with `kwargs` (at `run_after`, if given) once this transaction commits."""
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction(
            f"enqueue {task.name} inside the transaction of the change it follows"
        )
    configured = task.using(run_after=run_after) if run_after is not None else task
    if isinstance(configured.get_backend(), DatabaseBackend):
        configured.enqueue(**kwargs)
    else:
        transaction.on_commit(lambda: configured.enqueue(**kwargs), robust=False)


# One marker per task name: its presence among the transaction's on-commit callbacks says the
# task was already enqueued in this transaction (Django drops it with a rolled-back savepoint,
# together with what that savepoint enqueued).
_MARKERS: dict[str, Any] = {}


def enqueue_once(task: Task[Any, Any], /, *, priority: int | None = None) -> None:
    """`enqueue` `task` (which takes no arguments) at most once per transaction, however many
    changes in it ask for it: for work that takes whatever has arrived when it runs, such as
    the audit sequencer. `priority` puts it ahead of waiting tasks where the backend orders by
    priority (the database backend; RQ runs in arrival order)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise NotInTransaction(
            f"enqueue {task.name} inside the transaction of the change it follows"
        )
    marker = _MARKERS.setdefault(task.name, lambda: None)
    if any(entry[1] is marker for entry in connection.run_on_commit):
        return
    if priority is not None and task.get_backend().supports_priority:
        task = task.using(priority=priority)
    enqueue(task)
    transaction.on_commit(marker)


def drop_waiting(task: Task[Any, Any], /) -> int:
    """Delete the runs of `task` that wait to run now (not started, not scheduled for later),
    on the database backend; return how many. For a task that, once running, does whatever the
    waiting runs would have: the audit sequencer calls it before it reads what to sequence, so
    every run it drops was asked for by a transaction it is about to see. Other backends keep
    their queue (a waiting run there finds nothing and ends at once)."""
    if not isinstance(task.get_backend(), DatabaseBackend):
        return 0
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    deleted, _ = DBTaskResult.objects.filter(
        task_path=task.module_path, status=TaskResultStatus.READY, run_after=get_date_max()
    ).delete()
    return deleted
