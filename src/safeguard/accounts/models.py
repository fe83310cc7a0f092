"""Staff and service accounts, the hashed API tokens that service accounts call with, and the
second factor's records: sealed TOTP keys, hashed recovery codes and enrolment invites."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeguard.accounts.permissions import Permission, Role, role_permissions
from safeguard.accounts.sealing import open_totp_key, recovery_code_digest


class AlertSound(models.TextChoices):
    """Made in the browser (Web Audio), so no sound file ships with Safeguard."""

    NONE = "none"
    CHIME = "chime"
    BEEP = "beep"
    SIREN = "siren"


class User(AbstractUser):
    role = models.CharField(max_length=32, choices=[(r.value, r.value) for r in Role])
    # For service accounts: the host platform they speak for. Its content ids belong to it, and
    # only its own service accounts may declare a content item's hash or upload its bytes.
    platform = models.CharField(max_length=64, blank=True)
    # The person's IANA time zone for display ("" follows the browser's, then UTC); every time
    # is stored in UTC and converted only on the page (accounts.timezones).
    time_zone = models.CharField(max_length=64, blank=True)
    # The sound the console plays when a new P0 arrives in one of the person's queues.
    p0_sound = models.CharField(
        max_length=16, choices=[(s.value, s.value) for s in AlertSound], default=AlertSound.NONE
    )

    def has_permission(self, permission: Permission) -> bool:
        return self.is_active and permission in role_permissions(self.role)

    @property
    def label(self) -> str:
        return f"{self.username} ({self.role})"


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no usable token."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters identify a token in listings without revealing it.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class SealedTOTPDevice(TOTPDevice):
    """django-otp's TOTP device whose `key` column holds the key sealed (accounts/sealing.py).

    django-otp reads the key only through `bin_key`, so opening it there keeps its verification,
    drift, replay and throttling logic as it is. Read through plain `TOTPDevice`, the column is
    not hex and fails to decode: it never verifies a code.
    """

    class Meta:
        proxy = True

    @property
    def bin_key(self) -> bytes:
        return open_totp_key(settings.SAFEGUARD_VAULT_KEY, sealed=self.key, user_id=self.user_id)


class RecoveryCodeDevice(StaticDevice):
    """django-otp's static device, checked against HMACs of the codes (`RecoveryCode`) instead
    of its own plaintext `StaticToken` rows, which stay empty."""

    class Meta:
        proxy = True

    def digest(self, code: str) -> str:
        return recovery_code_digest(settings.SAFEGUARD_VAULT_KEY, code=code, device_id=self.pk)

    def verify_token(self, token: Any) -> bool:
        # The same steps as StaticDevice.verify_token: refuse while throttled, use a matching
        # code up (it works once), count a miss towards the throttle.
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        match = RecoveryCode.objects.filter(device=self, digest=self.digest(str(token))).first()
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    """One unused recovery code, kept only as its HMAC; the row is deleted when the code is used."""

    device = models.ForeignKey(StaticDevice, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "digest"], name="recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"recovery code {self.pk} of device {self.device_id}"


class EnrolmentInvite(models.Model):
    """An administrator's leave for one person to enrol an authenticator: single use, expiring.

    Only the SHA-256 of the code is stored. An invite is open until it is used, replaced by a
    newer one, or expires; `expired_at` records when the expiry was noted (the check itself
    reads `expires_at`, so an invite past it is refused whether or not the task has run).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrolment_invites")
    digest = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"enrolment invite {self.pk} for user {self.user_id}"

    @property
    def closed(self) -> bool:
        return any(t is not None for t in (self.used_at, self.revoked_at, self.expired_at))
