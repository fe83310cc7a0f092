"""Writes for accounts: users and roles, API tokens, the second factor (TOTP, recovery codes,
enrolment invites) and the sign-in throttle's audit trail and unlocks."""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeguard.accounts import tasks
from safeguard.accounts.models import (
    AlertSound,
    ApiToken,
    EnrolmentInvite,
    RecoveryCode,
    RecoveryCodeDevice,
    SealedTOTPDevice,
    User,
)
from safeguard.accounts.permissions import Role, second_factor_required
from safeguard.accounts.sealing import MAX_TOTP_KEY_BYTES, Unreadable, seal_totp_key
from safeguard.accounts.selectors import api_token_active, token_digest
from safeguard.accounts.timezones import zone_or_none
from safeguard.accounts.totp import format_recovery_code, looks_like_totp, normalise_code
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.core.errors import Invalid
from safeguard.core.tasks import enqueue

TOKEN_PREFIX = "sg_"  # noqa: S105 - marks a string as a Safeguard token


class AccountError(Exception):
    """A request about accounts that cannot be carried out; the message says why."""


# Recording every use would turn each API read into a write; once a minute is enough to audit
# which tokens are alive.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_token_authenticate(*, plaintext: str) -> User | None:
    """The active user a bearer token belongs to, or None; notes when the token was last used
    (at most once a minute)."""
    token = api_token_active(plaintext=plaintext)
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def user_create(
    *,
    username: str,
    role: Role,
    actor: User | None,
    source: AuditSource,
    password: str | None = None,
    email: str = "",
    platform: str | None = None,
) -> User:
    """Create an account; a service account speaks for `platform` (the configured one unless
    named), and only service accounts belong to a platform."""
    if User.objects.filter(username=username).exists():
        raise AccountError(f"a user named {username!r} already exists")
    if platform is not None and role is not Role.SERVICE:
        raise AccountError("only service accounts belong to a platform")
    if role is Role.SERVICE:
        platform = platform or settings.SAFEGUARD_PLATFORM
    user = User(username=username, role=role.value, email=email, platform=platform or "")
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
        data={"username": username, "role": role.value, "platform": user.platform},
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
# RFC 4226 asks for at least 128 bits of secret; a sealed key must fit django-otp's column.
_SECRET_BYTES = (16, MAX_TOTP_KEY_BYTES)


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
) -> SealedTOTPDevice:
    """Give `user` an authenticator secret, unconfirmed until they type a code from it.

    The key is stored sealed (accounts/sealing.py). `confirmed=True` with a known `secret` is
    for the demo and tests, where nobody scans a QR code; the console reaches this only
    through `totp_enrolment_start`, which needs an administrator's invite.
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
    device: SealedTOTPDevice = SealedTOTPDevice.objects.create(
        user=user,
        name="authenticator",
        key=seal_totp_key(settings.SAFEGUARD_VAULT_KEY, key=key, user_id=user.pk),
        confirmed=confirmed,
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


def totp_enrolment_start(
    *, user: User, invite: EnrolmentInvite, actor: User, source: AuditSource
) -> SealedTOTPDevice:
    """The pending authenticator of a person enrolling under `invite`, made on first call.

    Raises `InviteRefused` (its audit row committed) when the invite is no longer open.
    """
    with transaction.atomic():
        locked = _invite_locked(invite.pk)
        failure = _invite_problem(locked, user)
        if failure is None:
            pending = SealedTOTPDevice.objects.filter(user=user, confirmed=False).first()
            return pending or totp_device_create(
                user=user, actor=actor, source=source, confirmed=False
            )
        _audit_invite_refused(user=user, actor=actor, source=source, invite=locked, why=failure)
    raise InviteRefused(INVITE_REFUSED_MESSAGE)


def totp_device_confirm(
    *,
    device: TOTPDevice,
    code: str,
    invite: EnrolmentInvite,
    actor: User,
    source: AuditSource,
) -> Enrolment:
    """Confirm an enrolment with a code from the app, use up the invite it was made under, and
    issue the first recovery codes."""
    # Each outcome commits on its own: a wrong code must keep its audit row and django-otp's
    # throttle count, so the failure is raised only after its transaction has committed.
    with transaction.atomic():
        locked = (
            SealedTOTPDevice.objects.select_for_update().select_related("user").get(pk=device.pk)
        )
        if locked.confirmed:
            raise AccountError(f"{locked.user.username}'s authenticator is already confirmed")
        held = _invite_locked(invite.pk)
        refused = _invite_problem(held, locked.user)
        if refused is not None:
            _audit_invite_refused(
                user=locked.user, actor=actor, source=source, invite=held, why=refused
            )
            failure: str | None = INVITE_REFUSED_MESSAGE
        else:
            failure = _check_code(locked, normalise_code(code))
        if failure is None:
            locked.confirmed = True
            locked.save(update_fields=["confirmed"])
            held.used_at = timezone.now()
            held.save(update_fields=["used_at"])
            audit_record(
                event_type=AuditEventType.USER_ENROLMENT_INVITE_USED,
                actor=actor,
                source=source,
                target_type="user",
                target_id=locked.user_id,
                data={"invite": held.pk, "device": locked.pk},
            )
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
        if refused is None:
            _audit_failure(
                user=locked.user,
                actor=actor,
                source=source,
                stage="enrolment",
                method="totp",
                why=failure,
            )
    if refused is not None:
        raise InviteRefused(failure)
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
                SealedTOTPDevice.objects.select_for_update()
                .filter(user=user, confirmed=True)
                .first()
            )
        else:
            method = "recovery_code"
            device = (
                RecoveryCodeDevice.objects.select_for_update()
                .filter(user=user, confirmed=True)
                .first()
            )
        if device is None:
            failure: str | None = "this account has no " + (
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
                        data={"remaining": RecoveryCode.objects.filter(device=device).count()},
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
        assert failure is not None  # noqa: S101 - an accepted code returned above
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
def second_factor_reset(
    *,
    user: User,
    actor: User | None,
    source: AuditSource,
    invite_valid_for: timedelta | None = None,
) -> IssuedInvite | None:
    """Remove the authenticator and recovery codes (a lost phone).

    The person enrols again only with an invite, issued here in the same transaction for a
    role that needs a second factor and returned for the administrator to pass on.
    """
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
    if not (user.is_active and second_factor_required(user.role)):
        return None
    return enrolment_invite_issue(
        user=user,
        actor=actor,
        source=source,
        valid_for=INVITE_VALIDITY if invite_valid_for is None else invite_valid_for,
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
    try:
        if device.verify_token(code):
            return None
    except Unreadable:
        # The sealed key does not open: the vault key changed, or the row was tampered with.
        return "this authenticator cannot be read: ask an administrator to reset it"
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
    device = RecoveryCodeDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        device = RecoveryCodeDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    replaced, _ = RecoveryCode.objects.filter(device=device).delete()
    # Plaintext tokens from before codes were hashed are gone after the data migration; any
    # left by other code would be accepted by nothing here, and are cleared with the set.
    StaticToken.objects.filter(device=device).delete()
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(StaticToken.random_token())
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, digest=device.digest(c)) for c in sorted(codes)
    )
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


# --- Enrolment invites: an administrator's single-use, expiring leave to enrol ---

INVITE_VALIDITY = timedelta(hours=24)
INVITE_MAX_VALIDITY = timedelta(days=14)
# 15 random bytes: 24 base32 characters (120 bits), shown in groups of four.
_INVITE_BYTES = 15
INVITE_REFUSED_MESSAGE = (
    "that enrolment code is not valid for this account: it may be mistyped, used, replaced by "
    "a newer one or expired; ask an administrator for a new one"
)


class InviteRefused(AccountError):
    """An enrolment code was unknown, another account's, used, replaced or expired."""


@dataclass(frozen=True)
class IssuedInvite:
    invite: EnrolmentInvite
    # Plaintext, formatted for display; shown to the administrator once and never stored.
    code: str


def invite_code_digest(code: str) -> str:
    # 120 random bits: a fast hash is as strong as a slow one, as for API tokens.
    return hashlib.sha256(normalise_code(code).encode("utf-8")).hexdigest()


def invite_path(code: str) -> str:
    """Where the person opens their invite (after signing in with their password)."""
    return f"/accounts/2fa/setup/?invite={code}"


@transaction.atomic
def enrolment_invite_issue(
    *,
    user: User,
    actor: User | None,
    source: AuditSource,
    valid_for: timedelta = INVITE_VALIDITY,
) -> IssuedInvite:
    """Issue `user` a single-use enrolment code, valid for `valid_for`; it replaces any open one.

    An enrolment begun under a replaced invite is discarded with it.
    """
    if not user.is_active:
        raise AccountError(f"user {user.username!r} is inactive")
    if not second_factor_required(user.role):
        raise AccountError(f"{user.username} ({user.role}) does not use a second factor")
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise AccountError(
            f"{user.username} already has an authenticator; reset it first "
            "(safeguard users reset-second-factor), which issues an invite"
        )
    if not timedelta(0) < valid_for <= INVITE_MAX_VALIDITY:
        raise AccountError(
            f"an invite is valid for up to {INVITE_MAX_VALIDITY.days} days, not {valid_for}"
        )
    now = timezone.now()
    open_invites = EnrolmentInvite.objects.select_for_update().filter(
        user=user,
        used_at__isnull=True,
        revoked_at__isnull=True,
        expired_at__isnull=True,
        expires_at__gt=now,
    )
    replaced = sorted(open_invites.values_list("pk", flat=True))
    open_invites.update(revoked_at=now)
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    raw = base64.b32encode(secrets.token_bytes(_INVITE_BYTES)).decode("ascii").lower()
    code = "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    invite = EnrolmentInvite.objects.create(
        user=user,
        digest=invite_code_digest(code),
        issued_by=actor,
        created_at=now,
        expires_at=now + valid_for,
    )
    audit_record(
        event_type=AuditEventType.USER_ENROLMENT_INVITE_ISSUED,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        data={
            "invite": invite.pk,
            "expires_at": invite.expires_at.isoformat(),
            "replaced": replaced,
        },
    )
    enqueue(tasks.enrolment_invite_expire, run_after=invite.expires_at, invite_id=invite.pk)
    return IssuedInvite(invite=invite, code=code)


def enrolment_invite_accept(
    *, user: User, code: str, actor: User, source: AuditSource
) -> EnrolmentInvite:
    """The open invite of `user` that `code` names, or `InviteRefused` with its audit row
    committed (the reason is recorded; the person hears one message for every reason)."""
    with transaction.atomic():
        invite = (
            EnrolmentInvite.objects.select_for_update()
            .filter(digest=invite_code_digest(code))
            .first()
        )
        failure = "unknown" if invite is None else _invite_problem(invite, user)
        if failure is None:
            assert invite is not None  # noqa: S101 - no failure means an invite was found
            return invite
        _audit_invite_refused(user=user, actor=actor, source=source, invite=invite, why=failure)
    raise InviteRefused(INVITE_REFUSED_MESSAGE)


@transaction.atomic
def enrolment_invite_expire(*, invite_id: int) -> bool:
    """Record that an invite expired unused (the task scheduled at its expiry runs this)."""
    invite = EnrolmentInvite.objects.select_for_update().filter(pk=invite_id).first()
    now = timezone.now()
    if invite is None or invite.closed or invite.expires_at > now:
        return False
    invite.expired_at = now
    invite.save(update_fields=["expired_at"])
    # The enrolment begun under it (a secret shown, never confirmed) is discarded with it.
    TOTPDevice.objects.filter(user_id=invite.user_id, confirmed=False).delete()
    audit_record(
        event_type=AuditEventType.USER_ENROLMENT_INVITE_EXPIRED,
        actor=None,
        source=AuditSource.TASK,
        target_type="user",
        target_id=invite.user_id,
        data={"invite": invite.pk, "expires_at": invite.expires_at.isoformat()},
    )
    return True


def _invite_locked(pk: int) -> EnrolmentInvite:
    return EnrolmentInvite.objects.select_for_update().get(pk=pk)


def _invite_problem(invite: EnrolmentInvite, user: User, now: datetime | None = None) -> str | None:
    """None when `invite` lets `user` enrol now; otherwise the reason, for the audit log."""
    if invite.user_id != user.pk:
        return "another_account"
    if invite.used_at is not None:
        return "used"
    if invite.revoked_at is not None:
        return "replaced"
    if invite.expired_at is not None or invite.expires_at <= (now or timezone.now()):
        return "expired"
    return None


def _audit_invite_refused(
    *,
    user: User,
    actor: User,
    source: AuditSource,
    invite: EnrolmentInvite | None,
    why: str,
) -> None:
    audit_record(
        event_type=AuditEventType.USER_ENROLMENT_INVITE_REFUSED,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        # The code itself is never recorded; another account's invite is named by its id.
        data={"reason": why, "invite": invite.pk if invite is not None else None},
    )


# --- The sign-in throttle (accounts/throttle.py): its audit trail and administrators' unlocks ---


class SignInStage(StrEnum):
    """Which step of signing in a counted failure was."""

    PASSWORD = "password"  # noqa: S105 - a stage name
    SECOND_FACTOR = "second_factor"  # a TOTP or recovery code, or an enrolment code


class LockoutScope(StrEnum):
    """What a lockout holds back: one account from one address, or every account from one."""

    ACCOUNT_AND_ADDRESS = "account_and_address"
    ADDRESS = "address"


@transaction.atomic
def sign_in_failure_record(
    *, user: User | None, address: str | None, failures: int, source: AuditSource
) -> None:
    """Audit one wrong password that the throttle counted (refusals during a lockout are not
    counted and not recorded, so a locked-out guesser cannot grow the log)."""
    target_type, target_id = _sign_in_target(user, address)
    audit_record(
        event_type=AuditEventType.USER_SIGN_IN_FAILED,
        # Nobody is authenticated yet: Safeguard refused a claim to be `user`.
        actor=None,
        source=source,
        target_type=target_type,
        target_id=target_id,
        data={"address": address, "known_account": user is not None, "failures": failures},
    )


@transaction.atomic
def sign_in_lockout_record(
    *,
    user: User | None,
    address: str | None,
    scope: LockoutScope,
    stage: SignInStage,
    failures: int,
    cool_off: timedelta,
    source: AuditSource,
) -> None:
    """Audit the failure that crossed a limit and locked `scope` out for `cool_off`."""
    target_type, target_id = (
        ("address", address or "")
        if scope is LockoutScope.ADDRESS
        else _sign_in_target(user, address)
    )
    audit_record(
        event_type=AuditEventType.USER_SIGN_IN_LOCKED_OUT,
        actor=None,
        source=source,
        target_type=target_type,
        target_id=target_id,
        data={
            "address": address,
            "scope": scope.value,
            "stage": stage.value,
            "known_account": user is not None,
            "failures": failures,
            "cool_off_seconds": int(cool_off.total_seconds()),
        },
    )


@dataclass(frozen=True)
class Unlocked:
    attempts_cleared: int
    devices_unthrottled: int


@transaction.atomic
def sign_in_unlock(
    *, user: User | None, address: str | None, actor: User | None, source: AuditSource
) -> Unlocked:
    """Lift a sign-in lockout: `user` everywhere, `user` from `address` only, or every account
    from `address`. Unlocking an account also clears its authenticator's back-off."""
    if user is None and not address:
        raise AccountError("name an account, an address, or both")
    cleared = axes_reset(ip=address or None, username=user.username if user else None)
    devices = 0
    if user is not None:
        for model in (TOTPDevice, StaticDevice):
            devices += model.objects.filter(user=user, throttling_failure_count__gt=0).update(
                throttling_failure_count=0, throttling_failure_timestamp=None
            )
    target_type, target_id = _sign_in_target(user, address)
    audit_record(
        event_type=AuditEventType.USER_SIGN_IN_UNLOCKED,
        actor=actor,
        source=source,
        target_type=target_type,
        target_id=target_id,
        data={"address": address, "attempts_cleared": cleared, "devices_unthrottled": devices},
    )
    return Unlocked(attempts_cleared=cleared, devices_unthrottled=devices)


def _sign_in_target(user: User | None, address: str | None) -> tuple[str, object]:
    # A claim to an account that does not exist is filed under the address it came from; the
    # name typed is not recorded (people type passwords into the username box).
    if user is not None:
        return "user", user.pk
    return "address", address or ""


# --- A person's own preferences ----------------------------------------------------------------


class PreferenceInvalid(Invalid):
    """A preference value the console does not know; `field` names the form field it came from."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@transaction.atomic
def user_preferences_save(
    *, user: User, time_zone: str, p0_sound: str, actor: User, source: AuditSource
) -> User:
    """Save a person's own display preferences: the IANA time zone their pages show times in
    ("" follows the browser's) and the sound a new P0 plays. Audited with the values before and
    after; nothing changes if either value is refused."""
    if actor.pk != user.pk:
        raise AccountError("a person's preferences are theirs to change")
    zone = time_zone.strip()
    if zone and zone_or_none(zone) is None:
        raise PreferenceInvalid(
            "time_zone", f"{zone[:64]!r} is not a time zone name such as Europe/Berlin"
        )
    try:
        sound = AlertSound(p0_sound)
    except ValueError:
        allowed = ", ".join(s.value for s in AlertSound)
        raise PreferenceInvalid("p0_sound", f"the P0 sound is one of {allowed}") from None
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = {"time_zone": locked.time_zone, "p0_sound": locked.p0_sound}
    locked.time_zone, locked.p0_sound = zone, sound.value
    locked.save(update_fields=["time_zone", "p0_sound"])
    audit_record(
        event_type=AuditEventType.USER_PREFERENCES_SAVED,
        actor=actor,
        source=source,
        target_type="user",
        target_id=user.pk,
        data={"before": before, "after": {"time_zone": zone, "p0_sound": sound.value}},
    )
    user.time_zone, user.p0_sound = zone, sound.value
    return user
