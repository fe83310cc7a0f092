"""`safeguard scan`: hash files in parallel, match them against the banks, print JSON lines."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from safeguard.audit.events import AuditSource
from safeguard.matching.scanfiles import FileResult, Matcher, run
from safeguard.matching.services import BankNotFound, lookup_record, match_hashes


def _matcher(banks: list[str] | None) -> Matcher:
    def match(items: list[FileResult]) -> list[list[dict[str, Any]]]:
        queries = [h for item in items for h in item.hashes]
        results = match_hashes(queries, banks=banks)
        lookup_record(actor=None, source=AuditSource.CLI, results=results)
        by_query = iter(results)
        out = []
        for item in items:
            found = []
            for _ in item.hashes:
                result = next(by_query)
                found += [
                    {
                        "bank": h.bank,
                        "entry_id": h.entry_id,
                        "distance": h.distance,
                        "signal_type": h.signal_type,
                        "allow_list": h.allow_list,
                        "low_confidence": h.low_confidence,
                    }
                    for h in result.hits
                ]
            out.append(found)
        return out

    return match


class Command(BaseCommand):
    help = "Hash files and folders in parallel and match them against the banks (JSON lines)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("args", nargs="*")

    def run_from_argv(self, argv: list[str]) -> None:
        # argparse of our own, shared with the database-free `--no-match` path.
        try:
            code = run(argv[2:], _matcher)
        except BankNotFound as exc:
            self.stderr.write(f"safeguard scan: {exc}")
            code = 2
        raise SystemExit(code)

    def handle(self, *args: Any, **options: Any) -> None:
        raise SystemExit(run(list(args), _matcher))
