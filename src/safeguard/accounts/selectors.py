"""Reads for accounts: resolving an API token to its active user."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from safeguard.accounts.models import ApiToken, User
from safeguard.accounts.services import token_digest

# Recording every use would turn each API read into a write; once a minute is enough to audit
# which tokens are alive.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_token_user(*, plaintext: str) -> User | None:
    """The active user a token belongs to, or None for an unknown, revoked or disabled token."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(plaintext), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
