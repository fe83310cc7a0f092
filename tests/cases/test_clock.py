"""The first-action clock (cases/clock.py): one definition, read the same by the countdown, the
deadline task and the paging (issue 10, items 2 and 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from safeguard.cases.clock import FIRST_ACTIONS, ClockState, FirstAction, clock_for

INTAKE = datetime(2026, 12, 1, 8, 16, 43, tzinfo=UTC)
DUE = INTAKE + timedelta(minutes=15)


@dataclass
class FakeCase:
    opened_at: datetime
    first_action_due: datetime | None
    first_action_at: datetime | None = None


def test_the_first_actions_are_exactly_the_documented_four() -> None:
    assert {a.value for a in FIRST_ACTIONS} == {
        "decision",
        "platform_action",
        "escalation_to_lead",
        "referral",
    }
    # A claim and a note are not first actions.
    assert "claim" not in {a.value for a in FirstAction}
    assert "note" not in {a.value for a in FirstAction}


def test_an_actioned_case_says_when_and_stops_counting() -> None:
    """The reproduction: actioned at 08:22:43, at 08:34 the console said "overdue by 0m 35s"
    while the API said `breached_at: null`."""
    acted = INTAKE + timedelta(minutes=6)
    clock = clock_for(FakeCase(INTAKE, DUE, acted), now=datetime(2026, 12, 1, 8, 34, 0, tzinfo=UTC))

    assert clock.state is ClockState.MET
    assert clock.stopped
    assert clock.remaining is None
    assert clock.minutes_to_first_action == 6
    assert clock.sentence == "first action 6 m after intake, within target"


def test_an_action_after_the_deadline_says_by_how_much() -> None:
    clock = clock_for(
        FakeCase(INTAKE, DUE, INTAKE + timedelta(minutes=22)), now=INTAKE + timedelta(hours=1)
    )
    assert clock.state is ClockState.MISSED
    assert clock.minutes_to_first_action == 22
    assert clock.sentence == "first action 22 m after intake, 7 m past target"


@pytest.mark.parametrize(
    ("after", "state", "sentence"),
    [
        (timedelta(minutes=5), ClockState.RUNNING, "no first action yet, 10 m left to target"),
        (
            timedelta(minutes=14, seconds=25),
            ClockState.RUNNING,
            "no first action yet, 35 s left to target",
        ),
        (timedelta(minutes=15), ClockState.RUNNING, "no first action yet, 0 s left to target"),
        (
            timedelta(minutes=15, seconds=35),
            ClockState.OVERDUE,
            "no first action yet, 35 s past target",
        ),
        (
            timedelta(hours=2, minutes=20),
            ClockState.OVERDUE,
            "no first action yet, 2 h 5 m past target",
        ),
    ],
)
def test_a_running_clock(after: timedelta, state: ClockState, sentence: str) -> None:
    clock = clock_for(FakeCase(INTAKE, DUE), now=INTAKE + after)
    assert clock.state is state
    assert not clock.stopped
    assert clock.minutes_to_first_action is None
    assert clock.remaining == DUE - (INTAKE + after)
    assert clock.sentence == sentence


def test_a_case_with_no_deadline() -> None:
    assert clock_for(FakeCase(INTAKE, None), now=INTAKE).sentence == (
        "no first-action target; nobody has acted yet"
    )
    acted = clock_for(FakeCase(INTAKE, None, INTAKE + timedelta(hours=1, minutes=2)), now=INTAKE)
    assert acted.state is ClockState.MET
    assert acted.sentence == "first action 1 h 2 m after intake"


def test_acted_exactly_at_the_deadline_is_within_target() -> None:
    clock = clock_for(FakeCase(INTAKE, DUE, DUE), now=DUE)
    assert clock.state is ClockState.MET
    assert clock.sentence == "first action 15 m after intake, within target"
