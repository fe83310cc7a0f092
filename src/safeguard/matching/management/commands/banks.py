"""`safeguard banks list|create|import|export|disable|enable`: hash banks from the shell."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.audit.events import AuditSource
from safeguard.matching.formats import BankFileError, BankFormat
from safeguard.matching.models import BankEntry
from safeguard.matching.selectors import bank_get_for, banks_for
from safeguard.matching.services import (
    BankError,
    BankNotFound,
    bank_create,
    bank_entry_set_enabled,
    bank_export,
    bank_import,
    bank_set_enabled,
)

FORMATS = [f.value for f in BankFormat]
SIGNALS = ["pdq", "md5", "sha256", "video"]


class Command(BaseCommand):
    help = "Create, import, export, enable and disable hash banks."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list")
        create = sub.add_parser("create")
        create.add_argument("name")
        create.add_argument("--description", default="")
        create.add_argument("--verified", action="store_true", help="confirmed material")
        create.add_argument("--allow-list", action="store_true", help="known false positives")
        create.add_argument("--pdq-threshold", type=int, default=None)
        imp = sub.add_parser("import")
        imp.add_argument("name")
        imp.add_argument("file", help="a file, or - for standard input")
        imp.add_argument("--format", choices=FORMATS, default=BankFormat.TEXT.value)
        imp.add_argument("--signal-type", choices=SIGNALS, default=None)
        imp.add_argument("--provenance", default="", help="where the hashes came from")
        exp = sub.add_parser("export")
        exp.add_argument("name")
        exp.add_argument("--format", choices=FORMATS, default=BankFormat.CSV.value)
        for verb in ("disable", "enable"):
            p = sub.add_parser(verb)
            p.add_argument("name")
            p.add_argument("--entry", type=int, default=None, help="one entry instead of the bank")
            p.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except (BankError, BankNotFound, BankFileError) as exc:
            raise CommandError(str(exc)) from None

    def _handle(self, options: dict[str, Any]) -> None:
        action = options["action"]
        if action == "list":
            for bank in banks_for(user=None):
                flags = ",".join(
                    f
                    for f, on in (
                        ("verified", bank.verified),
                        ("allow-list", bank.allow_list),
                        ("disabled", not bank.enabled),
                    )
                    if on
                )
                self.stdout.write(
                    f"{bank.name}\t{bank.enabled_count}/{bank.entry_count} entries\t"  # type: ignore[attr-defined]
                    f"pdq<={bank.thresholds.get('pdq', 31)}\t{flags}"
                )
            return
        if action == "create":
            thresholds = {}
            if options["pdq_threshold"] is not None:
                thresholds["pdq"] = options["pdq_threshold"]
            bank = bank_create(
                name=options["name"],
                description=options["description"],
                verified=options["verified"],
                allow_list=options["allow_list"],
                thresholds=thresholds,
                actor=None,
                source=AuditSource.CLI,
            )
            self.stdout.write(f"created bank {bank.name}")
            return
        bank = bank_get_for(user=None, name=options["name"])
        if action == "import":
            path = options["file"]
            try:
                text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"cannot read {path}: {exc}") from None
            result = bank_import(
                bank=bank,
                text=text,
                fmt=BankFormat(options["format"]),
                signal_type=options["signal_type"],
                provenance=options["provenance"] or f"imported from {Path(path).name}",
                actor=None,
                source=AuditSource.CLI,
            )
            self.stdout.write(
                f"imported into {bank.name}: {result.added} added, "
                f"{result.already_present} already present"
            )
            return
        if action == "export":
            self.stdout.write(bank_export(bank=bank, fmt=BankFormat(options["format"])), ending="")
            return
        enabled = action == "enable"
        if options["entry"] is not None:
            entry = BankEntry.objects.filter(bank=bank, pk=options["entry"]).first()
            if entry is None:
                raise CommandError(f"bank {bank.name} has no entry {options['entry']}")
            bank_entry_set_enabled(
                entry=entry,
                enabled=enabled,
                reason=options["reason"],
                actor=None,
                source=AuditSource.CLI,
            )
            self.stdout.write(f"entry {entry.pk} {action}d")
            return
        bank_set_enabled(bank=bank, enabled=enabled, actor=None, source=AuditSource.CLI)
        self.stdout.write(f"bank {bank.name} {action}d")
