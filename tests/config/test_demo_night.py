"""The demo's night shift: the staff's display zone is one where it is about 3 a.m. now."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguard.accounts.models import User
from safeguard.audit.events import AuditEventType
from safeguard.config.demo import demo_night_shift, zone_where_it_is
from tests.audit_helpers import assert_audited
from tests.factories import UserFactory


def _minutes_apart(a: time, b: time) -> int:
    diff = abs((a.hour * 60 + a.minute) - (b.hour * 60 + b.minute))
    return min(diff, 24 * 60 - diff)


@given(
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    local=st.times(),
)
def test_the_zone_puts_the_clock_within_half_an_hour_of_the_wanted_time(
    now: datetime, local: time
) -> None:
    zone = zone_where_it_is(local, now=now)

    shown = now.astimezone(ZoneInfo(zone)).time()
    assert _minutes_apart(shown, local) <= 30


@pytest.mark.parametrize(
    ("utc", "zone"),
    [("03:10", "Etc/UTC"), ("22:00", "Etc/GMT-5"), ("08:30", "Etc/GMT+5"), ("15:00", "Etc/GMT+12")],
)
def test_known_hours(utc: str, zone: str) -> None:
    now = datetime.combine(datetime(2026, 12, 1).date(), time.fromisoformat(utc), tzinfo=UTC)

    assert zone_where_it_is(time(3, 22), now=now) == zone


@pytest.mark.django_db
def test_night_shift_sets_the_staff_zones_through_the_audited_service() -> None:
    sam = UserFactory(username="sam.specialist")
    now = datetime(2026, 12, 1, 20, 5, tzinfo=UTC)

    zone = demo_night_shift(now=now)

    sam.refresh_from_db()
    assert sam.time_zone == zone == "Etc/GMT-7"
    assert now.astimezone(ZoneInfo(zone)).strftime("%H") == "03"
    assert_audited(AuditEventType.USER_PREFERENCES_SAVED, actor=sam)
    assert User.objects.filter(time_zone=zone).count() == 1
