"""`{% when %}` and `zone_label`: times in the reader's zone, named as a person reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from safeguard.accounts.templatetags.when import when, zone_label

INSTANT = datetime(2026, 12, 1, 13, 22, 41, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "text"),
    [
        ("Europe/Berlin", "2026-12-01 14:22 CET"),
        ("Etc/GMT+10", "2026-12-01 03:22 UTC-10"),
        ("Asia/Kolkata", "2026-12-01 18:52 IST"),
        ("Etc/UTC", "2026-12-01 13:22 UTC"),
    ],
)
def test_when_renders_the_local_time_with_utc_in_the_markup(zone: str, text: str) -> None:
    with timezone.override(ZoneInfo(zone)):
        html = when(INSTANT)

    assert f">{text}</time>" in html
    assert 'datetime="2026-12-01T13:22:41Z"' in html
    assert 'title="2026-12-01 13:22:41 UTC"' in html


def test_when_of_nothing_is_a_dash() -> None:
    assert when(None) == "—"


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("Etc/GMT-5", "UTC+5"),
        ("-10", "UTC-10"),
        ("+0530", "UTC+5:30"),
        (None, "UTC"),
        ("", "UTC"),
    ],
)
def test_zone_labels(zone: str | None, label: str) -> None:
    assert zone_label(zone) == label
