"""Staff sign-in with a second factor: TOTP enrolment, verification, recovery codes, the gates."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role, console_allowed, second_factor_required
from safeguard.accounts.selectors import totp_device_confirmed_for, totp_device_pending_for
from safeguard.accounts.services import (
    RECOVERY_CODE_COUNT,
    AccountError,
    SecondFactorFailed,
    enrolment_invite_issue,
    invite_path,
    recovery_codes_issue,
    second_factor_reset,
    second_factor_verify,
    totp_device_create,
)
from safeguard.accounts.totp import normalise_code, secret_b32, totp_now
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from tests.audit_helpers import (
    assert_audit_trail,
    assert_audited,
    assert_audited_many,
    assert_last_audited,
    audit_log_intact,
)
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"
KNOWN_SECRET = b"safeguard-test-secret-20"
E = AuditEventType


@pytest.fixture(autouse=True)
def _no_throttle(settings: Any) -> None:
    # django-otp waits 1 s, 2 s, 4 s … after each wrong code; tests that mean to exercise the
    # throttle set the factor back to 1 themselves.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def events_for(user: User) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(target_type="user", target_id=str(user.pk)).order_by("id")
    )


def event_types(user: User) -> list[str]:
    return [e.event_type for e in events_for(user)]


def wrong_code(secret: str) -> str:
    """A six-digit code that none of the steps django-otp tolerates (now, before, after) accepts."""
    now = time.time()
    accepted = {totp_now(secret, at=now + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in accepted)


def sign_in_with_password(client: Client, user: User) -> Any:
    return client.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD}, follow=True
    )


def invited(client: Client, role: Role = Role.SPECIALIST) -> tuple[User, Any]:
    """A new person with an administrator's invite, signed in with their password and sent
    through the invite link to the enrolment page."""
    user = UserFactory(role=role.value)
    issued = enrolment_invite_issue(user=user, actor=None, source=AuditSource.CLI)
    sign_in_with_password(client, user)
    return user, client.get(invite_path(issued.code), follow=True)


def enrolled(role: Role = Role.SPECIALIST) -> tuple[User, str, list[str]]:
    """A person with a confirmed authenticator of a known secret, and their recovery codes."""
    user = UserFactory(role=role.value)
    totp_device_create(
        user=user, actor=None, source=AuditSource.CLI, secret=KNOWN_SECRET, confirmed=True
    )
    codes = recovery_codes_issue(user=user, actor=None, source=AuditSource.CLI)
    return user, secret_b32(KNOWN_SECRET), codes


# --- Which roles ---


@pytest.mark.parametrize(
    ("role", "console", "second_factor"),
    [
        (Role.SPECIALIST, True, True),
        (Role.LEAD, True, True),
        (Role.LEGAL, True, True),
        (Role.AUDITOR, True, True),
        (Role.ADMIN, True, True),
        (Role.SERVICE, False, False),
        # Partners use the portal at /le/ only, with a second factor (docs/law-enforcement.md).
        (Role.LE_PARTNER, False, True),
    ],
)
def test_every_console_role_needs_a_second_factor(
    role: Role, console: bool, second_factor: bool
) -> None:
    assert console_allowed(role.value) is console
    assert second_factor_required(role.value) is second_factor


def test_an_unknown_role_has_no_console() -> None:
    assert not console_allowed("")
    assert not second_factor_required("")


# --- The pure helper against RFC 6238's SHA-1 test vectors ---


@pytest.mark.parametrize(
    ("at", "code"),
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")],
)
def test_totp_now_matches_rfc_6238(at: int, code: str) -> None:
    assert totp_now(secret_b32(b"12345678901234567890"), at=at) == code


def test_recovery_codes_are_typed_loosely() -> None:
    assert normalise_code(" AbCd-EfGh ") == "abcdefgh"
    assert normalise_code("123 456") == "123456"


# --- Enrolment ---


def test_signing_in_without_an_authenticator_asks_for_the_invite_first(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    client = Client()

    page = sign_in_with_password(client, user)

    # The password alone shows no secret and creates no device (tests/accounts/test_invites.py).
    assert page.redirect_chain[-1][0] == "/accounts/2fa/setup/?next=%2F"
    body = page.content.decode()
    assert 'name="invite"' in body
    assert "data:image/svg+xml" not in body
    assert "no-store" in page["Cache-Control"]
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_the_invite_link_leads_to_the_qr_code(db: None) -> None:
    client = Client()
    user, page = invited(client)

    # The code left the address bar: the page was reloaded without it.
    assert page.redirect_chain[-1][0] == "/accounts/2fa/setup/?next=%2F"
    body = page.content.decode()
    assert 'src="data:image/svg+xml' in body
    device = totp_device_pending_for(user=user)
    assert device is not None
    assert secret_b32(device.bin_key) in body
    assert "no-store" in page["Cache-Control"]
    # Reloading the page shows the same secret rather than a new one.
    assert secret_b32(device.bin_key) in client.get("/accounts/2fa/setup/").content.decode()
    assert TOTPDevice.objects.filter(user=user).count() == 1
    _, created = assert_audit_trail(
        [E.USER_ENROLMENT_INVITE_ISSUED, E.USER_TOTP_DEVICE_CREATED], target=user
    )
    assert (created.actor, created.source) == (user, AuditSource.CONSOLE.value)
    assert created.data == {"device": device.pk, "confirmed": False}


def test_confirming_with_a_correct_code_verifies_the_session_and_shows_recovery_codes_once(
    db: None,
) -> None:
    client = Client()
    user, _ = invited(client)
    device = totp_device_pending_for(user=user)
    assert device is not None
    secret = secret_b32(device.bin_key)

    shown = client.post("/accounts/2fa/setup/", {"code": totp_now(secret), "next": "/pages/"})

    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", shown.content.decode())
    assert len(set(codes)) == RECOVERY_CODE_COUNT
    assert 'href="/pages/"' in shown.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    # The session is verified: the console and the API by session both answer.
    assert client.get("/").status_code == 200
    assert client.get("/pages/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    # The codes were shown once: the recovery page counts them but does not show them.
    later = client.get("/accounts/2fa/recovery/").content.decode()
    assert f"You have {RECOVERY_CODE_COUNT} unused recovery codes" in later
    assert not any(code in later for code in codes)

    _, _, used, confirmed, issued = assert_audit_trail(
        [
            E.USER_ENROLMENT_INVITE_ISSUED,
            E.USER_TOTP_DEVICE_CREATED,
            E.USER_ENROLMENT_INVITE_USED,
            E.USER_TOTP_CONFIRMED,
            E.USER_RECOVERY_CODES_ISSUED,
        ],
        target=user,
    )
    assert (confirmed.actor, confirmed.source) == (user, AuditSource.CONSOLE.value)
    assert confirmed.data == {"device": device.pk}
    assert used.actor == user
    assert used.data["device"] == device.pk
    assert issued.data == {"count": RECOVERY_CODE_COUNT, "replaced": 0}
    # Neither the secret nor a code is ever written to the audit log.
    recorded = str([e.data for e in events_for(user)])
    assert secret not in recorded
    assert not any(code.replace("-", "") in recorded for code in codes)
    assert audit_log_intact()


def test_a_wrong_code_is_refused_audited_and_leaves_the_session_unverified(db: None) -> None:
    client = Client()
    user, _ = invited(client, Role.LEAD)
    device = totp_device_pending_for(user=user)
    assert device is not None
    typed = wrong_code(secret_b32(device.bin_key))

    answer = client.post("/accounts/2fa/setup/", {"code": typed})

    assert answer.status_code == 200
    assert "that code is wrong or has already been used" in answer.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=user).exists()
    assert client.get("/")["Location"].startswith("/accounts/2fa/setup/")
    assert client.get("/api/v1/me").status_code == 403

    failed = assert_last_audited(E.USER_SECOND_FACTOR_FAILED, target=user)
    assert failed.actor == user
    assert failed.data == {
        "stage": "enrolment",
        "method": "totp",
        "reason": "that code is wrong or has already been used",
    }
    assert typed not in str(failed.data)


def test_enrolling_again_needs_a_verified_session_once_an_authenticator_exists(
    db: None,
) -> None:
    user, _, _ = enrolled()
    client = Client()
    client.force_login(user)

    answer = client.get("/accounts/2fa/setup/")

    # Otherwise a stolen password would be enough to add the thief's phone.
    assert answer["Location"] == "/accounts/2fa/verify/?next=%2F"
    assert TOTPDevice.objects.filter(user=user).count() == 1


# --- Verification at sign-in ---


def test_signing_in_asks_for_a_code_and_a_correct_one_opens_the_console(db: None) -> None:
    user, secret, _ = enrolled()
    client = Client()

    asked = sign_in_with_password(client, user)
    assert asked.redirect_chain[-1][0] == "/accounts/2fa/verify/?next=%2F"
    assert client.get("/pages/")["Location"] == "/accounts/2fa/verify/?next=%2Fpages%2F"

    answer = client.post("/accounts/2fa/verify/", {"code": totp_now(secret), "next": "/pages/"})

    assert answer.status_code == 302
    assert answer["Location"] == "/pages/"
    assert client.get("/pages/").status_code == 200
    signed_in = assert_last_audited(E.USER_SIGNED_IN_SECOND_FACTOR, target=user)
    assert (signed_in.actor, signed_in.data) == (user, {"method": "totp"})


def test_the_same_totp_code_cannot_be_used_twice(db: None) -> None:
    user, secret, _ = enrolled()
    code = totp_now(secret)
    second_factor_verify(user=user, code=code, actor=user, source=AuditSource.CONSOLE)

    with pytest.raises(SecondFactorFailed, match="already been used"):
        second_factor_verify(user=user, code=code, actor=user, source=AuditSource.CONSOLE)

    # The next step's code is still good (django-otp tolerates one step of clock drift).
    later = totp_now(secret, at=time.time() + 30)
    second_factor_verify(user=user, code=later, actor=user, source=AuditSource.CONSOLE)


def test_wrong_codes_are_throttled(db: None, settings: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    user, secret, _ = enrolled()

    with pytest.raises(SecondFactorFailed, match="wrong or has already been used"):
        second_factor_verify(
            user=user, code=wrong_code(secret), actor=user, source=AuditSource.CONSOLE
        )
    # Within the back-off even the right code is refused, and the refusal is audited.
    with pytest.raises(SecondFactorFailed, match="too many wrong codes"):
        second_factor_verify(
            user=user, code=totp_now(secret), actor=user, source=AuditSource.CONSOLE
        )

    wrong, throttled = assert_audited_many(
        E.USER_SECOND_FACTOR_FAILED, count=2, target=user, actor=user, source=AuditSource.CONSOLE
    )
    assert wrong.data["reason"] == "that code is wrong or has already been used"
    assert "too many wrong codes" in throttled.data["reason"]


def test_a_wrong_code_at_sign_in_shows_an_error_and_is_audited(db: None) -> None:
    user, secret, _ = enrolled()
    client = Client()
    sign_in_with_password(client, user)

    answer = client.post("/accounts/2fa/verify/", {"code": wrong_code(secret)})

    assert answer.status_code == 200
    assert "that code is wrong" in answer.content.decode()
    assert client.get("/")["Location"].startswith("/accounts/2fa/verify/")
    failed = assert_last_audited(E.USER_SECOND_FACTOR_FAILED, target=user)
    assert failed.data["stage"] == "sign_in"


def test_the_next_page_must_be_on_this_site(db: None) -> None:
    user, secret, _ = enrolled()
    client = Client()
    client.force_login(user)

    answer = client.post(
        "/accounts/2fa/verify/", {"code": totp_now(secret), "next": "https://elsewhere.example/"}
    )

    assert answer["Location"] == "/"


# --- Recovery codes ---


def test_each_recovery_code_works_once(db: None) -> None:
    user, _, codes = enrolled()
    first = Client()
    sign_in_with_password(first, user)

    # Typed in capitals and without the dash, as people do.
    used = first.post("/accounts/2fa/verify/", {"code": codes[0].replace("-", "").upper()})

    assert used.status_code == 302
    assert first.get("/").status_code == 200
    recovered = assert_last_audited(E.USER_RECOVERY_CODE_USED, target=user)
    assert recovered.data == {"remaining": RECOVERY_CODE_COUNT - 1}

    second = Client()
    sign_in_with_password(second, user)
    refused = second.post("/accounts/2fa/verify/", {"code": codes[0]})

    assert "that recovery code is wrong or has already been used" in refused.content.decode()
    assert second.get("/")["Location"].startswith("/accounts/2fa/verify/")
    refusal = assert_last_audited(E.USER_SECOND_FACTOR_FAILED, target=user)
    assert refusal.data["method"] == "recovery_code"
    # Another unused code still works.
    assert second.post("/accounts/2fa/verify/", {"code": codes[1]}).status_code == 302
    assert second.get("/").status_code == 200


def test_making_new_recovery_codes_replaces_the_old_set(
    db: None, verified_client: Callable[[User], Client]
) -> None:
    user, _, old = enrolled()
    client = verified_client(user)

    shown = client.post("/accounts/2fa/recovery/")

    new = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", shown.content.decode())
    assert len(set(new)) == RECOVERY_CODE_COUNT
    assert not set(new) & set(old)
    assert "previous codes no longer work" in shown.content.decode()
    issued = assert_last_audited(E.USER_RECOVERY_CODES_ISSUED, target=user)
    assert (issued.actor, issued.source) == (user, AuditSource.CONSOLE.value)
    assert issued.data == {"count": RECOVERY_CODE_COUNT, "replaced": RECOVERY_CODE_COUNT}
    with pytest.raises(SecondFactorFailed):
        second_factor_verify(user=user, code=old[0], actor=user, source=AuditSource.CONSOLE)
    second_factor_verify(user=user, code=new[0], actor=user, source=AuditSource.CONSOLE)


def test_recovery_codes_need_a_verified_session(db: None) -> None:
    user, _, _ = enrolled()
    client = Client()
    client.force_login(user)

    assert client.post("/accounts/2fa/recovery/")["Location"].startswith("/accounts/2fa/verify/")
    assert events_for(user)[-1].event_type == E.USER_RECOVERY_CODES_ISSUED
    assert events_for(user)[-1].actor is None  # still the set issued by `enrolled()`


# --- The gates: console, API by session, roles without a console, sign-out ---


def test_an_unverified_session_reaches_neither_the_console_nor_the_api(db: None) -> None:
    user, _, _ = enrolled(Role.LEAD)
    client = Client()
    client.force_login(user)

    for path in ("/", "/pages/"):
        answer = client.get(path)
        assert answer.status_code == 302
        assert answer["Location"].startswith("/accounts/2fa/verify/?next=")
    api = client.get("/api/v1/cases")
    assert api.status_code == 403
    assert "must pass the second factor" in api.json()["detail"]


def test_a_specialist_without_an_authenticator_is_sent_to_enrol_from_any_console_page(
    db: None,
) -> None:
    client = Client()
    client.force_login(UserFactory(role=Role.SPECIALIST.value))

    assert client.get("/pages/")["Location"] == "/accounts/2fa/setup/?next=%2Fpages%2F"
    assert client.get("/api/v1/me").status_code == 403


def test_bearer_tokens_are_not_asked_for_a_second_factor(specialist_api: Any) -> None:
    assert specialist_api.get("/api/v1/me").status_code == 200


def test_an_account_without_a_console_is_refused_it(db: None) -> None:
    client = Client()
    client.force_login(UserFactory(role=Role.SERVICE.value))

    assert client.get("/").status_code == 403
    assert client.get("/pages/").status_code == 403
    assert client.get("/accounts/2fa/setup/").status_code == 403
    assert not TOTPDevice.objects.exists()


def test_a_partner_is_sent_to_the_portal_and_kept_out_of_the_console(db: None) -> None:
    client = Client()
    client.force_login(UserFactory(role=Role.LE_PARTNER.value))

    assert client.get("/")["Location"] == "/le/"
    assert client.get("/pages/").status_code == 403
    assert client.get("/console/queues/").status_code in (403, 404)


def test_anonymous_people_are_sent_to_sign_in(client: Client, db: None) -> None:
    for path in ("/", "/pages/", "/accounts/2fa/setup/", "/accounts/2fa/verify/"):
        assert client.get(path)["Location"].startswith("/accounts/login/?next=")


def test_signing_out_clears_the_verification(
    db: None, verified_client: Callable[[User], Client]
) -> None:
    user, _, _ = enrolled()
    client = verified_client(user)
    assert client.get("/").status_code == 200

    client.post("/accounts/logout/")
    sign_in_with_password(client, user)

    assert client.get("/")["Location"].startswith("/accounts/2fa/verify/")
    assert client.get("/api/v1/me").status_code == 403


# --- Services the demo and administrators use ---


def test_a_confirmed_device_with_a_known_secret_accepts_codes_from_the_helper(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)

    device = totp_device_create(
        user=user, actor=None, source=AuditSource.CLI, secret=KNOWN_SECRET, confirmed=True
    )

    assert device.confirmed
    assert device.bin_key == KNOWN_SECRET
    assert "issuer=Safeguard" in device.config_url
    matched = second_factor_verify(
        user=user,
        code=totp_now(secret_b32(KNOWN_SECRET)),
        actor=user,
        source=AuditSource.CONSOLE,
    )
    assert matched == device
    assert_audited(
        E.USER_TOTP_DEVICE_CREATED,
        target=user,
        actor=None,
        source=AuditSource.CLI,
        data={"device": device.pk, "confirmed": True},
    )
    assert_audited(E.USER_SIGNED_IN_SECOND_FACTOR, target=user, actor=user, data={"method": "totp"})


def test_a_second_authenticator_and_a_short_secret_are_refused(db: None) -> None:
    user, _, _ = enrolled()
    with pytest.raises(AccountError, match="already has an authenticator"):
        totp_device_create(user=user, actor=None, source=AuditSource.CLI, confirmed=False)
    with pytest.raises(AccountError, match="16 to 32 bytes"):
        totp_device_create(
            user=UserFactory(), actor=None, source=AuditSource.CLI, secret=b"short", confirmed=True
        )


def test_resetting_the_second_factor_sends_the_person_to_enrol_again_with_an_invite(
    db: None,
) -> None:
    user, _, codes = enrolled()
    admin = UserFactory(role=Role.ADMIN.value)

    issued = second_factor_reset(user=user, actor=admin, source=AuditSource.CLI)

    assert issued is not None
    assert totp_device_confirmed_for(user=user) is None
    assert not StaticDevice.objects.filter(user=user).exists()
    reset, invited_again = events_for(user)[-2:]
    assert_audited(
        E.USER_SECOND_FACTOR_RESET,
        target=user,
        actor=admin,
        source=AuditSource.CLI,
        data={"authenticators": 1, "recovery_devices": 1},
        after=reset.pk - 1,
    )
    assert_last_audited(E.USER_ENROLMENT_INVITE_ISSUED, target=user)
    assert invited_again.actor == admin
    assert invited_again.data["invite"] == issued.invite.pk
    with pytest.raises(SecondFactorFailed, match="no recovery codes"):
        second_factor_verify(user=user, code=codes[0], actor=user, source=AuditSource.CONSOLE)
    # The password alone does not re-enrol: the page asks for the invite, which then works.
    client = Client()
    sign_in_with_password(client, user)
    assert client.get("/")["Location"].startswith("/accounts/2fa/setup/")
    assert 'name="invite"' in client.get("/accounts/2fa/setup/").content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    page = client.get(invite_path(issued.code), follow=True)
    assert 'src="data:image/svg+xml' in page.content.decode()
