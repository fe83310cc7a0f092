"""Legal holds: placing, extending and releasing them (each audited), the refusals that change
nothing, and which content a hold on a case or a subject covers (the hold-scope provider)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta

import pytest
from django.utils import timezone

from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.holds import content_hold_keys
from safeguard.core.errors import Conflict, Forbidden, Invalid
from safeguard.evidence import holds
from safeguard.evidence.hooks import HoldKey, hold_scope
from safeguard.evidence.models import HoldSource, LegalHold, LegalHoldExtension
from safeguard.evidence.vault import DeletionClearance, clearance_issuer
from safeguard.intake.models import Subject
from tests.audit_helpers import assert_audited, assert_not_audited, last_event_id
from tests.conftest import ApiClient, case_of, escalation_body
from tests.evidence.factories_holds import hold_on, image_item, legal, thread_item
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return LegalHold.objects.count(), LegalHoldExtension.objects.count(), AuditEvent.objects.count()


def test_placing_a_hold_records_it_and_audits_every_field() -> None:
    item = image_item()
    lawyer = legal()
    ends = timezone.now() + timedelta(days=90)

    hold = holds.hold_place(
        target_type="content",
        target_id=str(item.pk),
        reason="Preservation request (fictional agency)",
        hold_source=HoldSource.REQUEST,
        source_reference="LE-REQ-42",
        ends_at=ends,
        actor=lawyer,
        source=AuditSource.API,
    )

    assert (hold.target_type, hold.target_id, hold.placed_by) == ("content", str(item.pk), lawyer)
    assert_audited(
        AuditEventType.LEGAL_HOLD_PLACED,
        target=("legal_hold", hold.pk),
        actor=lawyer,
        source=AuditSource.API,
        data={
            "target_type": "content",
            "target_id": str(item.pk),
            "source": "request",
            "source_reference": "LE-REQ-42",
            "ends_at": ends.isoformat(),
            "reason": "Preservation request (fictional agency)",
        },
    )


def test_safeguard_itself_can_place_a_reports_hold_without_an_actor() -> None:
    case_id = str(uuid.uuid4())
    hold = holds.hold_place(
        target_type="case",
        target_id=case_id,
        reason="CyberTipline report filed: one-year preservation (18 U.S.C. 2258A(h))",
        hold_source="report",
        source_reference="report-7",
        ends_at=timezone.now() + timedelta(days=365),
        actor=None,
        source=AuditSource.TASK,
    )
    assert hold.placed_by is None
    assert_audited(AuditEventType.LEGAL_HOLD_PLACED, target=("legal_hold", hold.pk), actor=None)


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"target_type": "account"}, Invalid, "unknown hold target type 'account'"),
        ({"reason": "   "}, Invalid, "reason is required"),
        ({"ends_at": "past"}, Invalid, "is not in the future"),
        ({"target_id": "not-a-uuid"}, Invalid, "is not a content id"),
        ({"target_id": "missing"}, Invalid, "there is no content item"),
        ({"source": "rumour"}, Invalid, "unknown hold source 'rumour'"),
        ({"source_reference": ""}, Invalid, "give the request's id"),
        ({"actor": "specialist"}, Forbidden, "lacks evidence:hold:manage"),
    ],
)
def test_a_bad_hold_is_refused_precisely_and_changes_nothing(
    changes: dict[str, str], error: type[Exception], words: str
) -> None:
    item = image_item()
    arguments = {
        "target_type": "content",
        "target_id": str(item.pk),
        "reason": "Preservation",
        "hold_source": "request",
        "source_reference": "LE-1",
        "ends_at": timezone.now() + timedelta(days=1),
        "actor": legal(),
        "source": AuditSource.API,
    }
    for key, value in changes.items():
        if key == "ends_at":
            arguments[key] = timezone.now() - timedelta(minutes=1)
        elif key == "target_id" and value == "missing":
            arguments[key] = str(uuid.uuid4())
        elif key == "actor":
            arguments[key] = UserFactory(role=value)
        elif key == "source":
            arguments["hold_source"] = value
        else:
            arguments[key] = value
    before = _counts()

    with pytest.raises(error, match=words):
        holds.hold_place(**arguments)  # type: ignore[arg-type]

    assert _counts() == before


def test_extending_moves_the_end_later_and_keeps_each_extension() -> None:
    hold = hold_on(image_item(), days=90)
    first_end = hold.ends_at
    assert first_end is not None
    lawyer = legal()
    after = last_event_id()

    extended = holds.hold_extend(
        hold=hold,
        ends_at=first_end + timedelta(days=90),
        reason="The agency asked for the one extension of 90 days (18 U.S.C. 2703(f)(2))",
        actor=lawyer,
        source=AuditSource.CONSOLE,
    )

    assert extended.ends_at == first_end + timedelta(days=90)
    [extension] = hold.extensions.all()
    assert (extension.previous_ends_at, extension.ends_at) == (first_end, extended.ends_at)
    assert extension.extended_by == lawyer
    assert_audited(
        AuditEventType.LEGAL_HOLD_EXTENDED,
        target=("legal_hold", hold.pk),
        actor=lawyer,
        source=AuditSource.CONSOLE,
        after=after,
        data={
            "previous_ends_at": first_end.isoformat(),
            "ends_at": extended.ends_at.isoformat() if extended.ends_at else None,
            "extensions": 1,
        },
    )


def test_an_extension_that_does_not_move_the_end_later_is_refused() -> None:
    hold = hold_on(image_item(), days=90)
    assert hold.ends_at is not None
    before = _counts()
    with pytest.raises(Invalid, match="is not later than the hold's current end"):
        holds.hold_extend(
            hold=hold,
            ends_at=hold.ends_at - timedelta(days=1),
            reason="shorter",
            actor=legal(),
            source=AuditSource.API,
        )
    assert _counts() == before


def test_releasing_ends_the_hold_and_a_second_release_or_extension_is_a_conflict() -> None:
    item = image_item()
    hold = hold_on(item)
    lawyer = legal()

    holds.hold_release(
        hold=hold, reason="The agency withdrew its request", actor=lawyer, source=AuditSource.API
    )

    hold.refresh_from_db()
    assert hold.released_by == lawyer
    assert hold.release_reason == "The agency withdrew its request"
    assert holds.holds_covering(content_ids=[item.pk]) == {}
    assert_audited(
        AuditEventType.LEGAL_HOLD_RELEASED,
        target=("legal_hold", hold.pk),
        actor=lawyer,
        data={"target_type": "content", "target_id": str(item.pk)},
    )
    before = _counts()
    with pytest.raises(Conflict, match=r"was released at .*cannot release a released hold"):
        holds.hold_release(hold=hold, reason="again", actor=lawyer, source=AuditSource.API)
    with pytest.raises(Conflict, match="cannot extend a released hold"):
        holds.hold_extend(
            hold=hold,
            ends_at=timezone.now() + timedelta(days=400),
            reason="more",
            actor=lawyer,
            source=AuditSource.API,
        )
    assert _counts() == before


def test_a_hold_past_its_end_covers_nothing_and_cannot_be_extended() -> None:
    item = image_item()
    hold = hold_on(item, days=1)
    later = timezone.now() + timedelta(days=2)
    assert holds.holds_covering(content_ids=[item.pk], now=later) == {}
    LegalHold.objects.filter(pk=hold.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict, match=r"ended at .*place a new one"):
        holds.hold_extend(
            hold=hold,
            ends_at=later,
            reason="late",
            actor=legal(),
            source=AuditSource.API,
        )
    assert_not_audited(AuditEventType.LEGAL_HOLD_EXTENDED)


def test_an_indefinite_hold_has_nothing_to_extend() -> None:
    hold = hold_on(image_item(), days=None)
    with pytest.raises(Conflict, match="has no end date"):
        holds.hold_extend(
            hold=hold,
            ends_at=timezone.now() + timedelta(days=5),
            reason="x",
            actor=legal(),
            source=AuditSource.API,
        )


@pytest.fixture
def membership() -> Iterator[dict[uuid.UUID, list[HoldKey]]]:
    """A hold-scope provider standing in for the cases app: which case and subject each item
    belongs to, as a dictionary the test fills in (so membership can change after a hold)."""
    members: dict[uuid.UUID, list[HoldKey]] = {}

    def provider(content_ids: frozenset[uuid.UUID]) -> Mapping[uuid.UUID, Iterable[HoldKey]]:
        return {cid: members[cid] for cid in content_ids if cid in members}

    hold_scope.register(provider)
    yield members
    hold_scope.unregister(provider)


def test_a_hold_on_a_case_covers_content_that_joins_the_case_after_it(
    membership: dict[uuid.UUID, list[HoldKey]],
) -> None:
    case_id, subject_id = str(uuid.uuid4()), str(uuid.uuid4())
    early, late, other = image_item(), thread_item(), image_item()
    membership[early.pk] = [("case", case_id)]
    case_hold = hold_on(("case", case_id))
    subject_hold = hold_on(("subject", subject_id), source=HoldSource.MANUAL, days=None)

    # The thread joins the case, and its suspect is the held subject, after both holds.
    membership[late.pk] = [("case", case_id), ("subject", subject_id)]

    covering = holds.holds_covering(content_ids=[early.pk, late.pk, other.pk])
    assert covering == {early.pk: [case_hold], late.pk: [case_hold, subject_hold]}


def test_a_provider_that_fails_refuses_the_check() -> None:
    def broken(content_ids: frozenset[uuid.UUID]) -> Mapping[uuid.UUID, Iterable[HoldKey]]:
        raise RuntimeError("cases database unavailable")

    hold_scope.register(broken)
    try:
        with pytest.raises(RuntimeError, match="cases database unavailable"):
            holds.holds_covering(content_ids=[image_item().pk])
    finally:
        hold_scope.unregister(broken)


def test_the_refusal_names_each_hold_with_its_reason_source_and_end() -> None:
    item = image_item()
    hold = hold_on(item, reason="Preservation for the Example Police (fictional)", days=30)
    assert hold.ends_at is not None

    with pytest.raises(holds.ContentHeld) as refused:
        holds.deletion_clearance(content_ids=[item.pk], addresses=[], now=timezone.now())

    message = str(refused.value)
    assert f"content {item.pk} is under legal hold" in message
    assert f"hold {hold.pk} on content {item.pk}" in message
    assert "request LE-REQ-0001" in message
    assert f"until {hold.ends_at:%Y-%m-%d %H:%M} UTC" in message
    assert "Preservation for the Example Police (fictional)" in message
    assert "Nothing was deleted" in message


def test_a_clearance_cannot_be_made_or_issued_by_anyone_but_the_hold_check() -> None:
    with pytest.raises(TypeError, match="issued only by the hold check"):
        DeletionClearance(["0" * 64], "forged")
    with pytest.raises(RuntimeError, match="already taken"):
        clearance_issuer()


def test_reading_holds_needs_the_permission() -> None:
    hold = hold_on(image_item())
    assert list(holds.holds_list_for(user=UserFactory(role="specialist"))) == []
    with pytest.raises(holds.HoldNotFound):
        holds.hold_get_for(user=UserFactory(role="specialist"), hold_id=hold.pk)
    assert holds.hold_get_for(user=UserFactory(role="auditor"), hold_id=hold.pk) == hold


def test_the_cases_provider_maps_real_content_to_its_case_and_subjects(
    service_api: ApiClient,
) -> None:
    filed = service_api.post("/api/v1/escalations", escalation_body())
    assert filed.status_code == 201, filed.content
    case = case_of(filed)
    content_id = uuid.UUID(filed.json()["content"][0]["id"])
    suspect = Subject.objects.get(platform_id="user:s1")
    # The cases app registers its provider when it is ready.
    assert content_hold_keys in hold_scope.providers
    subject_hold = hold_on(("subject", str(suspect.pk)))
    assert holds.holds_covering(content_ids=[content_id]) == {content_id: [subject_hold]}
    case_hold = hold_on(("case", str(case.pk)))
    covering = holds.holds_covering(content_ids=[content_id])[content_id]
    assert set(covering) == {subject_hold, case_hold}
