"""Accounts and API tokens from the command line: each change audited, a revoked token refused."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from safeguard.accounts.models import ApiToken, User
from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from tests.audit_helpers import assert_audited, last_event_id
from tests.factories import UserFactory

E = AuditEventType


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_service_account_is_created_given_a_token_and_the_token_revoked(db: None) -> None:
    assert run("users", "create", "platform-bot", "--role", "service") == (
        "created platform-bot (service)\n"
    )
    bot = User.objects.get(username="platform-bot")
    assert_audited(
        E.USER_CREATED,
        target=bot,
        actor=None,
        source=AuditSource.CLI,
        data={"username": "platform-bot", "role": "service", "platform": bot.platform},
    )
    assert bot.platform  # a service account speaks for the configured platform

    plaintext = run("tokens", "create", "platform-bot", "--name", "intake").strip()
    token = ApiToken.objects.get(user=bot)
    assert plaintext.startswith(token.prefix)
    created = assert_audited(
        E.TOKEN_CREATED,
        target=token,
        actor=None,
        source=AuditSource.CLI,
        data={"user": "platform-bot", "name": "intake", "prefix": token.prefix},
    )
    assert plaintext not in str(created.data)  # the prefix only, never the token
    bearer = {"Authorization": f"Bearer {plaintext}"}
    assert Client().get("/api/v1/me", headers=bearer).status_code == 200

    assert run("tokens", "revoke", token.prefix) == f"revoked {token.prefix}\n"
    assert_audited(
        E.TOKEN_REVOKED,
        target=token,
        actor=None,
        source=AuditSource.CLI,
        data={"user": "platform-bot", "prefix": token.prefix},
    )
    assert Client().get("/api/v1/me", headers=bearer).status_code == 401
    before = last_event_id()
    with pytest.raises(CommandError, match="already revoked"):
        run("tokens", "revoke", token.prefix)
    assert last_event_id() == before


def test_a_role_change_is_audited_with_both_roles(db: None) -> None:
    person = UserFactory(username="sam", role=Role.SPECIALIST.value)

    assert run("users", "set-role", "sam", "lead") == "sam is now lead\n"

    person.refresh_from_db()
    assert person.role == Role.LEAD.value
    assert_audited(
        E.USER_ROLE_CHANGED,
        target=person,
        actor=None,
        source=AuditSource.CLI,
        data={"from": "specialist", "to": "lead"},
    )
