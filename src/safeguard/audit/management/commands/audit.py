"""`safeguard audit verify`: walk the audit chain and name the first tampered event."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Audit log tools."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="verify the hash chain; exits non-zero on tampering")

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_chain_verify()
        if result.problem is not None:
            raise CommandError(
                f"audit chain broken ({result.problem.kind.value}) at event "
                f"#{result.problem.seq}: {result.problem.message}; "
                f"{result.checked} events verified before it"
            )
        self.stdout.write(f"audit chain intact: {result.checked} events verified")
