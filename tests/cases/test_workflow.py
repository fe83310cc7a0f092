"""The case lifecycle: legal transitions only, through the service, each one audited."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases import workflow
from safeguard.cases.models import Case
from safeguard.cases.services import CasePermissionDenied, ReasonRequired, case_transition
from safeguard.cases.workflow import (
    CaseState,
    CaseTransition,
    IllegalTransition,
    diagram_markdown,
    next_state,
)
from tests.audit_helpers import assert_audit_trail, assert_audited, last_event_id
from tests.conftest import case_of, escalation_body
from tests.factories import CaseFactory, UserFactory

T = CaseTransition
E = AuditEventType
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def case(service_api: Any) -> Case:
    body = service_api.post("/api/v1/escalations", escalation_body()).json()
    return case_of(body)


def test_intake_triages_a_new_case(case: Case) -> None:
    assert case.state == CaseState.TRIAGED
    assert_audited(
        E.CASE_TRANSITIONED,
        target=case,
        actor=None,
        data={"transition": "triage", "from": "new", "to": "triaged"},
    )


def test_the_whole_lifecycle_with_reopen(case: Case) -> None:
    lead = UserFactory(role=Role.LEAD.value)
    path = [T.START_REVIEW, T.DECIDE, T.RECORD_ACTIONS, T.CLOSE, T.REOPEN]
    states = []
    before = last_event_id()
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
    events = assert_audit_trail([E.CASE_TRANSITIONED] * len(path), target=case, after=before)
    assert [e.data["transition"] for e in events] == [t.value for t in path]
    assert {e.actor for e in events} == {lead}
    assert events[-1].data["reason"] == "new information"
    assert Case.objects.get(pk=case.pk).closed_at is None


def test_an_illegal_transition_is_refused_and_changes_nothing(case: Case) -> None:
    before = last_event_id()

    with pytest.raises(IllegalTransition, match="cannot decide a case that is triaged"):
        case_transition(case=case, transition=T.DECIDE, actor=None, source=AuditSource.SYSTEM)

    assert Case.objects.get(pk=case.pk).state == CaseState.TRIAGED
    assert last_event_id() == before


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


# The lifecycle, written out by hand (as tests/accounts/test_endpoint_permissions.py writes the
# access table): changing a transition, its source states or who may take it must change this
# table too, on purpose. Every (state, transition) pair not listed is illegal.
S = CaseState
LEGAL: dict[tuple[CaseState, CaseTransition], CaseState] = {
    (S.NEW, T.TRIAGE): S.TRIAGED,
    (S.TRIAGED, T.START_REVIEW): S.IN_REVIEW,
    (S.IN_REVIEW, T.RELEASE): S.TRIAGED,
    (S.IN_REVIEW, T.DECIDE): S.DECIDED,
    (S.DECIDED, T.RECORD_ACTIONS): S.ACTIONED,
    (S.DECIDED, T.CLOSE): S.CLOSED,
    (S.ACTIONED, T.CLOSE): S.CLOSED,
    (S.CLOSED, T.REOPEN): S.TRIAGED,
}
# Which roles may take each transition as a person; Safeguard itself (actor None) takes any.
# Triage is Safeguard's own work; of people, only a lead (who may reopen, and so re-triage) may.
REVIEWERS = frozenset({Role.SPECIALIST, Role.LEAD})
WHO: dict[CaseTransition, frozenset[Role]] = {
    T.TRIAGE: frozenset({Role.LEAD}),
    T.START_REVIEW: REVIEWERS,
    T.RELEASE: REVIEWERS,
    T.DECIDE: REVIEWERS,
    T.RECORD_ACTIONS: REVIEWERS,
    T.CLOSE: REVIEWERS,
    T.REOPEN: frozenset({Role.LEAD}),
}
START, END = S.NEW, S.CLOSED


def test_the_tables_name_every_state_and_transition() -> None:
    assert {state for state, _ in LEGAL} | set(LEGAL.values()) == set(CaseState)
    assert {transition for _, transition in LEGAL} == set(CaseTransition) == set(WHO)


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("transition", list(CaseTransition))
def test_next_state_follows_the_written_table(state: CaseState, transition: T) -> None:
    if (state, transition) in LEGAL:
        assert next_state(state, transition) is LEGAL[state, transition]
    else:
        with pytest.raises(IllegalTransition, match=f"cannot {transition.value} a case"):
            next_state(state, transition)


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("transition", list(CaseTransition))
def test_the_service_takes_exactly_the_legal_transitions(
    state: CaseState, transition: T, db: None
) -> None:
    case = CaseFactory(state=state)
    before = last_event_id()

    if (state, transition) not in LEGAL:
        with pytest.raises(IllegalTransition):
            case_transition(
                case=case, transition=transition, actor=None, source=AuditSource.SYSTEM, reason="r"
            )
        assert Case.objects.get(pk=case.pk).state == state
        assert last_event_id() == before
        return

    moved = case_transition(
        case=case, transition=transition, actor=None, source=AuditSource.SYSTEM, reason="r"
    )

    target = LEGAL[state, transition]
    assert Case.objects.get(pk=case.pk).state == moved.state == target
    assert (moved.closed_at is not None) is (target is S.CLOSED)
    assert_audited(
        AuditEventType.CASE_TRANSITIONED,
        target=case,
        actor=None,
        source=AuditSource.SYSTEM,
        data={"transition": transition.value, "from": state.value, "to": target.value},
        after=before,
    )


@pytest.mark.parametrize(("state", "transition"), list(LEGAL))
def test_exactly_the_roles_in_the_table_may_take_each_transition(
    state: CaseState, transition: T, db: None
) -> None:
    for role in Role:
        case = CaseFactory(state=state)
        person = UserFactory(role=role.value)
        if role in WHO[transition]:
            moved = case_transition(
                case=case,
                transition=transition,
                actor=person,
                source=AuditSource.CONSOLE,
                reason="a reason",
            )
            assert moved.state == LEGAL[state, transition], role
            assert_audited(AuditEventType.CASE_TRANSITIONED, target=case, actor=person)
        else:
            with pytest.raises(CasePermissionDenied, match=f"may not {transition.value} cases"):
                case_transition(
                    case=case,
                    transition=transition,
                    actor=person,
                    source=AuditSource.CONSOLE,
                    reason="a reason",
                )
            assert Case.objects.get(pk=case.pk).state == state, role


def _reachable(start: CaseState, *, forward: bool) -> set[CaseState]:
    """Breadth-first over what `next_state` allows: the states reachable from `start`
    (`forward`), or the states from which `start` can be reached."""
    seen, frontier = {start}, [start]
    while frontier:
        here = frontier.pop(0)
        for state in CaseState:
            for transition in CaseTransition:
                source, dest = (here, state) if forward else (state, here)
                try:
                    arrived = next_state(source, transition)
                except IllegalTransition:
                    continue
                if arrived is dest and state not in seen:
                    seen.add(state)
                    frontier.append(state)
    return seen


def test_every_state_is_reachable_from_new_and_every_state_can_reach_closed() -> None:
    assert _reachable(START, forward=True) == set(CaseState)
    assert _reachable(END, forward=False) == set(CaseState)


def test_the_reachability_check_finds_a_state_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # A check that cannot fail is no check: with no way into `actioned`, or none out of it to
    # `closed`, the breadth-first search above must notice.
    edges = workflow.EDGES_BY_NAME
    monkeypatch.setitem(
        edges, T.RECORD_ACTIONS, dataclasses.replace(edges[T.RECORD_ACTIONS], sources=frozenset())
    )
    assert S.ACTIONED not in _reachable(START, forward=True)

    monkeypatch.undo()
    monkeypatch.setitem(
        edges, T.CLOSE, dataclasses.replace(edges[T.CLOSE], sources=frozenset({S.DECIDED}))
    )
    assert _reachable(START, forward=True) == set(CaseState)
    assert S.ACTIONED not in _reachable(END, forward=False)


def test_the_committed_diagram_is_the_generated_one() -> None:
    committed = (REPO / "docs" / "process" / "case.md").read_text(encoding="utf-8")
    assert committed == diagram_markdown(), "run `safeguard diagrams` and commit the result"
