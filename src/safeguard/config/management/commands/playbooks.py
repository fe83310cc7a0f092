"""`safeguard playbooks show|check FILE|activate FILE`: the playbooks at the command line."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.accounts.models import User
from safeguard.audit.events import AuditSource
from safeguard.cases.playbook_selectors import playbook_active, playbook_active_record
from safeguard.cases.playbook_services import (
    PlaybookConflict,
    PlaybookPermissionDenied,
    playbook_activate,
)
from safeguard.cases.playbooks import (
    MAX_PLAYBOOK_BYTES,
    PlaybookError,
    compile_playbooks,
    default_playbooks_text,
)
from safeguard.core.textfile import Unreadable, read_text


def _read(name: str) -> str:
    try:
        return read_text(name, max_bytes=MAX_PLAYBOOK_BYTES)
    except Unreadable as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "Show the playbooks in force, check a playbooks document without saving it, or upload "
        "and activate one (in the name of the administrator who decided it; audited)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="print the document in force")
        show.add_argument("--source", action="store_true", help="print its YAML, not a summary")
        check = sub.add_parser("check", help="check a document; nothing is saved")
        check.add_argument("file")
        activate = sub.add_parser("activate", help="upload a document and put it in force")
        activate.add_argument("file")
        activate.add_argument(
            "--by", required=True, help="the administrator who activates it (recorded)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "show":
                self._show(source=options["source"])
            elif action == "check":
                document = compile_playbooks(_read(options["file"]))
                count = sum(len(table) for table in document.playbooks.values())
                self.stdout.write(f"ok: version {document.version}, {count} playbooks")
            else:
                actor = User.objects.filter(username=options["by"]).first()
                if actor is None:
                    raise CommandError(f"no user named {options['by']!r}")
                record = playbook_activate(
                    source_text=_read(options["file"]), actor=actor, source=AuditSource.CLI
                )
                self.stdout.write(f"activated {record.version}")
        except PlaybookError as exc:
            raise CommandError(f"{options.get('file')}: refused:\n{exc}") from None
        except (PlaybookConflict, PlaybookPermissionDenied) as exc:
            raise CommandError(str(exc)) from None

    def _show(self, *, source: bool) -> None:
        record = playbook_active_record()
        if source:
            self.stdout.write(record.source if record else default_playbooks_text(), ending="")
            return
        document = playbook_active()
        origin = (
            f"uploaded by {record.uploaded_by.username if record.uploaded_by else '?'} at "
            f"{record.uploaded_at.isoformat()}"
            if record
            else "built in"
        )
        self.stdout.write(f"version {document.version} ({origin})")
        for category, table in document.playbooks.items():
            for key, steps in table.items():
                self.stdout.write(f"{category.value} {key}:")
                for step in steps:
                    flag = "required" if step.required else "optional"
                    self.stdout.write(f"  - {step.id} [{step.kind.value}, {flag}] {step.title}")
