"""`{% when dt %}`: a time in the reader's zone, with UTC on hover and in the markup.

    {% load when %}
    {% when case.opened_at %}            -> 2026-12-01 03:22 CET
    {% when case.opened_at "seconds" %}  -> 2026-12-01 03:22:41 CET
    {% when case.opened_at "time" %}     -> 03:22 CET

The element is `<time datetime="…Z" title="… UTC">`, so scripts and tests read the exact UTC
instant and a person hovering sees it too.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

_FORMATS = {
    "minutes": "%Y-%m-%d %H:%M",
    "seconds": "%Y-%m-%d %H:%M:%S",
    "time": "%H:%M",
    "date": "%Y-%m-%d",
}


def zone_abbreviation(local: datetime) -> str:
    """The zone's short name at that moment ("CET", "EST"); a bare offset ("-10", "+0530", as
    zones without an abbreviation give) reads "UTC-10", "UTC+05:30"."""
    name = local.tzname() or "UTC"
    if name[:1] in "+-" and name[1:].isdigit():
        return _offset_label(name)
    return name


def _offset_label(name: str) -> str:
    hours, minutes = name[1:3], name[3:5]
    return f"UTC{name[0]}{int(hours)}" + (f":{minutes}" if minutes not in ("", "00") else "")


@register.filter
def zone_label(zone: tzinfo | str | None) -> str:
    """A zone as a person reads it: "Europe/Berlin"; the Etc/GMT zones, whose names count the
    other way round from their offsets, and bare offsets (as Django's current-zone tag names
    them) as "UTC-10"."""
    if zone is None or zone == "":
        return "UTC"
    name = str(zone)
    if name[:1] in "+-" and name[1:].isdigit():
        return _offset_label(name)
    if name.startswith("Etc/"):
        try:
            return zone_abbreviation(timezone.now().astimezone(ZoneInfo(name)))
        except (ZoneInfoNotFoundError, ValueError):
            return name
    return name


@register.simple_tag
def when(value: datetime | None, style: str = "minutes") -> str:
    if value is None:
        return "—"
    fmt = _FORMATS.get(style, _FORMATS["minutes"])
    utc = value.astimezone(UTC)
    local = timezone.localtime(value)
    zone = zone_abbreviation(local)
    return format_html(
        '<time datetime="{}" title="{} UTC">{} {}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        utc.strftime("%Y-%m-%d %H:%M:%S"),
        local.strftime(fmt),
        zone,
    )
