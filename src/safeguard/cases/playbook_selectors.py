"""Playbook reads: the playbooks in force, and one case's checklist with who ticked what.

`playbook_for_case` takes a case its caller already fetched through a case selector
(`case_get_for`), which did the access check.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from safeguard.cases.models import Case, CaseEscalation, Playbook, PlaybookStepTick
from safeguard.cases.playbooks import (
    PlaybookDocument,
    Step,
    StepKind,
    compile_playbooks,
    default_playbooks,
)

__all__ = [
    "CasePlaybook",
    "StepState",
    "case_categories",
    "playbook_active",
    "playbook_active_record",
    "playbook_for_case",
]


@cache
def _compiled(source_text: str) -> PlaybookDocument:
    return compile_playbooks(source_text)


def playbook_active_record() -> Playbook | None:
    """The uploaded document in force, or None when the built-in default is."""
    return Playbook.objects.select_related("uploaded_by").filter(active=True).first()


def playbook_active() -> PlaybookDocument:
    """The active uploaded playbooks, or the built-in default when none was uploaded."""
    text = Playbook.objects.filter(active=True).values_list("source", flat=True).first()
    return default_playbooks() if text is None else _compiled(text)


@dataclass(frozen=True)
class StepState:
    """One step of a case's checklist and its tick, if it was ticked."""

    step: Step
    tick: PlaybookStepTick | None
    # False for a step ticked under an earlier playbook that the one in force no longer lists:
    # kept on the case's record, and never required.
    in_playbook: bool = True

    @property
    def done(self) -> bool:
        return self.tick is not None


@dataclass(frozen=True)
class CasePlaybook:
    """A case's checklist: the version in force, which playbooks it came from, and each step."""

    version: str
    sources: tuple[str, ...]
    categories: tuple[str, ...]
    priority: str
    steps: tuple[StepState, ...]

    @property
    def unticked_required(self) -> list[StepState]:
        return [s for s in self.steps if s.in_playbook and s.step.required and s.tick is None]

    @property
    def ticked(self) -> int:
        return sum(1 for s in self.steps if s.in_playbook and s.tick is not None)

    @property
    def total(self) -> int:
        return sum(1 for s in self.steps if s.in_playbook)


def case_categories(case: Case) -> tuple[str, ...]:
    """The categories of the case's escalations, without repeats, in the order they arrived."""
    found = CaseEscalation.objects.filter(case=case).order_by("joined_at", "id")
    return tuple(dict.fromkeys(found.values_list("escalation__category", flat=True)))


def playbook_for_case(*, case: Case) -> CasePlaybook:
    """The checklist for `case` under the playbooks in force, with each step's tick (who, when,
    the note); steps ticked under an earlier version that are no longer listed come last."""
    document = playbook_active()
    categories = case_categories(case)
    chosen = document.choose(categories, case.priority or None)
    ticks = {
        tick.step_id: tick
        for tick in PlaybookStepTick.objects.filter(case=case).select_related("ticked_by")
    }
    states = [StepState(step=step, tick=ticks.pop(step.id, None)) for step in chosen.steps]
    states += [
        StepState(
            step=Step(tick.step_id, tick.step_title, StepKind.MANUAL, False),
            tick=tick,
            in_playbook=False,
        )
        for tick in sorted(ticks.values(), key=lambda t: (t.ticked_at, t.pk))
    ]
    return CasePlaybook(
        version=document.version,
        sources=chosen.sources,
        categories=categories,
        priority=case.priority,
        steps=tuple(states),
    )
