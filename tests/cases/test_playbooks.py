"""Playbooks: the document and its checks, choosing a case's steps, ticking them (audited), the
close rule, and the API and console around them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.models import Case, Playbook, PlaybookStepTick
from safeguard.cases.playbook_selectors import playbook_active, playbook_for_case
from safeguard.cases.playbook_services import (
    PlaybookConflict,
    PlaybookIncomplete,
    PlaybookPermissionDenied,
    PlaybookStepNotFound,
    PlaybookTickError,
    case_close,
    playbook_activate,
    playbook_step_tick,
)
from safeguard.cases.playbooks import (
    PlaybookError,
    StepKind,
    compile_playbooks,
    default_playbooks,
    default_playbooks_text,
    playbooks_markdown,
)
from safeguard.cases.services import CasePermissionDenied
from safeguard.cases.workflow import CaseState, IllegalTransition, Priority
from safeguard.intake.enums import Category
from safeguard.review.playbook_views import REJECTED, playbook_context
from tests.audit_helpers import assert_audited, assert_not_audited, last_event_id
from tests.conftest import sign_in_verified
from tests.factories import UserFactory, filed_case

REPO = Path(__file__).resolve().parents[2]
E = AuditEventType

# The self-harm P0 checklist, written out by hand from issue 10.
SELF_HARM_P0 = [
    ("emergency-referral", "Contact the local emergency service through a referral", "referral"),
    ("send-safety-resources", "Send the platform's safety resources to the user", "user_support"),
    ("preserve-account", "Preserve the accounts involved", "preservation"),
    ("file-report", "File a report when the law requires one", "report"),
]


def _doc(playbooks: dict[str, Any], version: str = "test-1") -> str:
    """A whole document: every category with an `any` playbook of one step, overridden by
    `playbooks`."""
    full: dict[str, Any] = {
        c.value: {
            "any": [{"id": "check", "title": "Check the case", "kind": "manual", "required": True}]
        }
        for c in Category
    }
    full.update(playbooks)
    return yaml.safe_dump({"version": version, "playbooks": full}, sort_keys=False)


def _step(step_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "title": f"Do {step_id}", "kind": "manual", "required": True, **fields}


# --- The document ------------------------------------------------------------------------------


def test_the_built_in_self_harm_p0_playbook_lists_the_four_steps_in_order() -> None:
    chosen = default_playbooks().choose(["self_harm"], "P0")

    assert [(s.id, s.title, s.kind.value) for s in chosen.steps] == SELF_HARM_P0
    assert all(s.required for s in chosen.steps)
    assert chosen.sources == ("self_harm P0",)


@pytest.mark.parametrize("category", list(Category))
@pytest.mark.parametrize("priority", [*Priority, None])
def test_every_category_and_priority_has_a_non_empty_built_in_playbook(
    category: Category, priority: Priority | None
) -> None:
    chosen = default_playbooks().choose([category.value], priority.value if priority else None)
    assert chosen.steps
    assert any(s.required for s in chosen.steps)


def test_the_built_in_csam_and_imminent_danger_playbooks_report_refer_and_preserve() -> None:
    document = default_playbooks()
    csam = {s.id: s for s in document.choose(["csam"], "P2").steps}
    danger = [s.id for s in document.choose(["imminent_danger"], "P0").steps]

    assert csam["report-ncmec"].kind is StepKind.REPORT
    assert csam["report-ncmec"].required
    assert csam["remove-content"].kind is StepKind.PLATFORM_ACTION
    assert csam["preserve-content"].kind is StepKind.PRESERVATION
    assert danger[0] == "le-emergency-referral"


BAD_DOCUMENTS: list[tuple[str, str, str]] = [
    # (what, the document, a problem it must name: "field: message" as a regular expression)
    ("not YAML", "version: [", r"<yaml>: is not valid YAML"),
    ("a list", "- 1\n", r"<document>: must be a mapping"),
    ("no version", "playbooks: {}\n", r"^version: is missing"),
    ("a number version", _doc({}).replace("version: test-1", "version: 3"), r"version: must be"),
    ("an unknown top key", _doc({}) + "extra: 1\n", r"^extra: unknown key"),
    ("an unknown category", _doc({"abuse": {"any": []}}), r"playbooks\.abuse: is not a category"),
    (
        "a missing category",
        yaml.safe_dump({"version": "v", "playbooks": {"csam": {"any": []}}}),
        r"playbooks\.other: is missing",
    ),
    (
        "an unknown priority",
        _doc({"csam": {"P9": [], "any": []}}),
        r"playbooks\.csam\.P9: is not a priority; use one of P0, P1, P2, P3, any",
    ),
    (
        "a priority not covered",
        _doc({"csam": {"P0": [], "P1": []}}),
        r"playbooks\.csam: has no playbook for P2, P3",
    ),
    ("steps not a list", _doc({"csam": {"any": {"id": "x"}}}), r"csam\.any: must be a list"),
    ("a step not a mapping", _doc({"csam": {"any": ["x"]}}), r"csam\.any\[0\]: must be a mapping"),
    (
        "a duplicate step id",
        _doc({"grooming": {"any": [_step("a"), _step("b"), _step("a")]}}),
        r"playbooks\.grooming\.any\[2\]\.id: duplicate step id 'a': playbooks\.grooming\.any\[0\]",
    ),
    (
        "a missing title",
        _doc({"csam": {"any": [{"id": "a", "kind": "manual", "required": True}]}}),
        r"playbooks\.csam\.any\[0\]\.title: is missing",
    ),
    (
        "a blank title",
        _doc({"csam": {"any": [_step("a", title="   ")]}}),
        r"csam\.any\[0\]\.title: must be a non-empty string",
    ),
    (
        "a two-line title",
        _doc({"csam": {"any": [_step("a", title="one\ntwo")]}}),
        r"csam\.any\[0\]\.title: must be one line",
    ),
    (
        "a title with a hidden character",
        _doc({"csam": {"any": [_step("a", title="Remove\u202ethe content")]}}),
        r"csam\.any\[0\]\.title: contains",
    ),
    (
        "a title that is a number",
        _doc({"csam": {"any": [_step("a", title=5)]}}),
        r"title: must be a non-empty string, got 5",
    ),
    (
        "an unknown kind",
        _doc({"csam": {"any": [_step("a", kind="phone")]}}),
        r"csam\.any\[0\]\.kind: 'phone' is not one of referral, platform_action, report",
    ),
    (
        "required as a string",
        _doc({"csam": {"any": [_step("a", required="true")]}}),
        r"csam\.any\[0\]\.required: must be true or false, got 'true'",
    ),
    (
        "required missing",
        _doc({"csam": {"any": [{"id": "a", "title": "A", "kind": "manual"}]}}),
        r"csam\.any\[0\]\.required: is missing",
    ),
    (
        "an id that is not a slug",
        _doc({"csam": {"any": [_step("Call_Police")]}}),
        r"csam\.any\[0\]\.id: must be a slug",
    ),
    (
        "an unknown step key",
        _doc({"csam": {"any": [_step("a", owner="me")]}}),
        r"csam\.any\[0\]\.owner: unknown key",
    ),
    (
        "one id meaning two steps",
        _doc(
            {
                "csam": {"any": [_step("a", title="Remove the content")]},
                "grooming": {"any": [_step("a", title="Ban the account")]},
            }
        ),
        r"playbooks\.grooming\.any\[0\]\.id: step 'a' has a different title at "
        r"playbooks\.csam\.any\[0\]",
    ),
    ("an alias", _doc({}) + "x: &a 1\ny: *a\n", r"anchors \(&a\) are not allowed"),
    ("a repeated key", "version: a\nversion: b\n", r"duplicate key 'version'"),
]


@pytest.mark.parametrize(
    ("document", "problem"),
    [(d, p) for _, d, p in BAD_DOCUMENTS],
    ids=[w for w, _, _ in BAD_DOCUMENTS],
)
def test_a_bad_document_is_refused_naming_the_problem(document: str, problem: str) -> None:
    with pytest.raises(PlaybookError) as refused:
        compile_playbooks(document)

    found = [str(p) for p in refused.value.problems]
    assert any(re.search(problem, line) for line in found), found


def test_every_problem_is_reported_at_once() -> None:
    document = _doc({"csam": {"any": [_step("A", kind="x", required=1)]}})

    with pytest.raises(PlaybookError) as refused:
        compile_playbooks(document)

    assert [p.field for p in refused.value.problems] == [
        "playbooks.csam.any[0].id",
        "playbooks.csam.any[0].kind",
        "playbooks.csam.any[0].required",
    ]


# Any YAML-shaped value where a document or a part of one goes: a clear refusal or a document,
# never a crash.
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.sampled_from(["P0", "any"])
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(["id", "title", "kind", "required"])),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(category=st.sampled_from([c.value for c in Category]), playbook=_values)
def test_any_playbook_value_is_refused_clearly_or_accepted(category: str, playbook: Any) -> None:
    problems: tuple[Any, ...] = ()
    try:
        document = compile_playbooks(_doc({category: playbook}))
    except PlaybookError as exc:
        problems = exc.problems
    else:
        assert document.choose([category], "P0") is not None
    assert all(p.field and p.message for p in problems)


@hypothesis_settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_is_refused_clearly_or_accepted(text: str) -> None:
    try:
        compile_playbooks(text)
    except PlaybookError as exc:
        problems = exc.problems
    else:
        problems = ()
    assert all(str(p) for p in problems)


# --- Choosing ----------------------------------------------------------------------------------

CHOOSING = _doc(
    {
        "self_harm": {
            "P0": [_step("refer"), _step("resources"), _step("preserve", required=False)],
            "any": [_step("resources")],
        },
        "grooming": {"any": [_step("preserve"), _step("restrict"), _step("resources")]},
        "csam": {"P0": [_step("remove")], "P1": [], "P2": [], "P3": [_step("p3-only")]},
    }
)


@pytest.mark.parametrize(
    ("categories", "priority", "ids", "sources"),
    [
        (["self_harm"], "P0", ["refer", "resources", "preserve"], ["self_harm P0"]),
        (["self_harm"], "P2", ["resources"], ["self_harm any"]),
        # Untriaged: the `any` playbook, or P3's when the category has none.
        (["self_harm"], None, ["resources"], ["self_harm any"]),
        (["csam"], None, ["p3-only"], ["csam P3"]),
        # Categories in the intake's order whatever the order of arrival; each step once.
        (
            ["self_harm", "grooming"],
            "P0",
            ["preserve", "restrict", "resources", "refer"],
            ["grooming any", "self_harm P0"],
        ),
        (["grooming", "grooming"], "P1", ["preserve", "restrict", "resources"], ["grooming any"]),
        # No known category: `other`'s playbook.
        ([], "P1", ["check"], ["other any"]),
        (["no-such-category"], "P1", ["check"], ["other any"]),
    ],
)
def test_choosing_the_steps_of_a_case(
    categories: list[str], priority: str | None, ids: list[str], sources: list[str]
) -> None:
    chosen = compile_playbooks(CHOOSING).choose(categories, priority)

    assert [s.id for s in chosen.steps] == ids
    assert list(chosen.sources) == sources


def test_a_step_listed_twice_is_required_if_either_playbook_requires_it() -> None:
    chosen = compile_playbooks(CHOOSING).choose(["grooming", "self_harm"], "P0")
    # Optional in self_harm P0, required in grooming: required.
    preserve = chosen.step("preserve")
    assert preserve is not None
    assert preserve.required


def test_the_generated_playbooks_document_is_committed() -> None:
    committed = (REPO / "docs" / "playbooks.md").read_text(encoding="utf-8")
    generated = playbooks_markdown(
        default_playbooks(), source_name="src/safeguard/cases/default_playbooks.yaml"
    )
    assert committed == generated, "run `safeguard diagrams` and commit the result"
    assert "Contact the local emergency service through a referral" in committed
    assert "[playbooks.md](../playbooks.md)" in (REPO / "docs/process/case.md").read_text()


# --- Ticking and closing -----------------------------------------------------------------------


@pytest.fixture
def self_harm_p0(db: None) -> Case:
    """A self-harm case filed through intake in the general queue, raised to P0."""
    case = filed_case(
        queue="general",
        category="self_harm",
        summary="A teenager writes that they will hurt themselves tonight.",
    )
    Case.objects.filter(pk=case.pk).update(priority=Priority.P0.value)
    case.refresh_from_db()
    return case


def _decided(case: Case) -> Case:
    Case.objects.filter(pk=case.pk).update(state=CaseState.DECIDED.value)
    case.refresh_from_db()
    return case


def _unchanged(case: Case) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (
        case.state,
        case.closed_at,
        list(PlaybookStepTick.objects.filter(case=case).values_list("step_id", "note")),
        AuditEvent.objects.count(),
    )


def test_a_case_lists_its_playbook_steps_unticked(self_harm_p0: Case) -> None:
    playbook = playbook_for_case(case=self_harm_p0)

    assert [(s.step.id, s.done) for s in playbook.steps] == [(i, False) for i, _, _ in SELF_HARM_P0]
    assert playbook.version == "default-1"
    assert playbook.categories == ("self_harm",)
    assert [s.step.id for s in playbook.unticked_required] == [i for i, _, _ in SELF_HARM_P0]


def test_ticking_a_step_records_who_and_when_and_is_audited(self_harm_p0: Case) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    before = last_event_id()

    tick = playbook_step_tick(
        case=self_harm_p0,
        step_id="emergency-referral",
        actor=specialist,
        note="  Called the county emergency line, reference 4471.  ",
        source=AuditSource.CONSOLE,
    )

    assert tick.ticked_by == specialist
    assert tick.note == "Called the county emergency line, reference 4471."
    assert tick.playbook_version == "default-1"
    assert_audited(
        E.PLAYBOOK_STEP_TICKED,
        target=self_harm_p0,
        actor=specialist,
        source=AuditSource.CONSOLE,
        after=before,
        data={
            "step": "emergency-referral",
            "kind": "referral",
            "required": True,
            "playbook_version": "default-1",
            "note_length": len("Called the county emergency line, reference 4471."),
        },
    )
    states = {s.step.id: s for s in playbook_for_case(case=self_harm_p0).steps}
    assert states["emergency-referral"].tick == tick
    assert states["send-safety-resources"].tick is None


@pytest.mark.parametrize(
    ("step_id", "note", "error", "message"),
    [
        ("emergency-referral", "   ", PlaybookTickError, "needs a note saying what was done"),
        ("emergency-referral", "x" * 10_001, PlaybookTickError, "at most 10000 characters"),
        ("emergency-referral", "a\x00b", PlaybookTickError, "NUL character"),
        (
            "remove-content",
            "done",
            PlaybookStepNotFound,
            "no step 'remove-content' in this case's playbook (default-1: self_harm P0); its "
            "steps are: emergency-referral, send-safety-resources, preserve-account, file-report",
        ),
    ],
)
def test_a_refused_tick_changes_nothing(
    self_harm_p0: Case, step_id: str, note: str, error: type[Exception], message: str
) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    before = _unchanged(self_harm_p0)

    with pytest.raises(error, match=re.escape(message)):
        playbook_step_tick(
            case=self_harm_p0, step_id=step_id, actor=specialist, note=note, source=AuditSource.API
        )

    assert _unchanged(self_harm_p0) == before


def test_a_step_is_ticked_once(self_harm_p0: Case) -> None:
    first, second = UserFactory(role=Role.SPECIALIST.value), UserFactory(role=Role.LEAD.value)
    playbook_step_tick(
        case=self_harm_p0,
        step_id="file-report",
        actor=first,
        note="no report required: no apparent abuse material",
        source=AuditSource.API,
    )
    before = _unchanged(self_harm_p0)

    with pytest.raises(PlaybookConflict, match=f"already ticked by {first.username}"):
        playbook_step_tick(
            case=self_harm_p0, step_id="file-report", actor=second, note="x", source=AuditSource.API
        )
    assert _unchanged(self_harm_p0) == before


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.LEGAL, Role.ADMIN])
def test_only_people_who_work_cases_tick(self_harm_p0: Case, role: Role) -> None:
    with pytest.raises(PlaybookPermissionDenied, match="needs cases:case:review"):
        playbook_step_tick(
            case=self_harm_p0,
            step_id="file-report",
            actor=UserFactory(role=role.value),
            note="x",
            source=AuditSource.API,
        )


def test_a_closed_case_is_not_ticked(self_harm_p0: Case) -> None:
    Case.objects.filter(pk=self_harm_p0.pk).update(state=CaseState.CLOSED.value)
    with pytest.raises(PlaybookConflict, match="the case is closed"):
        playbook_step_tick(
            case=self_harm_p0,
            step_id="file-report",
            actor=UserFactory(role=Role.SPECIALIST.value),
            note="x",
            source=AuditSource.API,
        )


def _tick_all(case: Case, actor: User) -> None:
    for step_id, _, _ in SELF_HARM_P0:
        playbook_step_tick(
            case=case, step_id=step_id, actor=actor, note="done", source=AuditSource.API
        )


def test_a_case_with_every_required_step_ticked_closes(self_harm_p0: Case) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    _tick_all(self_harm_p0, specialist)
    before = last_event_id()

    closed = case_close(case=_decided(self_harm_p0), actor=specialist, source=AuditSource.API)

    assert closed.state == CaseState.CLOSED
    assert_audited(E.CASE_TRANSITIONED, target=closed, after=before, data={"transition": "close"})
    assert_not_audited(E.PLAYBOOK_STEPS_WAIVED, target=closed)


def test_closing_with_a_required_step_unticked_is_refused_naming_the_steps(
    self_harm_p0: Case,
) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    playbook_step_tick(
        case=self_harm_p0,
        step_id="emergency-referral",
        actor=specialist,
        note="ref 1",
        source=AuditSource.API,
    )
    case = _decided(self_harm_p0)
    before = _unchanged(case)

    with pytest.raises(PlaybookIncomplete) as refused:
        case_close(case=case, actor=specialist, source=AuditSource.API, reason="all handled")

    assert refused.value.missing == ["send-safety-resources", "preserve-account", "file-report"]
    assert (
        "required playbook steps are not ticked: Send the platform's safety resources to the "
        "user (send-safety-resources); Preserve the accounts involved (preserve-account); File "
        "a report when the law requires one (file-report). Tick them, or ask a lead"
    ) in str(refused.value)
    assert _unchanged(case) == before


def test_a_lead_closes_with_steps_unticked_only_with_a_reason_which_is_audited(
    self_harm_p0: Case,
) -> None:
    lead = UserFactory(role=Role.LEAD.value)
    case = _decided(self_harm_p0)
    before = _unchanged(case)
    with pytest.raises(PlaybookIncomplete, match="To close the case anyway, give a reason"):
        case_close(case=case, actor=lead, source=AuditSource.CONSOLE, reason="  \n ")
    assert _unchanged(case) == before
    seq = last_event_id()

    closed = case_close(
        case=case, actor=lead, source=AuditSource.CONSOLE, reason="Duplicate of a case handled"
    )

    assert closed.state == CaseState.CLOSED
    assert_audited(
        E.PLAYBOOK_STEPS_WAIVED,
        target=case,
        actor=lead,
        source=AuditSource.CONSOLE,
        after=seq,
        data={
            "steps": [i for i, _, _ in SELF_HARM_P0],
            "reason": "Duplicate of a case handled",
            "playbook_version": "default-1",
        },
    )
    assert_audited(
        E.CASE_TRANSITIONED,
        target=case,
        after=seq,
        data={"transition": "close", "reason": "Duplicate of a case handled"},
    )


def test_closing_follows_the_lifecycle_and_the_permission_first(self_harm_p0: Case) -> None:
    before = _unchanged(self_harm_p0)
    with pytest.raises(IllegalTransition, match="cannot close a case that is triaged"):
        case_close(
            case=self_harm_p0, actor=UserFactory(role=Role.LEAD.value), source=AuditSource.API
        )
    with pytest.raises(CasePermissionDenied, match="needs cases:case:close"):
        case_close(
            case=_decided(self_harm_p0),
            actor=UserFactory(role=Role.LEGAL.value),
            source=AuditSource.API,
        )
    after = _unchanged(self_harm_p0)
    # Only the test's own move to decided differs.
    assert (after[0], after[1:]) == (CaseState.DECIDED, before[1:])


# --- Versions ----------------------------------------------------------------------------------


def test_an_administrator_activates_a_new_version_which_cases_then_follow(
    self_harm_p0: Case,
) -> None:
    admin = UserFactory(role=Role.ADMIN.value)
    text = _doc({"self_harm": {"any": [_step("talk-to-user")]}}, version="team-2")
    seq = last_event_id()

    record = playbook_activate(source_text=text, actor=admin, source=AuditSource.CLI)

    assert record.active
    assert record.version == "team-2"
    assert record.uploaded_by == admin
    assert playbook_active().version == "team-2"
    assert_audited(
        E.PLAYBOOK_ACTIVATED,
        target=("playbook", "team-2"),
        actor=admin,
        source=AuditSource.CLI,
        after=seq,
        data={"digest": compile_playbooks(text).digest},
    )
    assert [s.step.id for s in playbook_for_case(case=self_harm_p0).steps] == ["talk-to-user"]


def test_a_step_ticked_under_an_earlier_version_stays_on_the_case(self_harm_p0: Case) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    playbook_step_tick(
        case=self_harm_p0,
        step_id="file-report",
        actor=specialist,
        note="NCMEC 123",
        source=AuditSource.API,
    )
    playbook_activate(
        source_text=_doc({}, version="team-2"),
        actor=UserFactory(role=Role.ADMIN.value),
        source=AuditSource.API,
    )

    steps = playbook_for_case(case=self_harm_p0).steps

    assert [(s.step.id, s.in_playbook, s.done) for s in steps] == [
        ("check", True, False),
        ("file-report", False, True),
    ]
    assert steps[1].step.title == "File a report when the law requires one"


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (_doc({}, version="default-1"), PlaybookConflict, "the built-in playbooks' version"),
        (_doc({"csam": {"any": [_step("A")]}}), PlaybookError, "playbooks.csam.any[0].id"),
    ],
)
def test_a_refused_activation_changes_nothing(
    db: None, text: str, error: type[Exception], message: str
) -> None:
    admin = UserFactory(role=Role.ADMIN.value)
    count = AuditEvent.objects.count()
    with pytest.raises(error, match=re.escape(message)):
        playbook_activate(source_text=text, actor=admin, source=AuditSource.API)
    assert not Playbook.objects.exists()
    assert AuditEvent.objects.count() == count


def test_a_version_keeps_its_text(db: None) -> None:
    admin = UserFactory(role=Role.ADMIN.value)
    playbook_activate(source_text=_doc({}, "team-2"), actor=admin, source=AuditSource.API)
    changed = _doc({"other": {"any": []}}, "team-2")
    with pytest.raises(PlaybookConflict, match="already exists with different steps"):
        playbook_activate(source_text=changed, actor=admin, source=AuditSource.API)
    # The same text again simply makes it active again.
    playbook_activate(source_text=_doc({}, "team-3"), actor=admin, source=AuditSource.API)
    playbook_activate(source_text=_doc({}, "team-2"), actor=admin, source=AuditSource.API)
    assert list(Playbook.objects.filter(active=True).values_list("version", flat=True)) == [
        "team-2"
    ]


def test_only_administrators_activate(db: None) -> None:
    with pytest.raises(PlaybookPermissionDenied, match="needs cases:playbook:manage"):
        playbook_activate(
            source_text=default_playbooks_text(),
            actor=UserFactory(role=Role.LEAD.value),
            source=AuditSource.API,
        )


def test_the_command_checks_activates_and_shows(tmp_path: Path, db: None) -> None:
    admin = UserFactory(role=Role.ADMIN.value)
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(_doc({}, "team-9"), encoding="utf-8")
    bad.write_text(_doc({"csam": {"any": [_step("a", kind="phone")]}}), encoding="utf-8")

    with pytest.raises(CommandError, match=r"csam\.any\[0\]\.kind: 'phone'"):
        call_command("playbooks", "check", str(bad))
    call_command("playbooks", "check", str(good))
    assert not Playbook.objects.exists()
    call_command("playbooks", "activate", str(good), "--by", admin.username)
    assert playbook_active().version == "team-9"
    assert_audited(E.PLAYBOOK_ACTIVATED, target=("playbook", "team-9"), source=AuditSource.CLI)
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("playbooks", "activate", str(good), "--by", "nobody")


# --- The API -----------------------------------------------------------------------------------


def test_the_api_reads_a_case_playbook_and_ticks_a_step(api_for: Any, self_harm_p0: Case) -> None:
    specialist = api_for(Role.SPECIALIST)
    url = f"/api/v1/cases/{self_harm_p0.pk}/playbook"

    read = specialist.get(url)
    ticked = specialist.post(f"{url}/preserve-account/tick", {"note": "preservation ref P-9"})

    assert read.status_code == 200, read.content
    assert [s["id"] for s in read.json()["steps"]] == [i for i, _, _ in SELF_HARM_P0]
    assert read.json()["playbooks"] == ["self_harm P0"]
    assert ticked.status_code == 200, ticked.content
    step = {s["id"]: s for s in ticked.json()["steps"]}["preserve-account"]
    assert step["ticked_by"] == specialist.user.username
    assert step["note"] == "preservation ref P-9"
    assert "preserve-account" not in ticked.json()["unticked_required"]
    assert_audited(
        E.PLAYBOOK_STEP_TICKED,
        target=self_harm_p0,
        actor=specialist.user,
        source=AuditSource.API,
        data={"step": "preserve-account"},
    )


@pytest.mark.parametrize(
    ("path", "body", "status", "detail"),
    [
        ("emergency-referral/tick", {"note": " "}, 422, "needs a note"),
        ("emergency-referral/tick", {"note": "x" * 10_001}, 422, "note"),
        ("emergency-referral/tick", {"note": "x", "by": "me"}, 422, "by"),
        ("emergency-referral/tick", {"note": 5}, 422, "note"),
        ("Not_A_Slug/tick", {"note": "x"}, 422, "step_id"),
        ("remove-content/tick", {"note": "x"}, 404, "no step 'remove-content'"),
    ],
)
def test_the_api_refuses_a_bad_tick_and_changes_nothing(
    api_for: Any, self_harm_p0: Case, path: str, body: Any, status: int, detail: str
) -> None:
    specialist = api_for(Role.SPECIALIST)
    before = _unchanged(self_harm_p0)

    response = specialist.post(f"/api/v1/cases/{self_harm_p0.pk}/playbook/{path}", body)

    assert response.status_code == status, response.content
    assert detail in json.dumps(response.json())
    assert _unchanged(self_harm_p0) == before


def test_the_api_closes_only_under_the_rule(api_for: Any, self_harm_p0: Case) -> None:
    specialist, lead = api_for(Role.SPECIALIST), api_for(Role.LEAD)
    url = f"/api/v1/cases/{self_harm_p0.pk}/close"

    in_review = specialist.post(url, {})
    case = _decided(self_harm_p0)
    before = _unchanged(case)
    refused = specialist.post(url, {"reason": "done"})
    lead_blank = lead.post(url, {"reason": "   "})
    assert _unchanged(case) == before
    closed = lead.post(url, {"reason": "Handled in another case"})

    assert in_review.status_code == 409
    assert refused.status_code == 422
    assert "send-safety-resources" in refused.json()["detail"]
    assert lead_blank.status_code == 422
    assert closed.status_code == 200, closed.content
    assert closed.json()["state"] == "closed"
    assert_audited(E.PLAYBOOK_STEPS_WAIVED, target=case, actor=lead.user, source=AuditSource.API)


def test_the_api_reads_and_replaces_the_playbooks_document(api_for: Any) -> None:
    admin, specialist = api_for(Role.ADMIN), api_for(Role.SPECIALIST)

    built_in = specialist.get("/api/v1/playbooks")
    bad = admin.post("/api/v1/playbooks", {"source": _doc({"csam": {"P7": []}})})
    empty = admin.post("/api/v1/playbooks", {"source": ""})
    refused = specialist.post("/api/v1/playbooks", {"source": _doc({})})
    assert not Playbook.objects.exists()
    uploaded = admin.post("/api/v1/playbooks", {"source": _doc({}, "team-5")})

    assert built_in.status_code == 200
    assert built_in.json()["built_in"] is True
    assert built_in.json()["source"] == default_playbooks_text()
    assert bad.status_code == 422
    assert "playbooks.csam.P7: is not a priority" in bad.json()["detail"]
    assert empty.status_code == 422
    assert refused.status_code == 403
    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.json()["version"] == "team-5"
    assert uploaded.json()["built_in"] is False
    assert uploaded.json()["uploaded_by"] == admin.user.username
    assert specialist.get("/api/v1/playbooks").json()["version"] == "team-5"


# --- The console -------------------------------------------------------------------------------


def _console(user: User) -> Client:
    client = Client()
    sign_in_verified(client, user)
    return client


def _partial(client: Client, user: User, case: Case) -> str:
    """The playbook panel as review/case.html includes it, for this person's session."""
    request = RequestFactory().get("/")
    request.user = user
    request.session = client.session
    context = {"case": case, **playbook_context(request=request, case=case)}
    html = render_to_string("review/_playbook.html", context, request=request)
    request.session.save()
    return html


def test_the_console_ticks_a_step_with_a_note(self_harm_p0: Case) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    client = _console(specialist)
    panel = _partial(client, specialist, self_harm_p0)
    assert "Contact the local emergency service through a referral" in panel
    assert f"/console/cases/{self_harm_p0.pk}/playbook/emergency-referral/tick" in panel

    response = client.post(
        f"/console/cases/{self_harm_p0.pk}/playbook/emergency-referral/tick",
        {"note": "Called 112, reference 8812"},
    )

    assert response.status_code == 302
    assert response["Location"].endswith("#playbook-step-emergency-referral")
    assert_audited(
        E.PLAYBOOK_STEP_TICKED,
        target=self_harm_p0,
        actor=specialist,
        source=AuditSource.CONSOLE,
        data={"step": "emergency-referral"},
    )
    panel = _partial(client, specialist, self_harm_p0)
    assert "Called 112, reference 8812" in panel
    assert f"Ticked by <strong>{specialist.username}</strong>" in panel
    assert "1 of 4 steps done" in panel


def test_a_refused_console_tick_keeps_the_note_beside_its_error(self_harm_p0: Case) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    client = _console(specialist)
    before = _unchanged(self_harm_p0)

    response = client.post(
        f"/console/cases/{self_harm_p0.pk}/playbook/file-report/tick", {"note": "   "}
    )

    assert response.status_code == 302
    assert _unchanged(self_harm_p0) == before
    panel = _partial(client, specialist, self_harm_p0)
    assert 'id="tick-error-file-report"' in panel
    assert "Not ticked: ticking &#x27;file-report&#x27; needs a note" in panel
    assert 'aria-describedby="tick-error-file-report"' in panel
    # Shown once: the next showing is clean.
    assert "tick-error-file-report" not in _partial(client, specialist, self_harm_p0)
    assert REJECTED not in client.session


def test_a_refused_console_close_keeps_the_reason(self_harm_p0: Case) -> None:
    specialist = UserFactory(role=Role.SPECIALIST.value)
    client = _console(specialist)
    case = _decided(self_harm_p0)

    response = client.post(f"/console/cases/{case.pk}/close", {"reason": "my words"})

    assert response.status_code == 302
    assert CaseState(Case.objects.get(pk=case.pk).state) is CaseState.DECIDED
    panel = _partial(client, specialist, case)
    assert "Not closed: cannot close: required playbook steps are not ticked" in panel
    assert "Tick them first, or ask a lead" in panel


def test_a_lead_closes_in_the_console_with_a_reason(self_harm_p0: Case) -> None:
    lead = UserFactory(role=Role.LEAD.value)
    client = _console(lead)
    case = _decided(self_harm_p0)
    assert "Close with steps skipped" in _partial(client, lead, case)

    blank = client.post(f"/console/cases/{case.pk}/close", {"reason": " "})
    kept = _partial(client, lead, case)
    closed = client.post(f"/console/cases/{case.pk}/close", {"reason": "Handled elsewhere"})

    assert blank.status_code == 302
    assert 'id="close-error"' in kept
    assert closed.status_code == 302
    assert CaseState(Case.objects.get(pk=case.pk).state) is CaseState.CLOSED
    assert_audited(E.PLAYBOOK_STEPS_WAIVED, target=case, actor=lead, source=AuditSource.CONSOLE)


def test_the_console_hides_a_case_it_may_not_see(self_harm_p0: Case) -> None:
    Case.objects.filter(pk=self_harm_p0.pk).update(queue="le-requests")
    client = _console(UserFactory(role=Role.SPECIALIST.value))
    before = _unchanged(self_harm_p0)

    tick = client.post(f"/console/cases/{self_harm_p0.pk}/playbook/file-report/tick", {"note": "x"})
    close = client.post(f"/console/cases/{self_harm_p0.pk}/close", {"reason": "x"})

    assert (tick.status_code, close.status_code) == (404, 404)
    assert _unchanged(self_harm_p0) == before


def test_every_built_in_step_is_ticked_by_hand_with_a_note() -> None:
    steps = [
        step
        for table in default_playbooks().playbooks.values()
        for listed in table.values()
        for step in listed
    ]
    assert steps
    assert all(step.ticked_by_hand for step in steps)
