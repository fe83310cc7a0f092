"""Enrolment invites: a password alone cannot enrol an authenticator; an administrator's code
can, once, for its own account, until it expires or is replaced; every step is audited."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

from safeguard.accounts.models import EnrolmentInvite, User
from safeguard.accounts.permissions import Role
from safeguard.accounts.selectors import totp_device_confirmed_for, totp_device_pending_for
from safeguard.accounts.services import (
    AccountError,
    IssuedInvite,
    enrolment_invite_issue,
    invite_path,
    totp_device_create,
)
from safeguard.accounts.totp import secret_b32, totp_now
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from tests.accounts.test_two_factor import PASSWORD
from tests.audit_helpers import (
    assert_audit_trail,
    assert_audited,
    assert_audited_many,
    assert_last_audited,
    last_event_id,
)
from tests.factories import UserFactory
from tests.tasks import run_tasks

E = AuditEventType
ASKS_FOR_INVITE = 'name="invite"'
REFUSED = "that enrolment code is not valid for this account"


def signed_in(user: User) -> Client:
    client = Client()
    answer = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert answer.status_code == 302
    return client


def invite(user: User, **kwargs: Any) -> IssuedInvite:
    return enrolment_invite_issue(user=user, actor=None, source=AuditSource.CLI, **kwargs)


def open_link(client: Client, code: str) -> Any:
    return client.get(invite_path(code), follow=True)


def confirm(client: Client, user: User) -> Any:
    device = totp_device_pending_for(user=user)
    assert device is not None
    return client.post("/accounts/2fa/setup/", {"code": totp_now(secret_b32(device.bin_key))})


def refusals(user: User) -> list[dict[str, Any]]:
    """What each refusal of an invite to `user` recorded (there is at least one)."""
    refused = assert_audited_many(E.USER_ENROLMENT_INVITE_REFUSED, target=user)
    return [e.data for e in refused]


def test_a_password_alone_cannot_start_or_confirm_an_enrolment(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    client = signed_in(user)

    page = client.get("/accounts/2fa/setup/")
    posted = client.post("/accounts/2fa/setup/", {"code": "123456"})
    guessed = client.post("/accounts/2fa/setup/", {"invite": "aaaa-bbbb-cccc-dddd-eeee-ffff"})
    linked = client.get("/accounts/2fa/setup/?invite=made-up")

    for answer in (page, posted, guessed, linked):
        assert answer.status_code == 200
        assert ASKS_FOR_INVITE in answer.content.decode()
        assert "data:image/svg+xml" not in answer.content.decode()
    assert REFUSED in guessed.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert client.get("/")["Location"].startswith("/accounts/2fa/setup/")
    assert client.get("/api/v1/me").status_code == 403
    assert refusals(user) == [
        {"reason": "unknown", "invite": None},
        {"reason": "unknown", "invite": None},
    ]
    assert_audit_trail([E.USER_ENROLMENT_INVITE_REFUSED] * 2, target=user)


def test_the_link_carries_through_signing_in_and_enrols_once(db: None) -> None:
    user = UserFactory(role=Role.LEAD.value)
    issued = invite(user)
    client = Client()

    # Opened before signing in: the sign-in page keeps it in `next`.
    asked = client.get(invite_path(issued.code))
    assert asked["Location"].startswith("/accounts/login/?next=")
    landed = client.post(
        "/accounts/login/",
        {"username": user.username, "password": PASSWORD, "next": invite_path(issued.code)},
        follow=True,
    )
    assert 'src="data:image/svg+xml' in landed.content.decode()
    # The code is not in the page's address any more.
    assert issued.code not in landed.redirect_chain[-1][0]

    assert confirm(client, user).status_code == 200
    assert totp_device_confirmed_for(user=user) is not None
    issued.invite.refresh_from_db()
    assert issued.invite.used_at is not None
    assert_audited(
        E.USER_ENROLMENT_INVITE_USED,
        target=user,
        actor=user,
        source=AuditSource.CONSOLE,
        data={"invite": issued.invite.pk},
    )

    # Used up: after a reset (which prints a new invite), the old code is refused and only
    # the new one works.
    out = io.StringIO()
    call_command("users", "reset-second-factor", user.username, stdout=out)
    new_code = out.getvalue().split("code: ")[1].split()[0]
    again = signed_in(user)
    assert REFUSED in open_link(again, issued.code).content.decode()
    assert refusals(user)[-1] == {"reason": "used", "invite": issued.invite.pk}
    assert 'src="data:image/svg+xml' in open_link(again, new_code).content.decode()


def test_a_new_invite_replaces_the_previous_one_and_its_enrolment(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    first = invite(user)
    client = signed_in(user)
    open_link(client, first.code)
    pending = totp_device_pending_for(user=user)
    assert pending is not None

    second = invite(user)

    # The secret shown under the first invite is gone, and the session's invite with it.
    assert not TOTPDevice.objects.filter(pk=pending.pk).exists()
    assert ASKS_FOR_INVITE in client.get("/accounts/2fa/setup/").content.decode()
    assert REFUSED in open_link(client, first.code).content.decode()
    assert refusals(user)[-2:] == [
        {"reason": "replaced", "invite": first.invite.pk},
        {"reason": "replaced", "invite": first.invite.pk},
    ]
    assert 'src="data:image/svg+xml' in open_link(client, second.code).content.decode()
    assert confirm(client, user).status_code == 200
    issued = assert_audited_many(E.USER_ENROLMENT_INVITE_ISSUED, count=2, target=user)
    assert [e.data["replaced"] for e in issued] == [[], [first.invite.pk]]


def test_an_invite_replaced_mid_enrolment_cannot_be_confirmed(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    first = invite(user)
    client = signed_in(user)
    open_link(client, first.code)
    device = totp_device_pending_for(user=user)
    assert device is not None
    code = totp_now(secret_b32(device.bin_key))
    # Replaced, and a pending device put back by hand: the old invite still does not confirm.
    invite(user)
    totp_device_create(user=user, actor=None, source=AuditSource.CLI, confirmed=False)

    answer = client.post("/accounts/2fa/setup/", {"code": code})

    assert ASKS_FOR_INVITE in answer.content.decode()
    assert totp_device_confirmed_for(user=user) is None


def test_another_accounts_invite_is_refused(db: None) -> None:
    owner = UserFactory(role=Role.SPECIALIST.value)
    other = UserFactory(role=Role.SPECIALIST.value)
    issued = invite(owner)
    client = signed_in(other)

    answer = open_link(client, issued.code)

    assert REFUSED in answer.content.decode()
    assert not TOTPDevice.objects.filter(user=other).exists()
    assert refusals(other) == [{"reason": "another_account", "invite": issued.invite.pk}]
    # Its owner can still use it.
    assert 'src="data:image/svg+xml' in open_link(signed_in(owner), issued.code).content.decode()


def test_only_the_hash_of_the_code_is_stored(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    issued = invite(user)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_enrolmentinvite")
        rows = str(cursor.fetchall())
    recorded = str(list(AuditEvent.objects.values_list("data", flat=True)))

    plain = issued.code.replace("-", "")
    assert len(plain) == 24  # 120 bits of base32
    for text in (rows, recorded):
        assert issued.code not in text
        assert plain not in text


def test_wrong_invite_codes_count_towards_the_sign_in_lockout(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    issued = invite(user)
    client = signed_in(user)

    answers = [open_link(client, f"wrong-{n}") for n in range(10)]
    right = client.get(invite_path(issued.code))

    assert [a.status_code for a in answers] == [200] * 9 + [429]
    assert right.status_code == 429
    assert not TOTPDevice.objects.filter(user=user).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_invite_expires_and_its_expiry_is_audited() -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    issued = invite(user, valid_for=timedelta(hours=2))
    client = signed_in(user)
    open_link(client, issued.code)
    assert totp_device_pending_for(user=user) is not None
    # The expiry task waits for the invite's end.
    task = DBTaskResult.objects.get(task_path="safeguard.accounts.tasks.enrolment_invite_expire")
    assert task.run_after == issued.invite.expires_at

    # Two hours later (the clock moved by moving the dates back).
    past = timezone.now() - timedelta(seconds=1)
    EnrolmentInvite.objects.filter(pk=issued.invite.pk).update(expires_at=past)
    DBTaskResult.objects.filter(pk=task.pk).update(run_after=past)
    refused = client.get("/accounts/2fa/setup/")
    run_tasks()

    assert ASKS_FOR_INVITE in refused.content.decode()
    assert refusals(user) == [{"reason": "expired", "invite": issued.invite.pk}]
    issued.invite.refresh_from_db()
    assert issued.invite.expired_at is not None
    assert totp_device_pending_for(user=user) is None
    expired = assert_last_audited(E.USER_ENROLMENT_INVITE_EXPIRED, target=user)
    assert (expired.actor, expired.source) == (None, AuditSource.TASK.value)
    assert expired.data["invite"] == issued.invite.pk
    assert REFUSED in open_link(client, issued.code).content.decode()


def test_the_command_prints_the_link_and_the_code_and_audits(db: None) -> None:
    user = UserFactory(role=Role.LEGAL.value)
    out = io.StringIO()

    call_command(
        "users",
        "invite",
        user.username,
        "--hours",
        "2",
        "--base-url",
        "https://safeguard.example/",
        stdout=out,
    )

    printed = out.getvalue()
    row = EnrolmentInvite.objects.get(user=user)
    code = printed.split("code: ")[1].split()[0]
    assert f"link: https://safeguard.example/accounts/2fa/setup/?invite={code}" in printed
    assert row.expires_at - row.created_at == timedelta(hours=2)
    issued = assert_last_audited(E.USER_ENROLMENT_INVITE_ISSUED, target=user)
    assert (issued.actor, issued.source) == (None, AuditSource.CLI.value)
    assert issued.data["expires_at"] == row.expires_at.isoformat()
    assert 'src="data:image/svg+xml' in open_link(signed_in(user), code).content.decode()


def test_invites_are_refused_where_they_make_no_sense(db: None) -> None:
    enrolled = UserFactory(role=Role.SPECIALIST.value)
    totp_device_create(user=enrolled, actor=None, source=AuditSource.CLI, confirmed=True)
    with pytest.raises(AccountError, match="already has an authenticator"):
        invite(enrolled)
    with pytest.raises(AccountError, match="does not use a second factor"):
        invite(UserFactory(role=Role.SERVICE.value))
    with pytest.raises(AccountError, match="inactive"):
        invite(UserFactory(role=Role.SPECIALIST.value, is_active=False))
    with pytest.raises(AccountError, match="up to 14 days"):
        invite(UserFactory(role=Role.SPECIALIST.value), valid_for=timedelta(days=15))
    with pytest.raises(CommandError, match="already has an authenticator"):
        call_command("users", "invite", enrolled.username, stdout=io.StringIO())
    assert not EnrolmentInvite.objects.exists()


def test_a_reset_with_an_impossible_invite_changes_nothing(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    totp_device_create(user=user, actor=None, source=AuditSource.CLI, confirmed=True)
    before = last_event_id()

    with pytest.raises(CommandError, match="valid for up to 14 days"):
        call_command("users", "reset-second-factor", user.username, "--hours", "0")

    # One transaction: the authenticator is still there and nothing was recorded.
    assert totp_device_confirmed_for(user=user) is not None
    assert last_event_id() == before
