"""The legal clocks: elapsed time and Regulation 1182/71 counting, across weekends, public
holidays and DST changes. Every expected instant is worked out by hand in the comment beside it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from safeguard.lawenforcement.clocks import (
    Clock,
    ClockError,
    Counting,
    Unit,
    due_at,
    is_working_day,
    period_end,
    warn_at,
)

DUBLIN = ZoneInfo("Europe/Dublin")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

EU_8_HOURS = Clock(8, Unit.HOURS, Counting.EU_1182_71, policy_choice=False, note="Art. 10(4)")
EU_10_DAYS = Clock(10, Unit.DAYS, Counting.EU_1182_71, policy_choice=False, note="Art. 10(3)")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- EU, hours -------------------------------------------------------------------------------


def test_eu_hours_start_at_the_hour_after_the_event() -> None:
    # 14:20 is inside the 14:00 hour, which does not count: 15:00 + 8 h = 23:00 local.
    # 3 June 2026 in Dublin is IST (UTC+1), so 23:00 IST is 22:00 UTC.
    received = datetime(2026, 6, 3, 14, 20, tzinfo=DUBLIN)
    assert due_at(received, EU_8_HOURS, zone="Europe/Dublin", holiday_country="IE") == utc(
        2026, 6, 3, 22, 0
    )


def test_eu_hours_an_event_on_the_hour_loses_that_hour() -> None:
    # 14:00:00 is the first instant of the 14:00 hour; the period still starts at 15:00.
    received = datetime(2026, 6, 3, 14, 0, tzinfo=DUBLIN)
    assert due_at(received, EU_8_HOURS, zone="Europe/Dublin", holiday_country=None) == utc(
        2026, 6, 3, 22, 0
    )


def test_eu_8_hours_runs_through_a_weekend_without_extension() -> None:
    # Friday 20 November 2026, 20:30 in Dublin (GMT, UTC+0): 21:00 + 8 h = Saturday 05:00 local,
    # which is 05:00 UTC. Saturday is not a working day, but an hours period is not moved.
    received = datetime(2026, 11, 20, 20, 30, tzinfo=DUBLIN)
    assert received.weekday() == 4  # a Friday
    due = due_at(received, EU_8_HOURS, zone="Europe/Dublin", holiday_country="IE")
    assert due == utc(2026, 11, 21, 5, 0)
    assert due.tzinfo is UTC


def test_eu_hours_counted_in_the_addressee_zone_whatever_the_input_zone() -> None:
    # Received 19:30 UTC on Friday 20 November 2026 = 20:30 CET in Berlin. The 20:00 hour does
    # not count: 21:00 CET + 8 h = 05:00 CET Saturday = 04:00 UTC.
    received = utc(2026, 11, 20, 19, 30)
    assert due_at(received, EU_8_HOURS, zone="Europe/Berlin", holiday_country="DE") == utc(
        2026, 11, 21, 4, 0
    )


def test_eu_hours_across_the_autumn_clock_change_are_real_hours() -> None:
    # Dublin leaves IST at 01:00 UTC on Sunday 25 October 2026. Received Saturday 22:10 IST
    # (21:10 UTC); the period starts 23:00 IST = 22:00 UTC; 8 real hours later is 06:00 UTC,
    # which on the wall clock is 06:00 GMT (not 07:00).
    received = datetime(2026, 10, 24, 22, 10, tzinfo=DUBLIN)
    assert due_at(received, EU_8_HOURS, zone="Europe/Dublin", holiday_country=None) == utc(
        2026, 10, 25, 6, 0
    )


# --- EU, days --------------------------------------------------------------------------------


def test_eu_10_days_on_a_weekday_ends_at_midnight_after_the_tenth_day() -> None:
    # Received Monday 16 November 2026; day 1 is the 17th, day 10 is Thursday 26 November, a
    # working day; the period ends at 24:00 on the 26th = 00:00 GMT on the 27th = 00:00 UTC.
    received = datetime(2026, 11, 16, 9, 15, tzinfo=DUBLIN)
    assert due_at(received, EU_10_DAYS, zone="Europe/Dublin", holiday_country="IE") == utc(
        2026, 11, 27, 0, 0
    )


def test_eu_10_days_ending_on_a_saturday_moves_to_the_end_of_monday() -> None:
    # Received Wednesday 18 November 2026 at 23:50; day 10 is Saturday 28 November, so the period
    # ends at the expiry of Monday 30 November: 00:00 GMT on 1 December = 00:00 UTC.
    received = datetime(2026, 11, 18, 23, 50, tzinfo=DUBLIN)
    assert due_at(received, EU_10_DAYS, zone="Europe/Dublin", holiday_country="IE") == utc(
        2026, 12, 1, 0, 0
    )


def test_eu_10_days_ending_on_a_sunday_moves_to_the_end_of_monday_in_berlin() -> None:
    # Received Thursday 19 November 2026 (Berlin); day 10 is Sunday 29 November; the period ends
    # at 24:00 on Monday 30 November CET = 23:00 UTC on the 30th.
    received = datetime(2026, 11, 19, 8, 0, tzinfo=BERLIN)
    assert due_at(received, EU_10_DAYS, zone="Europe/Berlin", holiday_country="DE") == utc(
        2026, 11, 30, 23, 0
    )


def test_eu_10_days_ending_on_an_irish_public_holiday_moves_a_day() -> None:
    # Received Friday 27 March 2026 in Dublin; day 10 is Monday 6 April 2026, Easter Monday, a
    # public holiday in Ireland: the period ends at the expiry of Tuesday 7 April, 00:00 IST on
    # the 8th = 23:00 UTC on the 7th (IST began on 29 March).
    received = datetime(2026, 3, 27, 10, 0, tzinfo=DUBLIN)
    assert due_at(received, EU_10_DAYS, zone="Europe/Dublin", holiday_country="IE") == utc(
        2026, 4, 7, 23, 0
    )
    # Counting weekends only, Monday 6 April is a working day: 00:00 IST on the 7th.
    assert due_at(received, EU_10_DAYS, zone="Europe/Dublin", holiday_country=None) == utc(
        2026, 4, 6, 23, 0
    )


def test_eu_10_days_over_good_friday_the_weekend_and_easter_monday_in_germany() -> None:
    # Received Tuesday 24 March 2026 in Berlin; day 10 is Friday 3 April, Good Friday (a German
    # public holiday), then Saturday, Sunday, and Monday 6 April, Easter Monday (a holiday): the
    # first working day is Tuesday 7 April, ending 00:00 CEST on the 8th = 22:00 UTC on the 7th.
    received = datetime(2026, 3, 24, 16, 45, tzinfo=BERLIN)
    assert due_at(received, EU_10_DAYS, zone="Europe/Berlin", holiday_country="DE") == utc(
        2026, 4, 7, 22, 0
    )


def test_eu_10_days_across_the_spring_clock_change() -> None:
    # Received Tuesday 24 March 2026, 09:00 GMT in Dublin; IST starts on the 29th. Day 10 is
    # Friday 3 April (Good Friday is not a public holiday in Ireland): 00:00 IST on 4 April =
    # 23:00 UTC on 3 April. Eleven 24-hour days from receipt-day midnight would give 00:00 UTC.
    received = datetime(2026, 3, 24, 9, 0, tzinfo=DUBLIN)
    assert due_at(received, EU_10_DAYS, zone="Europe/Dublin", holiday_country="IE") == utc(
        2026, 4, 3, 23, 0
    )


def test_eu_10_days_across_the_autumn_clock_change() -> None:
    # Received Monday 19 October 2026, 12:00 IST (11:00 UTC) in Dublin; GMT returns on the 25th.
    # Day 10 is Thursday 29 October: 00:00 GMT on the 30th = 00:00 UTC. Counting 24-hour days
    # from 00:00 IST on the 20th (23:00 UTC on the 19th) would wrongly give 23:00 UTC on the 29th.
    received = datetime(2026, 10, 19, 12, 0, tzinfo=DUBLIN)
    assert due_at(received, EU_10_DAYS, zone="Europe/Dublin", holiday_country="IE") == utc(
        2026, 10, 30, 0, 0
    )


def test_eu_two_day_period_includes_two_working_days() -> None:
    # Art. 3(5). Received Thursday 24 December 2026 in Dublin. Day 2 is Saturday 26 December
    # (also St Stephen's Day), moved by Art. 3(4) to Monday 28 December; the days counted are
    # Friday 25 (Christmas, a holiday), Sat 26, Sun 27 and Mon 28: one working day. The period
    # runs on to Tuesday 29 December, ending 00:00 GMT on the 30th.
    received = datetime(2026, 12, 24, 11, 0, tzinfo=DUBLIN)
    end = period_end(
        received,
        amount=2,
        unit=Unit.DAYS,
        counting=Counting.EU_1182_71,
        zone="Europe/Dublin",
        holiday_country="IE",
    )
    assert end == utc(2026, 12, 30, 0, 0)


# --- Elapsed ---------------------------------------------------------------------------------


def test_elapsed_hours_are_exact_hours() -> None:
    # Received 20:30 EST on 20 November 2026 (01:30 UTC on the 21st); one hour later is 02:30 UTC.
    clock = Clock(1, Unit.HOURS, Counting.ELAPSED, policy_choice=True, note="target")
    received = datetime(2026, 11, 20, 20, 30, tzinfo=NEW_YORK)
    assert due_at(received, clock, zone="America/New_York", holiday_country="US") == utc(
        2026, 11, 21, 2, 30
    )


def test_elapsed_hours_over_the_spring_gap() -> None:
    # 01:30 EST on 8 March 2026 is 06:30 UTC; New York skips 02:00-03:00 that night, so one hour
    # later is 07:30 UTC (03:30 EDT), not 02:30 on any clock.
    clock = Clock(1, Unit.HOURS, Counting.ELAPSED, policy_choice=True, note="target")
    received = datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK)
    assert due_at(received, clock, zone="America/New_York", holiday_country=None) == utc(
        2026, 3, 8, 7, 30
    )


def test_elapsed_days_are_calendar_days_and_ignore_weekends() -> None:
    # US 90-day preservation. Received Monday 2 March 2026, 15:00 EST (20:00 UTC). 2 March + 90
    # days: to 2 April is 31, to 2 May is 61, to 31 May is 90. 31 May is a Sunday and stays.
    # DST began on 8 March, so 15:00 EDT on 31 May is 19:00 UTC.
    clock = Clock(90, Unit.DAYS, Counting.ELAPSED, policy_choice=False, note="§2703(f)")
    received = datetime(2026, 3, 2, 15, 0, tzinfo=NEW_YORK)
    assert due_at(received, clock, zone="America/New_York", holiday_country="US") == utc(
        2026, 5, 31, 19, 0
    )


# --- Working days, warnings, bad input ---------------------------------------------------------


def test_working_days() -> None:
    assert is_working_day(date(2026, 4, 6), holiday_country=None)  # a Monday
    assert not is_working_day(date(2026, 4, 6), holiday_country="IE")  # Easter Monday
    assert not is_working_day(date(2026, 4, 4), holiday_country=None)  # a Saturday
    assert is_working_day(date(2026, 4, 3), holiday_country="IE")  # Good Friday, not an IE holiday
    assert not is_working_day(date(2026, 4, 3), holiday_country="DE")  # but a German one


def test_warn_at_is_three_quarters_of_the_way_by_default() -> None:
    received = utc(2026, 11, 20, 20, 0)
    due = utc(2026, 11, 21, 4, 0)  # 8 hours
    assert warn_at(received, due) == utc(2026, 11, 21, 2, 0)
    assert warn_at(received, due, fraction=0.5) == utc(2026, 11, 21, 0, 0)


def test_warn_at_returns_utc_for_an_input_in_another_zone() -> None:
    received = datetime(2026, 11, 20, 15, 0, tzinfo=NEW_YORK)  # 20:00 UTC
    warned = warn_at(received, utc(2026, 11, 21, 4, 0))
    assert warned == utc(2026, 11, 21, 2, 0)
    assert warned.tzinfo is UTC


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_warn_at_refuses_a_fraction_outside_0_and_1(fraction: float) -> None:
    with pytest.raises(ClockError, match="between 0 and 1"):
        warn_at(utc(2026, 1, 1), utc(2026, 1, 2), fraction=fraction)


def test_warn_at_refuses_a_deadline_not_after_receipt() -> None:
    with pytest.raises(ClockError, match="not after receipt"):
        warn_at(utc(2026, 1, 2), utc(2026, 1, 1))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ClockError, match="naive"):
        due_at(datetime(2026, 1, 1, 12, 0), EU_8_HOURS, zone="Europe/Dublin", holiday_country=None)
    with pytest.raises(ClockError, match="naive"):
        warn_at(datetime(2026, 1, 1), utc(2026, 1, 2))


def test_unknown_zone_and_holiday_country_are_refused() -> None:
    received = utc(2026, 1, 5, 12, 0)
    with pytest.raises(ClockError, match="unknown time zone 'Europe/Atlantis'"):
        due_at(received, EU_10_DAYS, zone="Europe/Atlantis", holiday_country=None)
    with pytest.raises(ClockError, match="no public-holiday calendar for country 'XX'"):
        due_at(received, EU_10_DAYS, zone="Europe/Dublin", holiday_country="XX")


def test_a_negative_period_is_refused() -> None:
    with pytest.raises(ClockError, match="cannot be negative"):
        period_end(
            utc(2026, 1, 1),
            amount=-1,
            unit=Unit.DAYS,
            counting=Counting.ELAPSED,
            zone="UTC",
            holiday_country=None,
        )


def test_eu_days_never_end_before_the_plain_calendar_count() -> None:
    # A property over a year of receipt days: the EU end is at or after 24:00 on day N, and it
    # falls at a local midnight that closes a working day.
    start = datetime(2026, 1, 1, 12, 0, tzinfo=DUBLIN)
    for offset in range(366):
        received = start + timedelta(days=offset)
        end = due_at(received, EU_10_DAYS, zone="Europe/Dublin", holiday_country="IE")
        local_end = end.astimezone(DUBLIN)
        plain_last_day = received.date() + timedelta(days=10)
        assert local_end.date() > plain_last_day
        assert (local_end.hour, local_end.minute) == (0, 0)
        assert is_working_day(local_end.date() - timedelta(days=1), holiday_country="IE")
