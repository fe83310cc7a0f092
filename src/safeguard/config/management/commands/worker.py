"""`safeguard worker`: runs background tasks and deadlines from the configured task backend."""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from safeguard.config.env import TaskBackend


class Command(BaseCommand):
    help = "Run the task worker of the configured backend (database by default, or RQ)."

    def add_arguments(self, parser: CommandParser) -> None:
        # A fifth of a second: the audit sequencer runs within a second of each commit.
        parser.add_argument("--interval", type=float, default=0.2, help="seconds between polls")
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument(
            "--burst", action="store_true", help="run what is due, then stop (RQ and database)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.SAFEGUARD_TASKS.backend is TaskBackend.RQ:
            # The scheduler moves deferred tasks (deadlines, retries) onto the queue when due.
            call_command(
                "rqworker",
                "default",
                job_class="django_tasks_rq.Job",
                with_scheduler=True,
                burst=options["burst"],
                max_jobs=options["max_tasks"],
            )
            return
        extra: dict[str, Any] = {"interval": options["interval"], "batch": options["burst"]}
        if options["max_tasks"] is not None:
            extra["max_tasks"] = options["max_tasks"]
        call_command("db_worker", **extra)
