"""The case lifecycle: legal transitions only, through the service, each one audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.models import Case
from safeguard.cases.services import CasePermissionDenied, ReasonRequired, case_transition
from safeguard.cases.workflow import (
    EDGES,
    CaseState,
    CaseTransition,
    IllegalTransition,
    diagram_markdown,
    next_state,
)
from tests.conftest import case_of, escalation_body
from tests.factories import UserFactory

T = CaseTransition
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def case(service_api: Any) -> Case:
    body = service_api.post("/api/v1/escalations", escalation_body()).json()
    return case_of(body)


def test_intake_triages_a_new_case(case: Case) -> None:
    assert case.state == CaseState.TRIAGED
    event = AuditEvent.objects.get(
        event_type=AuditEventType.CASE_TRANSITIONED, target_id=str(case.pk)
    )
    assert event.data["transition"] == "triage"
    assert event.actor is None


def test_the_whole_lifecycle_with_reopen(case: Case) -> None:
    lead = UserFactory(role=Role.LEAD.value)
    path = [T.START_REVIEW, T.DECIDE, T.RECORD_ACTIONS, T.CLOSE, T.REOPEN]
    states = []
    for transition in path:
        case = case_transition(
            case=case,
            transition=transition,
            actor=lead,
            source=AuditSource.CONSOLE,
            reason="new information" if transition is T.REOPEN else "",
        )
        states.append(case.state)

    assert states == ["in_review", "decided", "actioned", "closed", "triaged"]
    events = AuditEvent.objects.filter(
        event_type=AuditEventType.CASE_TRANSITIONED, target_id=str(case.pk)
    ).order_by("seq")
    assert [e.data["transition"] for e in events] == ["triage", *(t.value for t in path)]
    assert events.last().actor == lead  # type: ignore[union-attr]
    assert Case.objects.get(pk=case.pk).closed_at is None


def test_an_illegal_transition_is_refused_and_changes_nothing(case: Case) -> None:
    before = AuditEvent.objects.count()

    with pytest.raises(IllegalTransition, match="cannot decide a case that is triaged"):
        case_transition(case=case, transition=T.DECIDE, actor=None, source=AuditSource.SYSTEM)

    assert Case.objects.get(pk=case.pk).state == CaseState.TRIAGED
    assert AuditEvent.objects.count() == before


def test_a_person_needs_the_transitions_permission(case: Case) -> None:
    auditor = UserFactory(role=Role.AUDITOR.value)

    with pytest.raises(CasePermissionDenied, match="cases:case:review"):
        case_transition(
            case=case, transition=T.START_REVIEW, actor=auditor, source=AuditSource.CONSOLE
        )


def test_reopening_needs_a_reason(case: Case) -> None:
    for t in (T.START_REVIEW, T.DECIDE, T.CLOSE):
        case = case_transition(case=case, transition=t, actor=None, source=AuditSource.SYSTEM)
    lead = UserFactory(role=Role.LEAD.value)

    with pytest.raises(ReasonRequired):
        case_transition(case=case, transition=T.REOPEN, actor=lead, source=AuditSource.CONSOLE)


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("transition", list(CaseTransition))
def test_next_state_follows_the_table_exactly(state: CaseState, transition: T) -> None:
    edge = next(e for e in EDGES if e.name is transition)
    if state in edge.sources:
        assert next_state(state, transition) is edge.target
    else:
        with pytest.raises(IllegalTransition):
            next_state(state, transition)


def test_every_state_is_reachable_and_can_be_left() -> None:
    targets = {e.target for e in EDGES} | {CaseState.NEW}
    sources = set().union(*(e.sources for e in EDGES))
    assert targets == set(CaseState)
    assert sources == set(CaseState)


def test_the_committed_diagram_is_the_generated_one() -> None:
    committed = (REPO / "docs" / "process" / "case.md").read_text(encoding="utf-8")
    assert committed == diagram_markdown(), "run `safeguard diagrams` and commit the result"
