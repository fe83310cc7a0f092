"""`safeguard users create|set-role|list`: manage staff and service accounts from the shell."""

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.accounts.services import AccountError, user_create, user_set_role
from safeguard.audit.events import AuditSource


class Command(BaseCommand):
    help = "Create users, change roles, list users."

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

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for user in User.objects.order_by("username"):
                state = "" if user.is_active else " (inactive)"
                self.stdout.write(f"{user.username}\t{user.role}{state}")
            return
        if action == "create":
            role = Role(options["role"])
            password = None
            if role is not Role.SERVICE:
                if options["password_stdin"]:
                    password = sys.stdin.readline().rstrip("\n")
                else:
                    password = getpass.getpass(f"Password for {options['username']}: ")
                if len(password) < 12:
                    raise CommandError("the password must be at least 12 characters")
            try:
                user = user_create(
                    username=options["username"],
                    role=role,
                    password=password,
                    email=options["email"],
                    actor=None,
                    source=AuditSource.CLI,
                )
            except AccountError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"created {user.username} ({user.role})")
            return
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        user_set_role(user=user, role=Role(options["role"]), actor=None, source=AuditSource.CLI)
        self.stdout.write(f"{user.username} is now {user.role}")
