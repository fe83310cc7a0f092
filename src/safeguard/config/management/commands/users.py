"""`safeguard users create|set-role|list|invite|reset-second-factor|unlock`: manage staff and
service accounts, their enrolment and sign-in lockouts from the shell."""

import getpass
import sys
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.accounts.services import (
    INVITE_VALIDITY,
    AccountError,
    IssuedInvite,
    enrolment_invite_issue,
    invite_path,
    second_factor_reset,
    sign_in_unlock,
    user_create,
    user_set_role,
)
from safeguard.accounts.throttle import address_key
from safeguard.audit.events import AuditSource

_DEFAULT_HOURS = int(INVITE_VALIDITY.total_seconds() // 3600)


class Command(BaseCommand):
    help = "Create users, change roles, list users, invite to enrol, reset a second factor, unlock."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("username")
        create.add_argument("--role", required=True, choices=[r.value for r in Role])
        create.add_argument("--email", default="")
        create.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
        set_role = sub.add_parser("set-role")
        set_role.add_argument("username")
        set_role.add_argument("role", choices=[r.value for r in Role])
        sub.add_parser("list")
        for name, text in (
            ("invite", "issue a single-use code to enrol an authenticator"),
            ("reset-second-factor", "remove a lost authenticator and issue an invite to enrol"),
        ):
            command = sub.add_parser(name, help=text)
            command.add_argument("username")
            command.add_argument(
                "--hours",
                type=int,
                default=_DEFAULT_HOURS,
                help=f"how long the invite is valid (default {_DEFAULT_HOURS})",
            )
            command.add_argument(
                "--base-url",
                default="",
                help="the console's address, to print a whole link (e.g. https://safeguard.example)",
            )
        unlock = sub.add_parser("unlock", help="lift a sign-in lockout")
        unlock.add_argument("username", nargs="?", help="the account (everywhere, or --address)")
        unlock.add_argument("--address", help="only from this address; alone: every account")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "list":
                self._list()
            elif action == "create":
                self._create(options)
            elif action == "set-role":
                user = _user(options["username"])
                user_set_role(
                    user=user, role=Role(options["role"]), actor=None, source=AuditSource.CLI
                )
                self.stdout.write(f"{user.username} is now {user.role}")
            elif action == "invite":
                issued = enrolment_invite_issue(
                    user=_user(options["username"]),
                    actor=None,
                    source=AuditSource.CLI,
                    valid_for=timedelta(hours=options["hours"]),
                )
                self._print_invite(issued, options["base_url"])
            elif action == "reset-second-factor":
                user = _user(options["username"])
                reset = second_factor_reset(
                    user=user,
                    actor=None,
                    source=AuditSource.CLI,
                    invite_valid_for=timedelta(hours=options["hours"]),
                )
                self.stdout.write(f"removed {user.username}'s authenticator and recovery codes")
                if reset is not None:
                    self._print_invite(reset, options["base_url"])
            else:
                self._unlock(options)
        except AccountError as exc:
            raise CommandError(str(exc)) from None

    def _list(self) -> None:
        for user in User.objects.order_by("username"):
            state = "" if user.is_active else " (inactive)"
            self.stdout.write(f"{user.username}\t{user.role}{state}")

    def _create(self, options: dict[str, Any]) -> None:
        role = Role(options["role"])
        password = None
        if role is not Role.SERVICE:
            if options["password_stdin"]:
                password = sys.stdin.readline().rstrip("\n")
            else:
                password = getpass.getpass(f"Password for {options['username']}: ")
            if len(password) < 12:
                raise CommandError("the password must be at least 12 characters")
        user = user_create(
            username=options["username"],
            role=role,
            password=password,
            email=options["email"],
            actor=None,
            source=AuditSource.CLI,
        )
        self.stdout.write(f"created {user.username} ({user.role})")

    def _print_invite(self, issued: IssuedInvite, base_url: str) -> None:
        invite = issued.invite
        expires = invite.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        self.stdout.write(
            f"enrolment invite for {invite.user.username}: single use, expires {expires}\n"
            f"  link: {base_url.rstrip('/')}{invite_path(issued.code)}\n"
            f"  code: {issued.code}\n"
            "Give it to the person over a channel other than the one their password went by; "
            "they sign in with their password, then open the link or type the code. "
            "A new invite replaces this one."
        )

    def _unlock(self, options: dict[str, Any]) -> None:
        raw = options["address"]
        address = address_key(raw) if raw else None
        if raw and address is None:
            raise CommandError(f"{raw!r} is not an IP address")
        user = _user(options["username"]) if options["username"] else None
        done = sign_in_unlock(user=user, address=address, actor=None, source=AuditSource.CLI)
        who = user.username if user else "every account"
        where = f" from {address}" if address else ""
        self.stdout.write(
            f"unlocked {who}{where}: {done.attempts_cleared} attempt record(s) cleared, "
            f"{done.devices_unthrottled} second-factor back-off(s) lifted"
        )


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user named {username!r}")
    return user
