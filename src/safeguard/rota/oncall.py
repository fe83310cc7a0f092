"""Who is on call: until the rota lands, the ordered list of usernames in settings."""

from __future__ import annotations

from django.conf import settings

from safeguard.accounts.models import User


def oncall_person(round_: int) -> User | None:
    """The person to page in round `round_` (0 is first on call), or None past the list's end."""
    names = list(settings.SAFEGUARD_ONCALL)
    if round_ >= len(names):
        return None
    return User.objects.filter(username=names[round_], is_active=True).first()


def oncall_lead() -> User | None:
    name = settings.SAFEGUARD_ONCALL_LEAD
    return User.objects.filter(username=name, is_active=True).first() if name else None
