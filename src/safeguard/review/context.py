"""Template context for console pages: today's exposure, so a break can be suggested anywhere."""

from __future__ import annotations

from django.http import HttpRequest

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.review.selectors import exposure_today


def exposure(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.has_permission(Permission.CASES_CASE_REVIEW):
        return {}
    return {"exposure": exposure_today(user)}
