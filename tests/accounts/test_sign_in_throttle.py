"""Sign-in throttling through the real sign-in and second-factor pages (django-axes, per account
and address, and per address), its audit trail, and unlocking from the command line."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.accounts.services import recovery_codes_issue, totp_device_create
from safeguard.accounts.throttle import address_key
from safeguard.accounts.totp import secret_b32, totp_now
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from tests.accounts.test_two_factor import KNOWN_SECRET, PASSWORD, wrong_code
from tests.audit_helpers import assert_audited, assert_audited_many, audit_log_intact
from tests.factories import UserFactory

E = AuditEventType
HERE = "192.0.2.10"  # the guesser's address (documentation ranges only)
ELSEWHERE = "198.51.100.7"  # where the real person signs in from
LOCKED = "Sign-in paused"
WRONG = "Your username and password did not match"


@pytest.fixture(autouse=True)
def _no_device_back_off(settings: Any) -> None:
    # django-otp's own back-off (1 s, 2 s, 4 s … per device) is tested on its own below; the
    # others look at the per-address limits alone.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def post_password(client: Client, username: str, password: str) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password})


def staff() -> tuple[User, str]:
    user = UserFactory(role=Role.SPECIALIST.value)
    totp_device_create(
        user=user, actor=None, source=AuditSource.CLI, secret=KNOWN_SECRET, confirmed=True
    )
    return user, secret_b32(KNOWN_SECRET)


def signs_in_fully(address: str, user: User, secret: str, *, later: bool = False) -> bool:
    """Password, then code, from `address`; True when the console opens. `later` types the
    next step's code (accepted, as clock drift), since a code works once."""
    client = Client(REMOTE_ADDR=address)
    answer = post_password(client, user.username, PASSWORD)
    if answer.status_code != 302:
        return False
    at = time.time() + (30 if later else 0)
    code = client.post("/accounts/2fa/verify/", {"code": totp_now(secret, at=at)})
    return code.status_code == 302 and client.get("/").status_code == 200


def events(event_type: AuditEventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type.value).order_by("id"))


# --- Passwords ---


def test_thirty_wrong_passwords_then_the_right_one_is_refused_from_that_address(
    db: None,
) -> None:
    user, _ = staff()
    guesser = Client(REMOTE_ADDR=HERE)

    answers = [post_password(guesser, user.username, f"guess-{n}") for n in range(30)]
    right = post_password(guesser, user.username, PASSWORD)

    # Nine ordinary refusals, then the tenth failure locks this account from this address.
    assert [a.status_code for a in answers[:9]] == [200] * 9
    assert all(WRONG in a.content.decode() for a in answers[:9])
    assert [a.status_code for a in answers[9:]] == [429] * 21
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert right["Retry-After"] == "900"
    assert "_auth_user_id" not in guesser.session
    assert guesser.get("/")["Location"].startswith("/accounts/login/")
    # Counted: the ten that led to the lockout. Refusals during it are neither counted (the
    # cool-off runs from the tenth) nor audited, so hammering grows neither table.
    assert AccessAttempt.objects.get(username=user.username).failures_since_start == 10
    failed = assert_audited_many(E.USER_SIGN_IN_FAILED, count=9, target=user, actor=None)
    assert [e.data["failures"] for e in failed] == list(range(1, 10))
    assert failed[0].data == {"address": HERE, "known_account": True, "failures": 1}
    locked = assert_audited(E.USER_SIGN_IN_LOCKED_OUT)
    assert (locked.target_type, locked.target_id) == ("user", str(user.pk))
    assert locked.data == {
        "address": HERE,
        "scope": "account_and_address",
        "stage": "password",
        "known_account": True,
        "failures": 10,
        "cool_off_seconds": 900,
    }
    # No password, right or wrong, reaches the audit log.
    assert "guess-" not in str([e.data for e in AuditEvent.objects.all()])
    assert audit_log_intact()


def test_the_same_account_from_another_address_still_signs_in(db: None) -> None:
    user, secret = staff()
    guesser = Client(REMOTE_ADDR=HERE)
    for n in range(30):
        post_password(guesser, user.username, f"guess-{n}")

    # The on-call specialist at home is not locked out by someone guessing from elsewhere.
    assert signs_in_fully(ELSEWHERE, user, secret)
    assert not signs_in_fully(HERE, user, secret)


def test_many_accounts_guessed_from_one_address_trip_the_per_address_limit(db: None) -> None:
    people = [staff() for _ in range(10)]
    bystander, bystander_secret = staff()
    sprayer = Client(REMOTE_ADDR=HERE)

    # Five guesses at each of ten accounts: under the per-account limit every time, but fifty
    # from one address, of which the last locks the address; invented names count too.
    answers = [
        post_password(sprayer, person.username, f"spray-{n}")
        for n in range(5)
        for person, _ in people[:9]
    ]
    answers += [post_password(sprayer, "no-such-person", f"spray-{n}") for n in range(5)]

    assert [a.status_code for a in answers[:49]] == [200] * 49
    assert answers[49].status_code == 429
    # Every account is now refused from that address, with its right password too …
    assert not signs_in_fully(HERE, bystander, bystander_secret)
    assert post_password(Client(REMOTE_ADDR=HERE), people[0][0].username, PASSWORD).status_code == (
        429
    )
    # … and nobody is refused from anywhere else.
    assert signs_in_fully(ELSEWHERE, bystander, bystander_secret)
    assert signs_in_fully(ELSEWHERE, *people[0])
    locked = assert_audited(E.USER_SIGN_IN_LOCKED_OUT)
    assert (locked.target_type, locked.target_id) == ("address", HERE)
    assert locked.data["scope"] == "address"
    assert locked.data["failures"] == 50
    assert locked.data["known_account"] is False
    # A name that is no account is filed under the address, and the name is not recorded.
    unknown = [e for e in events(E.USER_SIGN_IN_FAILED) if not e.data["known_account"]]
    assert len(unknown) == 4
    assert {(e.target_type, e.target_id) for e in unknown} == {("address", HERE)}
    assert "no-such-person" not in str([e.data for e in AuditEvent.objects.all()])


def test_the_lockout_does_not_tell_whether_the_account_exists(db: None) -> None:
    user, _ = staff()
    pages = []
    for address, username in (("192.0.2.21", user.username), ("192.0.2.22", "nobody-at-all")):
        client = Client(REMOTE_ADDR=address)
        answers = [post_password(client, username, f"guess-{n}") for n in range(11)]
        assert [a.status_code for a in answers] == [200] * 9 + [429] * 2
        pages.append((answers[0].content, answers[-1].content, answers[-1]["Retry-After"]))

    # The same refusal before the lockout and the same lockout page, byte for byte (the sign-in
    # form differs only in its CSRF token, so the error paragraph is compared there).
    (real_wrong, real_locked, real_retry), (none_wrong, none_locked, none_retry) = pages
    assert real_locked == none_locked
    assert real_retry == none_retry
    assert WRONG.encode() in real_wrong
    assert WRONG.encode() in none_wrong


def test_addresses_are_the_peer_never_a_header_and_ipv6_counts_by_its_64(db: None) -> None:
    user, secret = staff()
    # A forged X-Forwarded-For changes nothing: all ten count against the peer address.
    for n in range(10):
        Client(REMOTE_ADDR=HERE, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").post(
            "/accounts/login/", {"username": user.username, "password": "wrong"}
        )
    assert not signs_in_fully(HERE, user, secret)
    # Ten addresses of one IPv6 /64 are one address.
    other, other_secret = staff()
    for n in range(10):
        post_password(Client(REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}"), other.username, "wrong")
    assert not signs_in_fully("2001:db8:1:2:ffff::1", other, other_secret)
    assert signs_in_fully("2001:db8:1:3::1", other, other_secret)
    assert address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::"
    assert address_key("::ffff:192.0.2.10") == HERE


def test_a_password_alone_does_not_clear_the_count_both_factors_do(db: None) -> None:
    user, _ = staff()
    client = Client(REMOTE_ADDR=HERE)
    for n in range(9):
        post_password(client, user.username, f"guess-{n}")

    # Someone holding the password signs in again to start a fresh count of wrong codes: no.
    assert post_password(Client(REMOTE_ADDR=HERE), user.username, PASSWORD).status_code == 302
    assert post_password(client, user.username, "one-more").status_code == 429

    other, other_secret = staff()
    for n in range(9):
        post_password(client, other.username, f"guess-{n}")
    # Passing both factors forgets that account's failures from this address.
    assert signs_in_fully(ELSEWHERE, other, other_secret)
    assert signs_in_fully(HERE, other, other_secret, later=True)
    for n in range(9):
        assert post_password(client, other.username, f"again-{n}").status_code == 200


# --- Second-factor codes count on the same keys ---


@pytest.mark.parametrize("kind", ["totp", "recovery_code"])
def test_wrong_codes_are_throttled_per_account_and_address(db: None, kind: str) -> None:
    user, secret = staff()
    codes = recovery_codes_issue(user=user, actor=None, source=AuditSource.CLI)
    thief = Client(REMOTE_ADDR=HERE)
    assert post_password(thief, user.username, PASSWORD).status_code == 302
    bad = wrong_code(secret) if kind == "totp" else "aaaa-aaaa"
    assert bad not in codes

    answers = [thief.post("/accounts/2fa/verify/", {"code": bad}) for _ in range(12)]
    right = thief.post("/accounts/2fa/verify/", {"code": totp_now(secret)})

    assert [a.status_code for a in answers] == [200] * 9 + [429] * 3
    assert LOCKED in answers[9].content.decode()
    assert right.status_code == 429
    assert thief.get("/")["Location"].startswith("/accounts/2fa/verify/")
    # The same key as passwords: this account cannot sign in from here either …
    assert post_password(Client(REMOTE_ADDR=HERE), user.username, PASSWORD).status_code == 429
    # … but the real person elsewhere can, with the code the thief could not use.
    assert signs_in_fully(ELSEWHERE, user, secret)
    # Each wrong code has its own audit event; the lockout names the stage.
    assert_audited_many(
        E.USER_SECOND_FACTOR_FAILED, count=10, target=user, data={"stage": "sign_in"}
    )
    assert not events(E.USER_SIGN_IN_FAILED)
    locked = assert_audited(E.USER_SIGN_IN_LOCKED_OUT)
    assert (locked.data["stage"], locked.data["scope"]) == ("second_factor", "account_and_address")
    assert bad.replace("-", "") not in str(AccessAttempt.objects.values_list("post_data"))


def test_the_device_back_off_holds_wherever_the_codes_come_from(db: None, settings: Any) -> None:
    # Against guessing from many addresses at once, django-otp's back-off is per device: after
    # a wrong code from one address, even the right code from another waits.
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    user, secret = staff()
    thief = Client(REMOTE_ADDR=HERE)
    post_password(thief, user.username, PASSWORD)
    thief.post("/accounts/2fa/verify/", {"code": wrong_code(secret)})

    person = Client(REMOTE_ADDR=ELSEWHERE)
    post_password(person, user.username, PASSWORD)
    answer = person.post("/accounts/2fa/verify/", {"code": totp_now(secret)})

    assert answer.status_code == 200
    assert "too many wrong codes" in answer.content.decode()


# --- Unlocking ---


def run_users(*args: str) -> str:
    out = io.StringIO()
    call_command("users", *args, stdout=out)
    return out.getvalue()


def test_unlocking_an_account_from_an_address_is_audited_and_lets_it_in(
    db: None, settings: Any
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    user, secret = staff()
    guesser = Client(REMOTE_ADDR=HERE)
    for n in range(10):
        post_password(guesser, user.username, f"guess-{n}")
    other, _ = staff()
    for n in range(3):
        post_password(guesser, other.username, f"guess-{n}")
    # A wrong code elsewhere has set the authenticator's back-off too.
    thief = Client(REMOTE_ADDR=ELSEWHERE)
    post_password(thief, user.username, PASSWORD)
    thief.post("/accounts/2fa/verify/", {"code": wrong_code(secret)})
    assert not signs_in_fully(HERE, user, secret)

    printed = run_users("unlock", user.username, "--address", HERE)

    assert f"unlocked {user.username} from {HERE}: 1 attempt record(s) cleared" in printed
    assert "1 second-factor back-off(s) lifted" in printed
    assert signs_in_fully(HERE, user, secret)
    # Only that account's record from that address went; the other account's stays.
    assert AccessAttempt.objects.filter(username=other.username).exists()
    unlocked = assert_audited(E.USER_SIGN_IN_UNLOCKED)
    assert (unlocked.actor, unlocked.source) == (None, AuditSource.CLI.value)
    assert (unlocked.target_type, unlocked.target_id) == ("user", str(user.pk))
    assert unlocked.data == {"address": HERE, "attempts_cleared": 1, "devices_unthrottled": 1}


def test_unlocking_an_address_lets_every_account_in_from_it(db: None) -> None:
    people = [staff() for _ in range(10)]
    sprayer = Client(REMOTE_ADDR=HERE)
    for n in range(5):
        for person, _ in people:
            post_password(sprayer, person.username, f"spray-{n}")
    assert not signs_in_fully(HERE, *people[0])

    printed = run_users("unlock", "--address", HERE)

    assert f"unlocked every account from {HERE}: 10 attempt record(s) cleared" in printed
    assert signs_in_fully(HERE, *people[0])
    unlocked = assert_audited(E.USER_SIGN_IN_UNLOCKED)
    assert (unlocked.target_type, unlocked.target_id) == ("address", HERE)
    assert unlocked.data["attempts_cleared"] == 10


def test_unlock_needs_a_real_account_or_address(db: None) -> None:
    with pytest.raises(CommandError, match="no user named"):
        run_users("unlock", "nobody")
    with pytest.raises(CommandError, match="not an IP address"):
        run_users("unlock", "--address", "not-an-address")
    with pytest.raises(CommandError, match="name an account, an address, or both"):
        run_users("unlock")
    assert not events(E.USER_SIGN_IN_UNLOCKED)
