"""`safeguard audit`: verify the log, print its public key, prove an event, check a proof."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.audit import proofs
from safeguard.audit.selectors import (
    ExportError,
    NotSequenced,
    audit_event_proof,
    audit_log_verify,
    read_exported,
)
from safeguard.audit.services import audit_sequence, public_key
from safeguard.core.errors import NotFound
from safeguard.core.textfile import Unreadable, read_text

MAX_EXPORT_BYTES = 256 * 1024 * 1024


class Command(BaseCommand):
    help = "Audit log tools."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser(
            "verify", help="recompute the tree and check every checkpoint; non-zero on tampering"
        )
        verify.add_argument(
            "--against",
            metavar="CHECKPOINT_FILE",
            help="also hold the log to checkpoints exported earlier (SAFEGUARD_AUDIT_WITNESS_FILE)",
        )
        sub.add_parser("public-key", help="print the key that verifies the log's checkpoints")
        prove = sub.add_parser("prove", help="print a self-contained JSON proof of one event")
        prove.add_argument("event_id", type=int)
        check = sub.add_parser("check-proof", help="verify a proof with the public key alone")
        check.add_argument("file")
        check.add_argument("--public-key", required=True)
        sub.add_parser("sequence", help="sequence committed events now (the worker does this)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "public-key":
            self.stdout.write(public_key())
        elif action == "prove":
            try:
                proof = audit_event_proof(event_id=options["event_id"])
            except (NotSequenced, NotFound) as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(json.dumps(proof, indent=2, sort_keys=True))
        elif action == "check-proof":
            code = proofs.main([options["file"], "--public-key", options["public_key"]])
            if code:
                raise CommandError("the proof does not verify", returncode=code)
        elif action == "sequence":
            self.stdout.write(f"sequenced {audit_sequence()} events")
        else:
            self._verify(options["against"])

    def _verify(self, against_path: str | None) -> None:
        against = None
        if against_path is not None:
            try:
                text = read_text(against_path, max_bytes=MAX_EXPORT_BYTES)
            except Unreadable as exc:
                raise CommandError(str(exc)) from None
            try:
                against = read_exported(text)
            except ExportError as exc:
                raise CommandError(f"{against_path}: {exc}") from None
        result = audit_log_verify(against=against)
        for note in result.notes:
            self.stdout.write(note)
        if result.problem is not None:
            where = (
                f"event #{result.problem.event_id}"
                if result.problem.event_id is not None
                else f"leaf {result.problem.leaf_index}"
            )
            raise CommandError(
                f"audit log tampered ({result.problem.kind.value}) at {where}: "
                f"{result.problem.message}; {result.checked} events verified before it"
            )
        summary = (
            f"audit log intact: {result.checked} events, tree of {result.size} with root "
            f"{result.root.hex()}, {result.checkpoints} signed checkpoints consistent"
        )
        if against is not None:
            summary += f", {result.exported} exported checkpoints matched"
        self.stdout.write(summary)
