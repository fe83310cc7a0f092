"""Writers share no lock, and the sequencer orders what has committed: a long transaction that
allocated its event's id first and commits last is sequenced after, never skipped."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import user_create
from safeguard.audit.events import AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.audit.selectors import audit_log_verify
from safeguard.audit.services import audit_sequence

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WAIT = 30


def _event_of(username: str) -> AuditEvent:
    return AuditEvent.objects.get(target_type="user", data__username=username)


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite has one writer at a time: a long write transaction blocks every other, so "
    "an early id cannot commit after a later one (the sequencer's rule is shown on SQLite by "
    "test_an_early_id_sequenced_late_is_never_skipped)",
)
def test_a_long_transaction_that_commits_after_a_later_one_was_sequenced_is_not_skipped() -> None:
    allocated = threading.Event()
    release = threading.Event()

    def long_transaction() -> None:
        try:
            with transaction.atomic():
                user_create(username="slow", role=Role.LEAD, actor=None, source=AuditSource.CLI)
                allocated.set()
                assert release.wait(WAIT)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(long_transaction)
        assert allocated.wait(WAIT)
        # A later, shorter transaction: a higher id, committed first, and sequenced while the
        # slow one is still open.
        user_create(username="quick", role=Role.LEAD, actor=None, source=AuditSource.CLI)
        assert audit_sequence() == 1
        release.set()
        slow.result(timeout=WAIT)

    assert audit_sequence() == 1
    slow_event, quick_event = _event_of("slow"), _event_of("quick")
    assert slow_event.pk < quick_event.pk
    assert (quick_event.leaf_index, slow_event.leaf_index) == (0, 1)
    assert audit_log_verify().ok


def test_concurrent_writers_and_sequencers_give_every_event_one_leaf() -> None:
    writers, each = 4, 5

    def write(worker: int) -> None:
        try:
            for i in range(each):
                user_create(
                    username=f"w{worker}-{i}", role=Role.LEAD, actor=None, source=AuditSource.CLI
                )
                audit_sequence()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(write, range(writers)))
    audit_sequence()

    leaves = sorted(AuditEvent.objects.values_list("leaf_index", flat=True))
    assert leaves == list(range(writers * each))
    result = audit_log_verify()
    assert result.ok, result.problem
    assert result.checked == writers * each
