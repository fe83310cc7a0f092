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
