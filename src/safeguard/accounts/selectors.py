"""Reads for accounts: resolving an API token to its active user, and second-factor state."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from safeguard.accounts.models import (
    ApiToken,
    EnrolmentInvite,
    RecoveryCode,
    SealedTOTPDevice,
    User,
)
from safeguard.accounts.permissions import second_factor_required


def token_digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is as strong as a slow one here and keeps
    # every API call's authentication to one indexed lookup.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def api_token_active(*, plaintext: str) -> ApiToken | None:
    """The live token with this plaintext (its account active), or None for an unknown,
    revoked or disabled one."""
    token: ApiToken | None = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(plaintext), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return token


class SecondFactorStep(StrEnum):
    """What a signed-in session must do before it reaches the console."""

    NOT_NEEDED = "not_needed"
    DONE = "done"
    ENROL = "enrol"
    VERIFY = "verify"


def session_is_verified(user: Any) -> bool:
    """Whether this request's user passed a second factor in this session.

    django-otp's middleware installs `is_verified`; without it (a request built by hand) the
    answer is no, never an accidental yes.
    """
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def second_factor_step(*, user: User, verified: bool) -> SecondFactorStep:
    if not second_factor_required(user.role):
        return SecondFactorStep.NOT_NEEDED
    if verified:
        return SecondFactorStep.DONE
    if totp_device_confirmed_for(user=user) is None:
        return SecondFactorStep.ENROL
    return SecondFactorStep.VERIFY


def totp_device_confirmed_for(*, user: User) -> SealedTOTPDevice | None:
    device: SealedTOTPDevice | None = SealedTOTPDevice.objects.filter(
        user=user, confirmed=True
    ).first()
    return device


def totp_device_pending_for(*, user: User) -> SealedTOTPDevice | None:
    """An enrolment begun and not yet confirmed with a code."""
    device: SealedTOTPDevice | None = SealedTOTPDevice.objects.filter(
        user=user, confirmed=False
    ).first()
    return device


def recovery_codes_remaining(*, user: User) -> int:
    return RecoveryCode.objects.filter(device__user=user, device__confirmed=True).count()


def enrolment_invite_for_session(*, user: User, invite_id: object) -> EnrolmentInvite | None:
    """The invite this session's holder opened, if it is theirs (the services check whether it
    is still open)."""
    if not isinstance(invite_id, int):
        return None
    return EnrolmentInvite.objects.filter(pk=invite_id, user=user).first()
