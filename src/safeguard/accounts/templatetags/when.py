"""`{% when dt %}`: a time in the reader's zone, with UTC on hover and in the markup.

    {% load when %}
    {% when case.opened_at %}            -> 2026-12-01 03:22 CET
    {% when case.opened_at "seconds" %}  -> 2026-12-01 03:22:41 CET
    {% when case.opened_at "time" %}     -> 03:22 CET

The element is `<time datetime="…Z" title="… UTC">`, so scripts and tests read the exact UTC
instant and a person hovering sees it too.
"""

from __future__ import annotations

from datetime import UTC, datetime

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


@register.simple_tag
def when(value: datetime | None, style: str = "minutes") -> str:
    if value is None:
        return "—"
    fmt = _FORMATS.get(style, _FORMATS["minutes"])
    utc = value.astimezone(UTC)
    local = timezone.localtime(value)
    zone = local.tzname() or "UTC"
    return format_html(
        '<time datetime="{}" title="{} UTC">{} {}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        utc.strftime("%Y-%m-%d %H:%M:%S"),
        local.strftime(fmt),
        zone,
    )
