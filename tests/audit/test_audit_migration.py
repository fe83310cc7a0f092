"""Migration 0004: the events of the old hash chain become leaves in their order, the first
checkpoint covers them, and a broken chain is refused rather than signed into the tree."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from safeguard.audit.models import AuditCheckpoint, AuditEvent
from safeguard.audit.proofs import check_proof
from safeguard.audit.selectors import audit_event_proof, audit_log_verify
from safeguard.audit.services import public_key

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OLD = [("audit", "0003_audit_target_id_200")]
NEW = [("audit", "0004_merkle_tree")]


def _old_chain(apps: Any, count: int) -> None:
    """Events as the old writer made them: seq, prev_hash, hash over the canonical record."""
    event_model = apps.get_model("audit", "AuditEvent")
    head_model = apps.get_model("audit", "AuditHead")
    prev, start = "0" * 64, datetime(2026, 11, 1, 3, 22, tzinfo=UTC)
    for seq in range(1, count + 1):
        record = {
            "created_at": (start + timedelta(minutes=seq)).isoformat(),
            "event_type": "case.claimed",
            "actor_id": None,
            "actor_label": "safeguard (system)",
            "source": "task",
            "target_type": "case",
            "target_id": str(seq),
            "data": {"n": seq},
        }
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(prev.encode() + canonical).hexdigest()
        event_model.objects.create(
            seq=seq,
            created_at=start + timedelta(minutes=seq),
            event_type="case.claimed",
            actor_label="safeguard (system)",
            source="task",
            target_type="case",
            target_id=str(seq),
            data={"n": seq},
            prev_hash=prev,
            hash=digest,
        )
        prev = digest
    head_model.objects.update_or_create(pk=1, defaults={"seq": count, "hash": prev})


@pytest.fixture
def executor() -> Iterator[MigrationExecutor]:
    AuditEvent.objects.all().delete()
    AuditCheckpoint.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate(OLD)
    executor.loader.build_graph()
    yield executor
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_old_events_become_leaves_in_their_order_under_a_first_checkpoint(
    executor: MigrationExecutor,
) -> None:
    _old_chain(executor.loader.project_state(OLD).apps, 5)

    executor.migrate(NEW)

    events = list(AuditEvent.objects.order_by("leaf_index"))
    assert [e.target_id for e in events] == ["1", "2", "3", "4", "5"]
    assert [e.leaf_index for e in events] == [0, 1, 2, 3, 4]
    assert list(AuditCheckpoint.objects.values_list("size", flat=True)) == [5]
    result = audit_log_verify()
    assert result.ok, result.problem
    assert result.checked == 5
    assert check_proof(audit_event_proof(event_id=events[2].pk), public_key()).leaf_index == 2


def test_a_broken_old_chain_is_refused(executor: MigrationExecutor) -> None:
    apps = executor.loader.project_state(OLD).apps
    _old_chain(apps, 3)
    apps.get_model("audit", "AuditEvent").objects.filter(seq=2).update(data={"n": 99})

    with pytest.raises(RuntimeError, match="broken at event #2"):
        executor.migrate(NEW)

    # Nothing changed: the migration rolled back, and the old chain is still there to examine.
    assert apps.get_model("audit", "AuditEvent").objects.filter(data={"n": 99}).count() == 1
    apps.get_model("audit", "AuditEvent").objects.all().delete()
    apps.get_model("audit", "AuditHead").objects.all().delete()
