"""Reading the audit log: listing events, verifying the tree, and proofs for outsiders."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.checkpoint import NoteError, open_checkpoint
from safeguard.audit.merkle import (
    Node,
    ProofError,
    consistency_proof,
    inclusion_proof,
    nodes_for_proof,
    verify_consistency,
)
from safeguard.audit.models import AuditCheckpoint, AuditEvent, AuditNode, AuditTree
from safeguard.audit.proofs import PROOF_FORMAT
from safeguard.audit.services import public_key
from safeguard.audit.verification import (
    KnownCheckpoint,
    Problem,
    StoredEvent,
    StoredNode,
    Tamper,
    Verification,
    verify_log,
)
from safeguard.core.errors import Conflict, Forbidden, NotFound


class AuditAccessDenied(Forbidden):
    """The user may not read the audit log."""


class NotSequenced(Conflict):
    """The event exists but has no leaf (and so no proof) yet."""


def audit_events_for(
    *, user: User, target_type: str | None = None, target_id: str | None = None
) -> QuerySet[AuditEvent]:
    """The whole log, for those who audit it. Deliberately not filtered by case visibility: the
    log is the auditor's record of who did what, to which case, when (ids, event types, queues,
    priorities, labels, the reasons and escalation notes people typed, platform ids of action
    targets), and it is how reads under grants are themselves checked. It holds no escalation
    summary, content text or media; reading those needs a read grant (cases.grants)."""
    if not user.has_permission(Permission.AUDIT_EVENT_READ):
        raise AuditAccessDenied
    events = AuditEvent.objects.order_by("id")
    if target_type:
        events = events.filter(target_type=target_type)
    if target_id:
        events = events.filter(target_id=target_id)
    return events


def _stored_events(batch_size: int, below: int | None) -> Iterator[StoredEvent]:
    events = AuditEvent.objects.filter(leaf_index__isnull=False).order_by("leaf_index")
    if below is not None:
        events = events.filter(leaf_index__lt=below)
    for event in events.iterator(chunk_size=batch_size):
        yield StoredEvent(
            event_id=event.pk,
            leaf_index=event.leaf_index or 0,
            header=event.header(),
            payload=event.payload(),
        )


def _stored_nodes(batch_size: int, below: int | None) -> Iterator[StoredNode]:
    nodes = AuditNode.objects.order_by("position", "level")
    if below is not None:
        nodes = nodes.filter(position__lt=below)
    rows = nodes.values_list("level", "index", "hash")
    for level, index, value in rows.iterator(chunk_size=batch_size):
        yield StoredNode(level=level, index=index, hash=bytes(value))


def _locate_leaf(value: bytes) -> int | None:
    return AuditNode.objects.filter(level=0, hash=value).values_list("index", flat=True).first()


def _stored_checkpoints(vkey: str) -> list[KnownCheckpoint]:
    known = []
    for stored in AuditCheckpoint.objects.order_by("size"):
        label = f"#{stored.pk} "
        try:
            opened = open_checkpoint(stored.note, vkey, origin=settings.SAFEGUARD_AUDIT_ORIGIN)
        except NoteError:
            known.append(KnownCheckpoint(stored.size, bytes(stored.root), False, label=label))
            continue
        # What the signature covers is what counts, not the columns beside it.
        known.append(KnownCheckpoint(opened.size, opened.root, True, label=label))
    return known


@dataclass(frozen=True)
class Exported:
    """Checkpoints read from an export file, each checked against the log's key."""

    checkpoints: list[KnownCheckpoint]


class ExportError(ValueError):
    """An export file that is not a list of checkpoints signed by this log."""


def read_exported(text: str, *, vkey: str | None = None) -> Exported:
    """Parse an export file: signed notes, each followed by a blank line (as the sequencer
    appends them). Every one must be signed by the log's key; a forged one is refused."""
    key = vkey or public_key()
    notes = _split_notes(text)
    if not notes:
        raise ExportError("the file holds no checkpoint")
    found = []
    for number, note in enumerate(notes, start=1):
        try:
            opened = open_checkpoint(note, key, origin=settings.SAFEGUARD_AUDIT_ORIGIN)
        except NoteError as exc:
            raise ExportError(f"checkpoint {number} in the file does not verify: {exc}") from None
        found.append(
            KnownCheckpoint(opened.size, opened.root, exported=True, label=f"{number} in the file ")
        )
    return Exported(found)


def _split_notes(text: str) -> list[str]:
    """Notes are "body\\n\\nsignatures\\n", one after another with a blank line between."""
    blocks = [block for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    if len(blocks) % 2:
        raise ExportError("the file is not whole signed notes (a body or signatures is missing)")
    return [
        f"{body.strip(chr(10))}\n\n{signatures.strip(chr(10))}\n"
        for body, signatures in zip(blocks[::2], blocks[1::2], strict=True)
    ]


def audit_log_verify(*, against: Exported | None = None, batch_size: int = 5000) -> Verification:
    """Recompute the tree from every sequenced event, hold it to the stored tree, every stored
    checkpoint (signature and root) and any exported ones, and name the first difference."""
    vkey = public_key()
    known = _stored_checkpoints(vkey)
    if against is not None:
        known += against.checkpoints
    # Read after the checkpoints, so that every genuine one is within it; and the walk reads
    # only what lies below it, so that a sequencer extending the log meanwhile (leaves, nodes
    # and the tree's row commit together) changes nothing the walk sees.
    tree = AuditTree.objects.filter(pk=1).values_list("size", "root").first()
    bound = tree[0] if tree is not None else None
    result = verify_log(
        _stored_events(batch_size, bound),
        _stored_nodes(batch_size, bound),
        known,
        tree_size=bound or 0,
        locate_leaf=_locate_leaf,
    )
    if result.ok and result.size and (tree is None or bytes(tree[1]) != result.root):
        # The sequencer's state is derived from the nodes, but it is what the next batch
        # extends: a missing or altered one must be restored before the log grows again.
        result.problem = Problem(
            Tamper.TREE_ALTERED,
            "the sequencer's state row (size and root of the tree) is "
            + ("missing" if tree is None else "altered: its root is not the events' root"),
            leaf_index=result.size,
        )
    if result.ok:
        _nothing_beyond(result)
    if result.ok and against is not None:
        _consistency(result, against.checkpoints)
    pending = AuditEvent.objects.filter(leaf_index__isnull=True).count()
    if pending:
        result.notes.append(f"{pending} newer events are waiting for the sequencer")
    covered = max((c.size for c in known if not c.exported), default=0)
    if result.ok and result.size > covered:
        result.notes.append(
            f"{result.size - covered} events after the newest checkpoint (of size {covered}) "
            "are in the tree and will be in the next checkpoint"
        )
    return result


def _nothing_beyond(result: Verification) -> None:
    """No event stands at a leaf beyond the tree as it is now (after the walk, which is what
    tells an insider's planted leaf from the sequencer's latest batch)."""
    size = AuditTree.objects.filter(pk=1).values_list("size", flat=True).first() or 0
    stray = AuditEvent.objects.filter(leaf_index__gte=size).order_by("leaf_index").first()
    if stray is not None:
        result.problem = Problem(
            Tamper.INSERTED,
            f"event #{stray.pk} stands at leaf {stray.leaf_index}, beyond the tree of {size} "
            "leaves: no sequencer placed it there",
            event_id=stray.pk,
            leaf_index=stray.leaf_index,
        )


def _nodes(keys: set[Node]) -> dict[Node, bytes]:
    """Read stored nodes by (level, index), one query per level."""
    found: dict[Node, bytes] = {}
    by_level: dict[int, list[int]] = {}
    for level, index in keys:
        by_level.setdefault(level, []).append(index)
    for level, indexes in by_level.items():
        rows = AuditNode.objects.filter(level=level, index__in=indexes).values_list("index", "hash")
        found.update({(level, index): bytes(value) for index, value in rows})
    missing = keys - found.keys()
    if missing:
        raise ProofError(f"the stored tree lacks {len(missing)} node(s), e.g. {min(missing)}")
    return found


def _proof(make: Any) -> list[bytes]:
    needed, build = nodes_for_proof(make)
    return build(_nodes(needed))


def _consistency(result: Verification, exported: Sequence[KnownCheckpoint]) -> None:
    """The outsider's check: a consistency proof from the newest exported checkpoint to the
    newest stored one, verified against both roots."""
    newest = AuditCheckpoint.objects.order_by("-size").first()
    old = max(exported, key=lambda c: c.size)
    if newest is None or old.size == 0:
        return
    opened = open_checkpoint(newest.note, public_key())
    try:
        proof = _proof(lambda read: consistency_proof(old.size, opened.size, subtree=read))
    except ProofError as exc:
        result.problem = Problem(Tamper.INCONSISTENT, f"no consistency proof can be made: {exc}")
        return
    if not verify_consistency(old.size, opened.size, old.root, opened.root, proof):
        result.problem = Problem(
            Tamper.INCONSISTENT,
            f"the consistency proof from the exported checkpoint of size {old.size} to the "
            f"log's checkpoint of size {opened.size} does not verify",
        )
        return
    result.notes.append(
        f"consistent with the exported checkpoint of size {old.size}: a consistency proof "
        f"({len(proof)} hashes) to the checkpoint of size {opened.size} verifies"
    )


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def audit_event_proof(*, event_id: int) -> dict[str, Any]:
    """A self-contained proof that event `event_id` is in the log: its header (no names or
    text), leaf index, the inclusion proof and the newest signed checkpoint. Checked with the
    log's public key alone (`safeguard audit check-proof`)."""
    return audit_event_proofs(event_ids=[event_id])[0]


def audit_event_proofs(*, event_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Proofs of several events, all against the one newest checkpoint (a disclosure package
    carries one checkpoint for every proof it holds), in the order asked."""
    events = AuditEvent.objects.in_bulk(list(event_ids))
    checkpoint = AuditCheckpoint.objects.order_by("-size").first()
    proofs = []
    for event_id in event_ids:
        event = events.get(event_id)
        if event is None:
            raise NotFound(f"no audit event #{event_id}")
        if event.leaf_index is None:
            raise NotSequenced(
                f"audit event #{event_id} is not sequenced yet; try again in a moment"
            )
        if checkpoint is None or checkpoint.size <= event.leaf_index:
            raise NotSequenced(f"no checkpoint covers audit event #{event_id} yet")
        index, size = event.leaf_index, checkpoint.size
        path = _proof(lambda read, i=index, n=size: inclusion_proof(i, n, subtree=read))
        proofs.append(
            {
                "format": PROOF_FORMAT,
                "event": event.header(),
                "leaf_index": index,
                "tree_size": size,
                "inclusion_proof": [_b64(h) for h in path],
                "checkpoint": checkpoint.note,
            }
        )
    return proofs


def audit_latest_checkpoint() -> dict[str, Any]:
    checkpoint = AuditCheckpoint.objects.order_by("-size").first()
    if checkpoint is None:
        raise NotSequenced("the audit log has no checkpoint yet")
    return {
        "size": checkpoint.size,
        "root": bytes(checkpoint.root).hex(),
        "checkpoint": checkpoint.note,
        "public_key": public_key(),
    }
