"""`safeguard evidence holds|hold|delete`: legal holds and deleting stored evidence at the
command line, in the name of the legal person who decided it (recorded)."""

import uuid
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.audit.events import AuditSource
from safeguard.core.errors import DomainError
from safeguard.evidence import deletion, holds
from safeguard.evidence.models import HoldSource, HoldTarget, LegalHold


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user named {username!r}")
    return user


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--until {value!r} is not an ISO-8601 date and time") from None
    if timezone.is_naive(parsed):
        raise CommandError(f"--until {value!r} needs a time zone, e.g. 2027-03-01T00:00:00Z")
    return parsed


class Command(BaseCommand):
    help = (
        "Legal holds and deletion of stored evidence. Every change is made in the name of the "
        "person given with --by and is audited; a held item is never deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("holds", help="list legal holds, newest first")
        listing.add_argument("--active", action="store_true", help="only holds in force")
        listing.add_argument("--content", type=uuid.UUID, help="the holds covering this item")
        place = sub.add_parser("hold", help="place a legal hold")
        place.add_argument("target_type", choices=[t.value for t in HoldTarget])
        place.add_argument("target_id")
        place.add_argument("--reason", required=True)
        place.add_argument("--source", choices=[s.value for s in HoldSource], default="manual")
        place.add_argument("--reference", default="", help="the request's or report's id")
        place.add_argument("--until", help="end (ISO-8601 with zone); none: until released")
        place.add_argument("--by", required=True, help="the legal person placing it (recorded)")
        release = sub.add_parser("release", help="release a legal hold")
        release.add_argument("hold_id", type=uuid.UUID)
        release.add_argument("--reason", required=True)
        release.add_argument("--by", required=True)
        delete = sub.add_parser("delete", help="delete what is stored of a content item")
        delete.add_argument("content_id", type=uuid.UUID)
        delete.add_argument("--reason", required=True)
        delete.add_argument(
            "--part",
            action="append",
            choices=[p.value for p in deletion.ContentPart],
            help="media or text (repeat for both; both by default)",
        )
        delete.add_argument("--by", required=True, help="the legal person deleting (recorded)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "holds":
                self._list(options)
            elif action == "hold":
                hold = holds.hold_place(
                    target_type=options["target_type"],
                    target_id=options["target_id"],
                    reason=options["reason"],
                    hold_source=options["source"],
                    source_reference=options["reference"],
                    ends_at=_when(options["until"]) if options["until"] else None,
                    actor=_user(options["by"]),
                    source=AuditSource.CLI,
                )
                self.stdout.write(f"placed {holds.hold_describe(hold)}")
            elif action == "release":
                actor = _user(options["by"])
                hold = holds.hold_release(
                    hold=holds.hold_get_for(user=actor, hold_id=options["hold_id"]),
                    reason=options["reason"],
                    actor=actor,
                    source=AuditSource.CLI,
                )
                self.stdout.write(f"released hold {hold.pk}")
            else:
                tombstone = deletion.content_delete(
                    content_id=options["content_id"],
                    reason=options["reason"],
                    parts=deletion.parts_of(options["part"] or list(deletion.ContentPart)),
                    actor=_user(options["by"]),
                    source=AuditSource.CLI,
                )
                self.stdout.write(
                    f"deleted from content {tombstone.content_id}: media sha256 "
                    f"{tombstone.media_sha256 or '-'}, text sha256 {tombstone.text_sha256 or '-'}"
                )
        except holds.ContentHeld as exc:
            raise CommandError(f"refused, nothing deleted: {exc}") from None
        except DomainError as exc:
            raise CommandError(str(exc)) from None

    def _list(self, options: dict[str, Any]) -> None:
        now = timezone.now()
        if options["content"] is not None:
            found = holds.holds_covering(content_ids=[options["content"]], now=now)
            rows = found.get(options["content"], [])
            if not rows:
                self.stdout.write(f"no hold in force covers content {options['content']}")
        else:
            rows = list(LegalHold.objects.order_by("-placed_at")[:500])
            if options["active"]:
                rows = [h for h in rows if holds.hold_state(h, now) == "in force"]
        for hold in rows:
            self.stdout.write(f"[{holds.hold_state(hold, now)}] {holds.hold_describe(hold)}")
