"""The first-action clock: what counts as acting on a case, and how the clock reads.

One definition (docs/queues-and-paging.md, "What counts as the first action"), used by the
services that stop the clock (cases/deciding.py), the deadline task that breaches it
(triage/deadlines.py), the paging that stops when a case is acted on (rota) and the countdown the
console shows (`clock_for(...).sentence`).

The first action is the first of: a decision, an action on the platform, an escalation to a lead
with a note, or a referral. A claim, a release, a note, a reveal or a reassignment is not one.
The module is pure: it reads a case's fields and computes; it writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol


class FirstAction(StrEnum):
    """The acts that stop the first-action clock."""

    DECISION = "decision"
    PLATFORM_ACTION = "platform_action"
    ESCALATION_TO_LEAD = "escalation_to_lead"
    REFERRAL = "referral"


FIRST_ACTIONS = frozenset(FirstAction)


class ClockState(StrEnum):
    RUNNING = "running"  # not acted on yet, before the deadline (or no deadline)
    OVERDUE = "overdue"  # not acted on yet, past the deadline
    MET = "met"  # acted on by the deadline (or with no deadline)
    MISSED = "missed"  # acted on, but after the deadline


class ClockedCase(Protocol):
    """What the clock reads from a case (a `cases.models.Case` has it all)."""

    @property
    def opened_at(self) -> datetime: ...

    @property
    def first_action_due(self) -> datetime | None: ...

    @property
    def first_action_at(self) -> datetime | None: ...


def _minutes(delta: timedelta) -> int:
    """Whole minutes, rounded down (never negative)."""
    return max(int(delta.total_seconds() // 60), 0)


def _span(delta: timedelta) -> str:
    """A short human duration: "35 s", "6 m", "2 h 5 m"."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} m" if minutes else f"{hours} h"


@dataclass(frozen=True)
class Clock:
    """How a case's first-action clock reads at `now`."""

    state: ClockState
    opened_at: datetime
    due: datetime | None
    first_action_at: datetime | None
    now: datetime

    @property
    def stopped(self) -> bool:
        """Whether the first action has happened (the countdown stops at it)."""
        return self.first_action_at is not None

    @property
    def minutes_to_first_action(self) -> int | None:
        """Whole minutes from intake (`opened_at`) to the first action, or None before it."""
        if self.first_action_at is None:
            return None
        return _minutes(self.first_action_at - self.opened_at)

    @property
    def remaining(self) -> timedelta | None:
        """Time left before the deadline while the clock runs (negative when overdue); None once
        it has stopped or with no deadline."""
        if self.stopped or self.due is None:
            return None
        return self.due - self.now

    @property
    def sentence(self) -> str:
        """The clock in one sentence, for people (the console shows it as is)."""
        if self.first_action_at is not None:
            took = _span(self.first_action_at - self.opened_at)
            if self.due is None:
                return f"first action {took} after intake"
            if self.state is ClockState.MISSED:
                late = _span(self.first_action_at - self.due)
                return f"first action {took} after intake, {late} past target"
            return f"first action {took} after intake, within target"
        if self.due is None:
            return "no first-action target; nobody has acted yet"
        if self.state is ClockState.OVERDUE:
            return f"no first action yet, {_span(self.now - self.due)} past target"
        return f"no first action yet, {_span(self.due - self.now)} left to target"


def clock_for(case: ClockedCase, *, now: datetime) -> Clock:
    """The case's first-action clock at `now`."""
    due, acted = case.first_action_due, case.first_action_at
    if acted is not None:
        state = ClockState.MISSED if due is not None and acted > due else ClockState.MET
    else:
        state = ClockState.OVERDUE if due is not None and now > due else ClockState.RUNNING
    return Clock(state=state, opened_at=case.opened_at, due=due, first_action_at=acted, now=now)
