"""The audit log in the database: written with each change, verified, and tampering detected."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import user_create
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.audit.selectors import audit_chain_verify
from safeguard.audit.services import audit_record

pytestmark = pytest.mark.django_db


def make_events(n: int) -> None:
    for i in range(n):
        user_create(username=f"u{i}", role=Role.SPECIALIST, actor=None, source=AuditSource.CLI)


def test_each_service_call_appends_a_linked_event() -> None:
    make_events(3)

    events = list(AuditEvent.objects.order_by("seq"))

    assert [e.event_type for e in events] == [AuditEventType.USER_CREATED] * 3
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash
    assert audit_chain_verify().ok


def test_an_event_rolls_back_with_its_change() -> None:
    def change_that_fails() -> None:
        with transaction.atomic():
            user_create(username="gone", role=Role.LEAD, actor=None, source=AuditSource.CLI)
            raise RuntimeError("the change fails after its event was written")

    with pytest.raises(RuntimeError):
        change_that_fails()

    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_recording_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(
            event_type=AuditEventType.USER_CREATED,
            actor=None,
            source=AuditSource.CLI,
            target_type="user",
            target_id=1,
        )


def test_verify_command_passes_on_an_intact_chain(capsys: pytest.CaptureFixture[str]) -> None:
    make_events(4)

    call_command("audit", "verify")

    assert "4 events verified" in capsys.readouterr().out


def test_verify_names_an_edited_row() -> None:
    make_events(4)
    AuditEvent.objects.filter(seq=2).update(data={"username": "someone-else"})

    with pytest.raises(CommandError, match=r"\(edited\) at event #2"):
        call_command("audit", "verify")


def test_verify_names_a_deleted_row() -> None:
    make_events(4)
    AuditEvent.objects.filter(seq=2).delete()

    with pytest.raises(CommandError, match=r"\(deleted\) at event #3"):
        call_command("audit", "verify")


def test_verify_names_the_deletion_of_the_newest_row() -> None:
    make_events(4)
    AuditEvent.objects.filter(seq=4).delete()

    with pytest.raises(CommandError, match=r"\(deleted\) at event #4"):
        call_command("audit", "verify")


def test_verify_names_reordered_rows() -> None:
    make_events(4)
    # Swap the sequence numbers of events 2 and 3 by hand (through a free slot).
    AuditEvent.objects.filter(seq=2).update(seq=-1)
    AuditEvent.objects.filter(seq=3).update(seq=2)
    AuditEvent.objects.filter(seq=-1).update(seq=3)

    with pytest.raises(CommandError, match=r"\(reordered\) at event #2"):
        call_command("audit", "verify")


def test_an_edited_timestamp_is_caught() -> None:
    make_events(2)
    event = AuditEvent.objects.get(seq=1)
    AuditEvent.objects.filter(seq=1).update(created_at=event.created_at.replace(year=2020))

    result = audit_chain_verify()

    assert result.problem is not None
    assert result.problem.seq == 1
