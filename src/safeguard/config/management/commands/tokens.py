"""`safeguard tokens create|revoke|list`: API tokens for service accounts."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from safeguard.accounts.models import ApiToken, User
from safeguard.accounts.services import AccountError, api_token_create, api_token_revoke
from safeguard.audit.events import AuditSource


class Command(BaseCommand):
    help = "Issue, revoke and list API tokens. A token's plaintext is shown once, at creation."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="what the token is for")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix", help="the token's prefix as shown by `tokens list`")
        sub.add_parser("list")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for token in ApiToken.objects.select_related("user").order_by("created_at"):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(f"{token.prefix}\t{token.user.username}\t{token.name}\t{state}")
            return
        try:
            if action == "create":
                user = User.objects.filter(username=options["username"]).first()
                if user is None:
                    raise CommandError(f"no user named {options['username']!r}")
                issued = api_token_create(
                    user=user, name=options["name"], actor=None, source=AuditSource.CLI
                )
                self.stdout.write(issued.plaintext)
                return
            matches = list(ApiToken.objects.filter(prefix=options["prefix"]))
            if len(matches) != 1:
                raise CommandError(f"{len(matches)} tokens have prefix {options['prefix']!r}")
            api_token_revoke(token=matches[0], actor=None, source=AuditSource.CLI)
            self.stdout.write(f"revoked {options['prefix']}")
        except AccountError as exc:
            raise CommandError(str(exc)) from None
