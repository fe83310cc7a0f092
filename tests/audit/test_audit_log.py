"""The audit log in the database: written with each change without a shared lock, sequenced
into a Merkle tree with signed checkpoints, and every attack made directly in the database
caught and named."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import user_create
from safeguard.audit import leaves
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditCheckpoint, AuditEvent, AuditNode, AuditTree
from safeguard.audit.proofs import check_proof
from safeguard.audit.selectors import (
    NotSequenced,
    audit_event_proof,
    audit_log_verify,
    read_exported,
)
from safeguard.audit.services import audit_record, audit_sequence, public_key, signing_key
from safeguard.audit.verification import Tamper
from tests.audit.insider import fix_payload_hash, rewrite_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def witness(settings: Any, tmp_path: Path) -> Path:
    """Checkpoints exported to a file as they are made, as a deployment would configure."""
    path = tmp_path / "checkpoints.txt"
    settings.SAFEGUARD_AUDIT_WITNESS_FILE = path
    return path


@pytest.fixture
def sequence(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[[], int]:
    """Run the sequencer as the worker would, with its after-commit exports run too."""

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return audit_sequence()

    return run


def make_events(n: int, sequence: Callable[[], int], *, batch: int = 1) -> list[int]:
    """`n` events, sequenced `batch` at a time (so each batch has its own checkpoint)."""
    ids = []
    for i in range(n):
        user = user_create(
            username=f"u{AuditEvent.objects.count()}-{i}",
            role=Role.SPECIALIST,
            actor=None,
            source=AuditSource.CLI,
        )
        ids.append(AuditEvent.objects.get(target_type="user", target_id=str(user.pk)).pk)
        if (i + 1) % batch == 0:
            sequence()
    sequence()
    return ids


def forged_event(**fields: Any) -> AuditEvent:
    """An event written straight into the table, with a payload hash that matches."""
    label = "safeguard (system)"
    values: dict[str, Any] = {
        "created_at": timezone.now(),
        "event_type": AuditEventType.USER_CREATED.value,
        "actor_label": label,
        "source": AuditSource.CLI.value,
        "target_type": "user",
        "target_id": "forged",
        "data": {},
        "payload_sha256": leaves.payload_sha256(leaves.payload(actor_label=label, data={})),
    }
    return AuditEvent.objects.create(**{**values, **fields})


def problem_of(**kwargs: Any) -> Any:
    result = audit_log_verify(**kwargs)
    assert result.problem is not None, "the attack was not caught"
    return result.problem


def test_each_event_gets_the_next_leaf_and_a_signed_checkpoint(
    sequence: Callable[[], int], witness: Path
) -> None:
    ids = make_events(3, sequence)

    events = list(AuditEvent.objects.order_by("id"))
    assert [e.pk for e in events] == ids
    assert [e.leaf_index for e in events] == [0, 1, 2]
    assert list(AuditCheckpoint.objects.values_list("size", flat=True)) == [1, 2, 3]
    tree = AuditTree.objects.get()
    assert tree.size == 3
    leaf = leaves.leaf_of(events[1].header())
    assert AuditNode.objects.get(level=0, index=1).hash == leaf
    exported = read_exported(witness.read_text())
    assert [c.size for c in exported.checkpoints] == [1, 2, 3]
    result = audit_log_verify(against=exported)
    assert result.ok, result.problem
    assert (result.checked, result.size, result.checkpoints) == (3, 3, 3)


def test_a_header_holds_no_names_only_the_payload_hash(
    sequence: Callable[[], int],
) -> None:
    ids = make_events(2, sequence)
    event = AuditEvent.objects.get(pk=ids[0])

    header = event.header()

    assert event.actor_label not in str(header)
    assert "username" not in str(header)
    assert header["payload_sha256"] == leaves.payload_sha256(event.payload())
    assert set(header) == {"v", "id", "type", "time", "source", "target", "actor", "payload_sha256"}


def test_an_event_rolls_back_with_its_change() -> None:
    def change_that_fails() -> None:
        with transaction.atomic():
            user_create(username="gone", role=Role.LEAD, actor=None, source=AuditSource.CLI)
            raise RuntimeError("the change fails after its event was written")

    with pytest.raises(RuntimeError):
        change_that_fails()

    assert not AuditEvent.objects.exists()
    assert audit_sequence() == 0


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


def test_an_early_id_sequenced_late_is_never_skipped(sequence: Callable[[], int]) -> None:
    # An event whose id was allocated before others but arrives after they were sequenced, as a
    # long transaction's does (the real thing, with two connections: test_audit_concurrency.py).
    make_events(3, sequence)
    later = AuditEvent.objects.order_by("-id").first()
    assert later is not None
    early_id = later.pk - 10_000 if later.pk > 10_000 else 0
    early = AuditEvent.objects.create(
        id=early_id or None,
        created_at=timezone.now(),
        event_type=AuditEventType.USER_CREATED.value,
        actor_label="safeguard (system)",
        source=AuditSource.CLI.value,
        target_type="user",
        target_id="late",
        data={},
        payload_sha256=leaves.payload_sha256(
            leaves.payload(actor_label="safeguard (system)", data={})
        ),
    )

    assert sequence() == 1

    early.refresh_from_db()
    assert early.leaf_index == 3
    assert audit_log_verify().ok


def test_verify_command_passes_on_an_intact_log(
    sequence: Callable[[], int], capsys: pytest.CaptureFixture[str]
) -> None:
    make_events(4, sequence)

    call_command("audit", "verify")

    out = capsys.readouterr().out
    assert "audit log intact: 4 events" in out
    assert "4 signed checkpoints consistent" in out


# The attacks, each made directly in the database.


def test_an_edited_payload_is_named(sequence: Callable[[], int]) -> None:
    ids = make_events(4, sequence)
    AuditEvent.objects.filter(pk=ids[1]).update(data={"username": "someone-else"})

    problem = problem_of()

    assert (problem.kind, problem.event_id) == (Tamper.EDITED, ids[1])
    with pytest.raises(CommandError, match=rf"\(edited\) at event #{ids[1]}"):
        call_command("audit", "verify")


def test_an_edited_header_is_named(sequence: Callable[[], int]) -> None:
    ids = make_events(4, sequence)
    event = AuditEvent.objects.get(pk=ids[0])
    AuditEvent.objects.filter(pk=ids[0]).update(created_at=event.created_at.replace(year=2020))

    problem = problem_of()

    assert (problem.kind, problem.event_id, problem.leaf_index) == (Tamper.EDITED, ids[0], 0)


def test_a_deleted_event_is_named_by_its_place(sequence: Callable[[], int]) -> None:
    ids = make_events(4, sequence)
    AuditEvent.objects.filter(pk=ids[1]).delete()

    problem = problem_of()

    assert (problem.kind, problem.leaf_index) == (Tamper.DELETED, 1)
    assert f"after event #{ids[0]}, before event #{ids[2]}" in problem.message
    with pytest.raises(CommandError, match=r"\(deleted\) at leaf 1"):
        call_command("audit", "verify")


def test_two_swapped_events_are_named(sequence: Callable[[], int]) -> None:
    ids = make_events(4, sequence)
    AuditEvent.objects.filter(pk=ids[1]).update(leaf_index=-1)
    AuditEvent.objects.filter(pk=ids[2]).update(leaf_index=1)
    AuditEvent.objects.filter(pk=ids[1]).update(leaf_index=2)

    problem = problem_of()

    assert (problem.kind, problem.event_id, problem.leaf_index) == (Tamper.REORDERED, ids[2], 1)
    assert "sequenced at leaf 2" in problem.message


def test_an_event_inserted_in_the_middle_is_named(sequence: Callable[[], int]) -> None:
    ids = make_events(4, sequence)
    for event_id in reversed(ids[2:]):
        AuditEvent.objects.filter(pk=event_id).update(
            leaf_index=AuditEvent.objects.get(pk=event_id).leaf_index + 1
        )
    forged = AuditEvent.objects.create(
        created_at=AuditEvent.objects.get(pk=ids[1]).created_at,
        event_type=AuditEventType.USER_CREATED.value,
        actor_label="safeguard (system)",
        source=AuditSource.CLI.value,
        target_type="user",
        target_id="forged",
        data={},
        payload_sha256=leaves.payload_sha256(
            leaves.payload(actor_label="safeguard (system)", data={})
        ),
        leaf_index=2,
    )

    problem = problem_of()

    assert (problem.kind, problem.event_id, problem.leaf_index) == (Tamper.INSERTED, forged.pk, 2)


def test_a_truncated_tail_is_caught_by_the_stored_tree(sequence: Callable[[], int]) -> None:
    ids = make_events(4, sequence)
    AuditEvent.objects.filter(pk__in=ids[2:]).delete()

    problem = problem_of()

    assert (problem.kind, problem.leaf_index) == (Tamper.TRUNCATED, 2)


def test_a_truncated_tail_with_the_tree_rebuilt_is_caught_against_the_exported_checkpoint(
    sequence: Callable[[], int], witness: Path
) -> None:
    ids = make_events(5, sequence)
    # The insider cuts the two newest events and rebuilds the tree and re-signs (even with the
    # key), so the log is consistent with itself...
    AuditEvent.objects.filter(pk__in=ids[3:]).delete()
    rewrite_tree(signing_key())
    assert audit_log_verify().ok

    # ...but not with the checkpoint exported before the cut.
    problem = problem_of(against=read_exported(witness.read_text()))

    assert (problem.kind, problem.leaf_index) == (Tamper.TRUNCATED, 3)
    assert "2 newest events, from leaf 3 on, were cut off" in problem.message
    with pytest.raises(CommandError, match=r"\(truncated\) at leaf 3"):
        call_command("audit", "verify", "--against", str(witness))


@pytest.mark.parametrize("forger", ["unsigned", "another key"])
def test_an_insider_who_recomputes_the_tree_without_the_key_is_caught_by_the_signature(
    sequence: Callable[[], int], forger: str
) -> None:
    ids = make_events(4, sequence)
    AuditEvent.objects.filter(pk=ids[2]).update(data={"username": "rewritten"})
    fix_payload_hash(ids[2])
    rewrite_tree(None if forger == "unsigned" else Ed25519PrivateKey.generate())

    problem = problem_of()

    assert (problem.kind, problem.event_id, problem.leaf_index) == (
        Tamper.BAD_SIGNATURE,
        ids[2],
        2,
    )
    with pytest.raises(CommandError, match=rf"\(bad_signature\) at event #{ids[2]}"):
        call_command("audit", "verify")


def test_an_insider_with_the_key_is_caught_against_an_exported_checkpoint(
    sequence: Callable[[], int], witness: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = make_events(6, sequence, batch=2)
    AuditEvent.objects.filter(pk=ids[3]).update(data={"username": "rewritten"})
    fix_payload_hash(ids[3])
    rewrite_tree(signing_key())
    # With the key, the rewritten log is consistent with itself: only a copy outside the
    # database shows it.
    assert audit_log_verify().ok

    problem = problem_of(against=read_exported(witness.read_text()))

    assert problem.kind is Tamper.INCONSISTENT
    # Checkpoints pin batches: the difference is named as the batch it lies in, from its first.
    assert (problem.event_id, problem.leaf_index) == (ids[2], 2)
    assert f"#{ids[2]}-#{ids[3]}" in problem.message
    with pytest.raises(CommandError, match=r"\(inconsistent\)"):
        call_command("audit", "verify", "--against", str(witness))


def test_an_altered_interior_node_is_caught(sequence: Callable[[], int]) -> None:
    make_events(4, sequence)
    AuditNode.objects.filter(level=1, index=1).update(hash=b"\x00" * 32)

    problem = problem_of()

    assert problem.kind is Tamper.TREE_ALTERED


def test_a_forged_export_file_is_refused(
    sequence: Callable[[], int], witness: Path, tmp_path: Path
) -> None:
    make_events(2, sequence)
    text = witness.read_text()
    forged = tmp_path / "forged.txt"
    forged.write_text(text.replace("\n2\n", "\n9\n"))

    with pytest.raises(CommandError, match="does not verify"):
        call_command("audit", "verify", "--against", str(forged))
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(CommandError, match="no checkpoint"):
        call_command("audit", "verify", "--against", str(tmp_path / "empty.txt"))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("audit", "verify", "--against", str(tmp_path / "missing.txt"))


# Proofs.


def test_a_proof_verifies_with_the_public_key_alone(sequence: Callable[[], int]) -> None:
    ids = make_events(7, sequence, batch=3)

    for event_id in ids:
        proof = audit_event_proof(event_id=event_id)
        checked = check_proof(proof, public_key())
        assert (checked.event_id, checked.tree_size) == (event_id, 7)
    assert "username" not in str(proof)
    assert "actor_label" not in str(proof)


def test_a_proof_of_an_unsequenced_or_missing_event_is_refused(
    sequence: Callable[[], int],
) -> None:
    make_events(1, sequence)
    user = user_create(username="fresh", role=Role.LEAD, actor=None, source=AuditSource.CLI)
    fresh = AuditEvent.objects.get(target_id=str(user.pk), target_type="user")

    with pytest.raises(NotSequenced):
        audit_event_proof(event_id=fresh.pk)
    with pytest.raises(CommandError, match="no audit event #999999"):
        call_command("audit", "prove", "999999")


def test_a_proof_reads_a_logarithmic_number_of_nodes(
    sequence: Callable[[], int], django_assert_max_num_queries: Callable[..., Any]
) -> None:
    make_events(40, sequence, batch=40)
    event = AuditEvent.objects.order_by("id")[17]

    with django_assert_max_num_queries(2 + 6):
        proof = audit_event_proof(event_id=event.pk)

    assert len(proof["inclusion_proof"]) == 6
    assert check_proof(proof, public_key())


def test_the_api_gives_a_proof_and_the_newest_checkpoint(
    sequence: Callable[[], int], api_for: Any
) -> None:
    ids = make_events(3, sequence)
    auditor = api_for(Role.AUDITOR)

    proof = auditor.get(f"/api/v1/audit/events/{ids[1]}/proof")
    latest = auditor.get("/api/v1/audit/checkpoint")
    missing = auditor.get("/api/v1/audit/events/99999999/proof")

    assert proof.status_code == 200, proof.content
    assert check_proof(proof.json(), public_key()).event_id == ids[1]
    assert latest.status_code == 200
    assert latest.json()["size"] == 3
    assert latest.json()["public_key"] == public_key()
    assert missing.status_code == 404


def test_the_api_verify_names_the_tampered_event(sequence: Callable[[], int], api_for: Any) -> None:
    ids = make_events(3, sequence)
    auditor = api_for(Role.AUDITOR)
    before = auditor.get("/api/v1/audit/verify").json()
    AuditEvent.objects.filter(pk=ids[1]).update(target_id="other")

    after = auditor.get("/api/v1/audit/verify").json()

    assert before["ok"] is True
    assert before["checkpoints"] == 3
    assert after["ok"] is False
    assert (after["problem_kind"], after["problem_event_id"], after["problem_leaf_index"]) == (
        "edited",
        ids[1],
        1,
    )
    # The header a proof shows for an event not yet sequenced is refused with 409, not a guess.
    user_create(username="later", role=Role.LEAD, actor=None, source=AuditSource.CLI)
    newest = AuditEvent.objects.order_by("-id").first()
    assert newest is not None
    assert auditor.get(f"/api/v1/audit/events/{newest.pk}/proof").status_code == 409


def test_a_busy_log_signs_one_checkpoint_per_interval_and_the_last_when_it_is_due(
    sequence: Callable[[], int], settings: Any
) -> None:
    settings.SAFEGUARD_AUDIT_CHECKPOINT_SECONDS = 60
    make_events(3, sequence)
    # The first batch was signed at once; the next two wait for the interval, with one run of
    # the sequencer scheduled for then.
    assert list(AuditCheckpoint.objects.values_list("size", flat=True)) == [1]
    tree = AuditTree.objects.get()
    assert tree.size == 3
    assert tree.checkpoint_due is not None
    scheduled = DBTaskResult.objects.filter(
        task_path="safeguard.audit.tasks.audit_sequence_task", run_after=tree.checkpoint_due
    )
    assert scheduled.count() == 1
    assert "newest checkpoint" in " ".join(audit_log_verify().notes)

    AuditTree.objects.update(
        checkpointed_at=F("checkpointed_at") - timedelta(seconds=61),
        checkpoint_due=F("checkpoint_due") - timedelta(seconds=61),
    )
    sequence()

    assert list(AuditCheckpoint.objects.values_list("size", flat=True)) == [1, 3]
    assert AuditTree.objects.get().checkpoint_due is None
    assert audit_log_verify().ok


def test_a_log_whose_tree_state_was_deleted_is_not_extended(sequence: Callable[[], int]) -> None:
    make_events(2, sequence)
    AuditTree.objects.all().delete()
    user_create(username="after", role=Role.LEAD, actor=None, source=AuditSource.CLI)

    with pytest.raises(RuntimeError, match="state row is missing"):
        audit_sequence()
    problem = problem_of()
    assert problem.kind is Tamper.TREE_ALTERED
    assert "state row" in problem.message


def test_a_verify_running_while_the_log_grows_sees_a_consistent_log(
    sequence: Callable[[], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sequencer commits two more events (leaves, nodes, checkpoint) after the walk has read
    # the events and before it reads the nodes: what it reads is bounded by the tree's size
    # read first, so the newer leaves wait for the next verify instead of raising an alarm.
    from safeguard.audit import selectors

    make_events(3, sequence)
    real = selectors._stored_nodes

    def nodes_after_the_log_grew(batch_size: int, below: int | None) -> Any:
        make_events(2, sequence)
        return real(batch_size, below)

    monkeypatch.setattr(selectors, "_stored_nodes", nodes_after_the_log_grew)

    result = audit_log_verify()

    assert result.ok, result.problem
    assert result.checked == 3
    monkeypatch.undo()
    assert audit_log_verify().checked == 5


def test_an_event_planted_beyond_the_tree_is_named(sequence: Callable[[], int]) -> None:
    make_events(2, sequence)
    planted = forged_event(leaf_index=7)

    problem = problem_of()

    assert (problem.kind, problem.event_id, problem.leaf_index) == (Tamper.INSERTED, planted.pk, 7)
