"""Writes for accounts: users and roles, API tokens, and the second factor (TOTP and recovery)."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeguard.accounts.models import ApiToken, User
from safeguard.accounts.permissions import Role
from safeguard.accounts.totp import format_recovery_code, looks_like_totp, normalise_code
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record

TOKEN_PREFIX = "sg_"  # noqa: S105 - marks a string as a Safeguard token


class AccountError(Exception):
    """A request about accounts that cannot be carried out; the message says why."""


def token_digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is as strong as a slow one here and keeps
    # every API call's authentication to one indexed lookup.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def user_create(
    *,
    username: str,
    role: Role,
    actor: User | None,
    source: AuditSource,
    password: str | None = None,
    email: str = "",
) -> User:
    if User.objects.filter(username=username).exists():
        raise AccountError(f"a user named {username!r} already exists")
    user = User(username=username, role=role.value, email=email)
    if password:
        user.set_password(password)
    else:
        # Service accounts authenticate with tokens only.
        user.set_unusable_password()
    user.save()
    audit_record(
        event_type=AuditEventType.USER_CREATED,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        data={"username": username, "role": role.value},
    )
    return user


@transaction.atomic
def user_set_role(*, user: User, role: Role, actor: User | None, source: AuditSource) -> User:
    previous = user.role
    user.role = role.value
    user.save(update_fields=["role"])
    audit_record(
        event_type=AuditEventType.USER_ROLE_CHANGED,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        data={"from": previous, "to": role.value},
    )
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


@transaction.atomic
def api_token_create(
    *, user: User, name: str, actor: User | None, source: AuditSource
) -> IssuedToken:
    """Issue a token; its plaintext is returned here once and never stored."""
    if not user.is_active:
        raise AccountError(f"user {user.username!r} is inactive")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=plaintext[:10],
        digest=token_digest(plaintext),
        created_at=timezone.now(),
    )
    audit_record(
        event_type=AuditEventType.TOKEN_CREATED,
        actor=actor,
        source=source,
        target_type="api_token",
        target_id=token.pk,
        data={"user": user.username, "name": name, "prefix": token.prefix},
    )
    return IssuedToken(token=token, plaintext=plaintext)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None, source: AuditSource) -> ApiToken:
    if token.revoked_at is not None:
        raise AccountError(f"token {token.prefix}… is already revoked")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        event_type=AuditEventType.TOKEN_REVOKED,
        actor=actor,
        source=source,
        target_type="api_token",
        target_id=token.pk,
        data={"user": token.user.username, "prefix": token.prefix},
    )
    return token


# --- Second factor: TOTP authenticators and single-use recovery codes (docs/two-factor.md) ---

RECOVERY_CODE_COUNT = 10
# RFC 4226 asks for at least 128 bits of secret; django-otp stores at most 40 bytes.
_SECRET_BYTES = (16, 40)


class SecondFactorFailed(AccountError):
    """A code was wrong, already used, or tried while the device is throttled."""


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    # Plaintext, formatted for display; shown to the person once and not kept by the caller.
    recovery_codes: list[str]


@transaction.atomic
def totp_device_create(
    *,
    user: User,
    actor: User | None,
    source: AuditSource,
    secret: bytes | None = None,
    confirmed: bool,
) -> TOTPDevice:
    """Give `user` an authenticator secret, unconfirmed until they type a code from it.

    `confirmed=True` with a known `secret` is for the demo, where nobody scans a QR code.
    """
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise AccountError(f"{user.username} already has an authenticator; reset it first")
    if secret is not None and not _SECRET_BYTES[0] <= len(secret) <= _SECRET_BYTES[1]:
        raise AccountError(
            f"a TOTP secret must be {_SECRET_BYTES[0]} to {_SECRET_BYTES[1]} bytes long"
        )
    # Only one secret is live at a time: an enrolment begun and never confirmed is replaced.
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    key = secret if secret is not None else secrets.token_bytes(20)
    device = TOTPDevice.objects.create(
        user=user, name="authenticator", key=key.hex(), confirmed=confirmed
    )
    audit_record(
        event_type=AuditEventType.USER_TOTP_DEVICE_CREATED,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        data={"device": device.pk, "confirmed": confirmed},
    )
    return device


def totp_device_confirm(
    *, device: TOTPDevice, code: str, actor: User, source: AuditSource
) -> Enrolment:
    """Confirm an enrolment with a code from the app, and issue the first recovery codes."""
    # Each outcome commits on its own: a wrong code must keep its audit row and django-otp's
    # throttle count, so the failure is raised only after its transaction has committed.
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().select_related("user").get(pk=device.pk)
        if locked.confirmed:
            raise AccountError(f"{locked.user.username}'s authenticator is already confirmed")
        failure = _check_code(locked, normalise_code(code))
        if failure is None:
            locked.confirmed = True
            locked.save(update_fields=["confirmed"])
            audit_record(
                event_type=AuditEventType.USER_TOTP_CONFIRMED,
                actor=actor,
                source=source,
                target_type="user",
                target_id=locked.user_id,
                data={"device": locked.pk},
            )
            codes = _recovery_codes_replace(user=locked.user, actor=actor, source=source)
            return Enrolment(device=locked, recovery_codes=codes)
        _audit_failure(
            user=locked.user,
            actor=actor,
            source=source,
            stage="enrolment",
            method="totp",
            why=failure,
        )
    raise SecondFactorFailed(failure)


def second_factor_verify(
    *, user: User, code: str, actor: User, source: AuditSource
) -> TOTPDevice | StaticDevice:
    """Check a TOTP code, or else a recovery code (each works once); return the device it matched.

    The caller marks the session verified with the returned device (`django_otp.login`).
    """
    code = normalise_code(code)
    # As in totp_device_confirm, a failure commits its audit row before it is raised.
    with transaction.atomic():
        device: TOTPDevice | StaticDevice | None
        if looks_like_totp(code):
            method = "totp"
            device = (
                TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
        else:
            method = "recovery_code"
            device = (
                StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
        if device is None:
            failure = "this account has no " + (
                "authenticator" if method == "totp" else "recovery codes"
            )
        else:
            failure = _check_code(device, code)
            if failure is None:
                if isinstance(device, StaticDevice):
                    audit_record(
                        event_type=AuditEventType.USER_RECOVERY_CODE_USED,
                        actor=actor,
                        source=source,
                        target_type="user",
                        target_id=user.pk,
                        data={"remaining": device.token_set.count()},
                    )
                else:
                    audit_record(
                        event_type=AuditEventType.USER_SIGNED_IN_SECOND_FACTOR,
                        actor=actor,
                        source=source,
                        target_type="user",
                        target_id=user.pk,
                        data={"method": method},
                    )
                return device
        _audit_failure(
            user=user, actor=actor, source=source, stage="sign_in", method=method, why=failure
        )
    raise SecondFactorFailed(failure)


@transaction.atomic
def recovery_codes_issue(*, user: User, actor: User | None, source: AuditSource) -> list[str]:
    """Replace the person's recovery codes with a new set; the old ones stop working at once."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise AccountError(f"{user.username} has no confirmed authenticator to recover")
    return _recovery_codes_replace(user=user, actor=actor, source=source)


@transaction.atomic
def second_factor_reset(*, user: User, actor: User | None, source: AuditSource) -> None:
    """Remove the authenticator and recovery codes (a lost phone); the next sign-in enrols anew."""
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.filter(user=user).count()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(
        event_type=AuditEventType.USER_SECOND_FACTOR_RESET,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        data={"authenticators": totp, "recovery_devices": static},
    )


def _check_code(device: TOTPDevice | StaticDevice, code: str) -> str | None:
    """None when `device` accepts `code`; otherwise why not, in words for the person."""
    allowed, details = device.verify_is_allowed()
    if not allowed:
        locked_until = (details or {}).get("locked_until")
        wait = (
            max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
            if locked_until is not None
            else 1
        )
        return f"too many wrong codes: wait {wait} s and try again"
    if device.verify_token(code):
        return None
    if isinstance(device, StaticDevice):
        return "that recovery code is wrong or has already been used"
    return "that code is wrong or has already been used"


def _audit_failure(
    *, user: User, actor: User | None, source: AuditSource, stage: str, method: str, why: str
) -> None:
    audit_record(
        event_type=AuditEventType.USER_SECOND_FACTOR_FAILED,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        # The code that was typed is never recorded: a near miss would help whoever reads it.
        data={"stage": stage, "method": method, "reason": why},
    )


def _recovery_codes_replace(*, user: User, actor: User | None, source: AuditSource) -> list[str]:
    device = StaticDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    replaced, _ = StaticToken.objects.filter(device=device).delete()
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in sorted(codes))
    # A fresh set also lifts any throttle that wrong recovery codes had built up.
    device.throttle_reset(commit=True)
    audit_record(
        event_type=AuditEventType.USER_RECOVERY_CODES_ISSUED,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        data={"count": len(codes), "replaced": replaced},
    )
    return [format_recovery_code(c) for c in sorted(codes)]
