"""Running the task worker to completion in a test, instead of waiting in a polling loop."""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def run_tasks() -> None:
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
