"""The audit assertions the suite counts on: they fail when the event is not as stated, and only
an assertion that held counts its event type as asserted."""

from __future__ import annotations

import pytest

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import user_set_role
from safeguard.audit.events import AuditEventType, AuditSource
from tests import audit_helpers
from tests.audit_helpers import (
    assert_audit_trail,
    assert_audited,
    assert_audited_many,
    assert_not_audited,
    last_event_id,
)
from tests.factories import UserFactory

E = AuditEventType


@pytest.fixture
def asserted(monkeypatch: pytest.MonkeyPatch) -> set[AuditEventType]:
    """A fresh record of what was asserted, so these tests neither use nor add to the suite's."""
    fresh: set[AuditEventType] = set()
    monkeypatch.setattr(audit_helpers, "ASSERTED", fresh)
    return fresh


def test_a_matching_event_is_returned_and_its_type_counted(
    db: None, asserted: set[AuditEventType]
) -> None:
    person = UserFactory(role=Role.SPECIALIST.value)
    user_set_role(user=person, role=Role.LEAD, actor=None, source=AuditSource.CLI)

    event = assert_audited(
        E.USER_ROLE_CHANGED, target=person, actor=None, data={"to": "lead"}, after=0
    )

    assert event.data == {"from": "specialist", "to": "lead"}
    assert asserted == {E.USER_ROLE_CHANGED}


@pytest.mark.parametrize("differs", ["data", "actor", "source", "after", "target"])
def test_an_event_that_differs_in_any_way_fails_and_counts_nothing(
    db: None, asserted: set[AuditEventType], differs: str
) -> None:
    person = UserFactory(role=Role.SPECIALIST.value)
    user_set_role(user=person, role=Role.LEAD, actor=None, source=AuditSource.CLI)
    right = {"target": person, "actor": None, "source": AuditSource.CLI, "data": {"to": "lead"}}
    wrong = {
        "data": {"to": "admin"},
        "actor": UserFactory(),
        "source": AuditSource.API,
        "after": last_event_id(),
        "target": UserFactory(),
    }
    assert_audited(E.USER_ROLE_CHANGED, **right)  # type: ignore[arg-type]
    asserted.clear()

    with pytest.raises(AssertionError, match=r"expected exactly one user\.role_changed") as failed:
        assert_audited(E.USER_ROLE_CHANGED, **{**right, differs: wrong[differs]})  # type: ignore[arg-type]

    # The message shows the event that was there, to see at once what differs.
    assert "not matching: #" in str(failed.value)
    assert asserted == set()


def test_counts_absences_and_trails_are_checked_exactly(
    db: None, asserted: set[AuditEventType]
) -> None:
    person = UserFactory(role=Role.SPECIALIST.value)
    for role in (Role.LEAD, Role.SPECIALIST):
        user_set_role(user=person, role=role, actor=None, source=AuditSource.CLI)

    with pytest.raises(AssertionError, match="exactly one"):
        assert_audited(E.USER_ROLE_CHANGED, target=person)
    with pytest.raises(AssertionError, match="expected 3"):
        assert_audited_many(E.USER_ROLE_CHANGED, count=3, target=person)
    with pytest.raises(AssertionError, match="expected no"):
        assert_not_audited(E.USER_ROLE_CHANGED, target=person)
    with pytest.raises(AssertionError, match="audit trail differs"):
        assert_audit_trail([E.USER_ROLE_CHANGED], target=person)
    assert asserted == set()

    changes = assert_audited_many(E.USER_ROLE_CHANGED, count=2, target=person)
    assert [c.data["to"] for c in changes] == ["lead", "specialist"]
    assert_audit_trail([E.USER_ROLE_CHANGED] * 2, target=person)
    assert_not_audited(E.USER_CREATED, target=person)
    assert asserted == {E.USER_ROLE_CHANGED}  # an absence asserts nothing about an event


def test_an_unlisted_kind_of_target_is_refused_rather_than_guessed(db: None) -> None:
    with pytest.raises(TypeError, match="no audit target type"):
        assert_audited(E.USER_CREATED, target=AuditSource)  # type: ignore[arg-type]
