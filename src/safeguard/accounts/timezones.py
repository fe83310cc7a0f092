"""Each person sees times in their own time zone: their profile's, else their browser's, else UTC.

Times are stored in UTC everywhere (aware datetimes); this module only chooses the zone a page
renders them in. The browser's zone arrives as a cookie the console's script sets
(`sg_tz`), and is used only when it names a real IANA zone.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

BROWSER_COOKIE = "sg_tz"
_ZONES: frozenset[str] | None = None


def known_zones() -> frozenset[str]:
    global _ZONES  # read once: the tz database does not change under a running process
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def zone_or_none(name: str) -> ZoneInfo | None:
    """The zone a name gives, or None for anything that is not an IANA zone name."""
    if not name or len(name) > 64 or name not in known_zones():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_for(request: HttpRequest) -> tuple[ZoneInfo | None, str]:
    """The zone to show this request's times in, and where it came from."""
    user = getattr(request, "user", None)
    own = zone_or_none(getattr(user, "time_zone", "") or "")
    if own is not None:
        return own, "profile"
    browser = zone_or_none(request.COOKIES.get(BROWSER_COOKIE, ""))
    if browser is not None:
        return browser, "browser"
    return None, "utc"


class TimeZoneMiddleware:
    """Activate the person's zone for the request, so templates render local times."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone, _ = zone_for(request)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
