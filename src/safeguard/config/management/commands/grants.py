"""`safeguard grants create|revoke|list`: leads' read grants to auditors, at the command line."""

import uuid
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from safeguard.accounts.auth import PermissionDenied
from safeguard.accounts.models import User
from safeguard.audit.events import AuditSource
from safeguard.cases.grants import (
    GrantRefused,
    read_grant_active,
    read_grant_create,
    read_grant_revoke,
)
from safeguard.cases.models import Case, Queue, ReadGrant
from safeguard.cases.queues import QueueNotFound
from safeguard.cases.selectors import CaseNotFound


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user named {username!r}")
    return user


class Command(BaseCommand):
    help = (
        "Open a queue or one case to an auditor for a while (in the name of the lead who decided"
        " it), revoke a grant, or list grants. Every grant and every read under it is audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="grant an auditor read access")
        create.add_argument("grantee", help="the auditor's username")
        scope = create.add_mutually_exclusive_group(required=True)
        scope.add_argument("--queue", help="every case of this queue")
        scope.add_argument("--case", type=uuid.UUID, help="this one case")
        create.add_argument("--days", type=int, required=True, help="how long (at most 30)")
        create.add_argument("--reason", required=True)
        create.add_argument("--by", required=True, help="the lead who grants it (recorded)")
        revoke = sub.add_parser("revoke", help="end a grant now")
        revoke.add_argument("grant_id", type=uuid.UUID)
        revoke.add_argument("--by", help="the lead who revokes it (default: the operator)")
        revoke.add_argument("--reason", default="")
        listing = sub.add_parser("list", help="grants, newest first")
        listing.add_argument("--active", action="store_true", help="only grants in force")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "list":
                self._list(active=options["active"])
            elif action == "create":
                self._create(options)
            else:
                self._revoke(options)
        except (GrantRefused, PermissionDenied, CaseNotFound, QueueNotFound) as exc:
            raise CommandError(str(exc)) from None

    def _list(self, *, active: bool) -> None:
        grants = ReadGrant.objects.select_related("grantee", "granted_by", "queue")
        now = timezone.now()
        for grant in grants.order_by("-created_at"):
            if active and not read_grant_active(grant, now=now):
                continue
            scope = f"queue:{grant.queue.name}" if grant.queue else f"case:{grant.case_id}"
            state = (
                "active"
                if read_grant_active(grant, now=now)
                else ("revoked" if grant.revoked_at else "expired")
            )
            self.stdout.write(
                f"{grant.pk}\t{grant.grantee.username}\t{scope}\t{state}\t"
                f"until {grant.expires_at.isoformat()}\tby {grant.granted_by.username}"
            )

    def _create(self, options: dict[str, Any]) -> None:
        days = options["days"]
        if not 0 < days <= 30:
            raise CommandError("--days is 1 to 30")
        queue = case = None
        if options["queue"]:
            queue = Queue.objects.filter(name=options["queue"]).first()
            if queue is None:
                raise CommandError(f"no queue {options['queue']!r}")
        else:
            case = Case.objects.filter(pk=options["case"]).first()
            if case is None:
                raise CommandError(f"no case {options['case']}")
        grant = read_grant_create(
            grantee=_user(options["grantee"]),
            actor=_user(options["by"]),
            reason=options["reason"],
            # A whole number of days from now, less a second so that 30 stays within the limit.
            expires_at=timezone.now() + timedelta(days=days) - timedelta(seconds=1),
            queue=queue,
            case=case,
            source=AuditSource.CLI,
        )
        self.stdout.write(str(grant.pk))

    def _revoke(self, options: dict[str, Any]) -> None:
        grant = ReadGrant.objects.filter(pk=options["grant_id"]).first()
        if grant is None:
            raise CommandError(f"no read grant {options['grant_id']}")
        actor = _user(options["by"]) if options["by"] else None
        read_grant_revoke(
            grant=grant, actor=actor, reason=options["reason"], source=AuditSource.CLI
        )
        self.stdout.write(f"revoked {grant.pk}")
