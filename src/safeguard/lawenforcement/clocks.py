"""Legal clocks for law-enforcement requests: when a response or a hold falls due, counted as
plain elapsed time or by the EU rules on periods (Regulation (EEC, Euratom) No 1182/71, Art. 3).

Pure: no Django import. Every datetime in and out is aware; results are in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "Clock",
    "ClockError",
    "Counting",
    "Unit",
    "due_at",
    "is_working_day",
    "period_end",
    "warn_at",
]

_SATURDAY = 5


class Unit(StrEnum):
    HOURS = "hours"
    DAYS = "days"


class Counting(StrEnum):
    ELAPSED = "elapsed"  # plain elapsed time from receipt
    EU_1182_71 = "eu_1182_71"  # Regulation (EEC, Euratom) No 1182/71 rules for EU instruments


class ClockError(ValueError):
    """A clock that cannot be computed: a naive datetime, an unknown zone or holiday country."""


@dataclass(frozen=True)
class Clock:
    """A response deadline: `amount` `unit`s after receipt, counted by `counting`.

    `policy_choice` is True where the law says "without delay" or "promptly" (or leaves the date
    to the process itself) and the number is the team's target rather than the law's.
    """

    amount: int
    unit: Unit
    counting: Counting
    policy_choice: bool
    note: str


def _zone(zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ClockError(f"unknown time zone {zone!r}") from None


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        raise ClockError(f"no public-holiday calendar for country {country!r}") from None
    return frozenset(calendar.keys())


def is_working_day(day: date, *, holiday_country: str | None) -> bool:
    """A working day in the sense of Reg. 1182/71 Art. 2(2): not a Saturday, Sunday or public
    holiday of `holiday_country` (None: weekends only)."""
    if day.weekday() >= _SATURDAY:
        return False
    return holiday_country is None or day not in _holidays(holiday_country, day.year)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    # The expiry of the last hour of `day` is 24:00, which is 00:00 of the next day. Midnight
    # exists in every IANA zone used by the EU and the US; where a zone skips it, fold=0 makes
    # zoneinfo resolve the missing wall time forward, which never shortens a period.
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ClockError(f"{name} must be an aware datetime, got a naive one ({value.isoformat()})")


def period_end(
    start: datetime,
    *,
    amount: int,
    unit: Unit,
    counting: Counting,
    zone: str,
    holiday_country: str | None,
) -> datetime:
    """The end of a period of `amount` `unit`s that runs from the event at `start`, in UTC.

    ELAPSED hours are exact hours; ELAPSED days are calendar days in `zone` (the same wall-clock
    time `amount` days later, so a day across a DST change is 23 or 25 hours). EU_1182_71 follows
    Art. 3 of Regulation 1182/71; see docs/law-enforcement-clocks.md.
    """
    _require_aware(start, "the start of a period")
    if amount < 0:
        raise ClockError(f"a period cannot be negative ({amount} {unit})")
    tz = _zone(zone)
    local = start.astimezone(tz)
    if counting is Counting.ELAPSED:
        if unit is Unit.HOURS:
            return (start + timedelta(hours=amount)).astimezone(UTC)
        # Calendar days: add to the wall-clock date, then let zoneinfo find the offset that day.
        wall = local.replace(tzinfo=None) + timedelta(days=amount)
        return wall.replace(tzinfo=tz).astimezone(UTC)
    if unit is Unit.HOURS:
        # Art. 3(1) first subpara. and 3(2)(a): the hour in which the event occurs does not count;
        # the period starts at the beginning of the next hour and ends at the expiry of its last
        # hour. Hours are real hours, so they are added in UTC; Art. 3(4) does not apply to hours.
        hour_started = local.replace(minute=0, second=0, microsecond=0)
        first_hour = hour_started.astimezone(UTC) + timedelta(hours=1)
        return first_hour + timedelta(hours=amount)
    # Art. 3(1) second subpara. and 3(2)(b): the day of the event does not count; the period ends
    # at the expiry of the last hour of its last day.
    last_day = local.date() + timedelta(days=amount)
    # Art. 3(4): a last day that is a public holiday, Saturday or Sunday moves to the expiry of
    # the following working day.
    while not is_working_day(last_day, holiday_country=holiday_country):
        last_day += timedelta(days=1)
    # Art. 3(5): a period of two days or more includes at least two working days.
    if amount >= 2:
        first_day = local.date() + timedelta(days=1)
        while _working_days(first_day, last_day, holiday_country=holiday_country) < 2:
            last_day += timedelta(days=1)
            while not is_working_day(last_day, holiday_country=holiday_country):
                last_day += timedelta(days=1)
    return _local_midnight(last_day, tz).astimezone(UTC)


def _working_days(first: date, last: date, *, holiday_country: str | None) -> int:
    count = 0
    day = first
    while day <= last:
        count += is_working_day(day, holiday_country=holiday_country)
        day += timedelta(days=1)
    return count


def due_at(
    received_at: datetime, clock: Clock, *, zone: str, holiday_country: str | None
) -> datetime:
    """When a request received at `received_at` must be answered under `clock`, in UTC.

    `zone` is the IANA zone whose calendar days count (for an EU order, the addressee's
    establishment); `holiday_country` is the ISO 3166 code whose public holidays count, or None
    for weekends only. Holidays matter only to EU_1182_71 periods in days.
    """
    return period_end(
        received_at,
        amount=clock.amount,
        unit=clock.unit,
        counting=clock.counting,
        zone=zone,
        holiday_country=holiday_country,
    )


def warn_at(received_at: datetime, due: datetime, *, fraction: float = 0.75) -> datetime:
    """When to warn that `due` is near: after `fraction` of the time from receipt to the deadline
    has gone, in UTC."""
    _require_aware(received_at, "received_at")
    _require_aware(due, "due")
    if not 0 < fraction < 1:
        raise ClockError(f"the warning fraction must be between 0 and 1, got {fraction}")
    if due <= received_at:
        raise ClockError(
            f"the deadline ({due.isoformat()}) is not after receipt ({received_at.isoformat()})"
        )
    return (received_at + (due - received_at) * fraction).astimezone(UTC)
