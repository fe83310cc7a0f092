"""`safeguard worker`: runs background tasks and deadlines from the configured task backend."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the task worker (the database backend's worker by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument("--max-tasks", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        extra: dict[str, Any] = {"interval": options["interval"]}
        if options["max_tasks"] is not None:
            extra["max_tasks"] = options["max_tasks"]
        call_command("db_worker", **extra)
