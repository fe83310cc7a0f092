"""Writing the audit log: every service calls `audit_record` inside its own transaction; the
sequencer gives committed events their leaves and signs a checkpoint after each batch.

Writers share no lock: an event is a plain insert, durable with the change it records. The
sequencer alone locks the tree's state row, so it is the single writer of the tree however many
processes run it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.audit import leaves
from safeguard.audit.checkpoint import Checkpoint, checkpoint_text, sign_note, verifier_key
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.merkle import Frontier, completes_at
from safeguard.audit.models import (
    TARGET_ID_MAX_LENGTH,
    AuditCheckpoint,
    AuditEvent,
    AuditNode,
    AuditTree,
)
from safeguard.core import webhooks

logger = logging.getLogger(__name__)

SYSTEM_LABEL = "safeguard (system)"
# Events sequenced per transaction and checkpoint; a larger backlog takes several batches.
BATCH_MAX = 5000
WITNESS_MAX_ATTEMPTS = 12
SEQUENCER_PRIORITY = 50


def audit_record(
    *,
    event_type: AuditEventType,
    actor: User | None,
    source: AuditSource,
    target_type: str,
    target_id: object,
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Record one event. Must run inside the caller's transaction; takes no shared lock.

    `actor=None` means Safeguard itself acted (a task or a rule), never an unknown person.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    target = str(target_id)
    # SQLite would store a longer id and PostgreSQL refuse it mid-request: refuse it the same
    # way on both, so the tests on either database find the caller that sends one.
    if len(target) > TARGET_ID_MAX_LENGTH:
        raise ValueError(
            f"an audit target id is at most {TARGET_ID_MAX_LENGTH} characters, got {len(target)}"
        )
    # Round-trip through JSON so that what is hashed is exactly what the database returns.
    clean = json.loads(json.dumps(dict(data or {}), cls=DjangoJSONEncoder))
    label = actor.label if actor is not None else SYSTEM_LABEL
    event = AuditEvent.objects.create(
        created_at=timezone.now(),
        event_type=event_type.value,
        actor=actor,
        actor_label=label,
        source=source.value,
        target_type=target_type,
        target_id=target,
        data=clean,
        payload_sha256=leaves.payload_sha256(leaves.payload(actor_label=label, data=clean)),
    )
    _kick_sequencer()
    return event


def _kick_sequencer() -> None:
    # Imported here: the tasks module imports these services.
    from safeguard.audit.tasks import audit_sequence_task
    from safeguard.core.tasks import enqueue_once

    # Ahead of other waiting tasks: an event should have its leaf within a second of its commit.
    enqueue_once(audit_sequence_task, priority=SEQUENCER_PRIORITY)


def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(settings.SAFEGUARD_AUDIT_SIGNING_KEY)


def public_key() -> str:
    """The verifier key (`<origin>+<key id>+<base64 key>`) that checks every checkpoint."""
    return verifier_key(settings.SAFEGUARD_AUDIT_ORIGIN, signing_key().public_key())


def sign_checkpoint(size: int, root: bytes) -> str:
    origin = settings.SAFEGUARD_AUDIT_ORIGIN
    text = checkpoint_text(Checkpoint(origin=origin, size=size, root=root))
    return sign_note(text, origin, signing_key())


def _lock_tree() -> AuditTree:
    tree = AuditTree.objects.select_for_update().filter(pk=1).first()
    if tree is None:
        # The migration creates the row; it is missing only from a database emptied by a test
        # flush, or by tampering, and a tree with nodes but no state must not be extended.
        if AuditNode.objects.exists():
            raise RuntimeError(
                "the audit tree's state row is missing; run `safeguard audit verify`"
            )
        AuditTree.objects.get_or_create(pk=1, defaults={"root": Frontier().root()})
        tree = AuditTree.objects.select_for_update().get(pk=1)
    return tree


def audit_sequence(*, batch_max: int = BATCH_MAX) -> int:
    """Give every committed event without a leaf its place in the tree, in batches, and sign a
    checkpoint after each; return how many events were sequenced."""
    total = 0
    while True:
        count = _sequence_batch(batch_max)
        total += count
        if count < batch_max:
            return total


def _sequence_batch(limit: int) -> int:
    with transaction.atomic():
        tree = _lock_tree()
        # The kicks already waiting were sent by transactions that have committed: this run
        # sees their events, so they need not run. Dropped before the read below, so that a
        # kick dropped is always one whose events the read sees.
        from safeguard.audit.tasks import audit_sequence_task
        from safeguard.core.tasks import drop_waiting

        drop_waiting(audit_sequence_task)
        # Read only after the lock: every event committed before this sequencer got the tree is
        # seen, whatever its id. An early id that commits late is simply in a later batch.
        pending = list(AuditEvent.objects.filter(leaf_index__isnull=True).order_by("id")[:limit])
        if pending:
            _append(tree, pending)
        _checkpoint_if_due(tree)
        tree.save()
    return len(pending)


def _append(tree: AuditTree, pending: list[AuditEvent]) -> None:
    frontier = Frontier(tree.size, [bytes.fromhex(h) for h in tree.frontier])
    nodes: list[AuditNode] = []
    for event in pending:
        event.leaf_index = frontier.size
        for level, index, value in frontier.append(leaves.leaf_of(event.header())):
            nodes.append(
                AuditNode(level=level, index=index, position=completes_at(level, index), hash=value)
            )
    _set_leaves(pending)
    AuditNode.objects.bulk_create(nodes, batch_size=1000)
    tree.size = frontier.size
    tree.root = frontier.root()
    tree.frontier = [h.hex() for h in frontier.hashes]


def _set_leaves(pending: list[AuditEvent]) -> None:
    """Store the leaf indices, one UPDATE per run of consecutive ids (ids and leaves rise
    together within a run, so the leaf is the id plus an offset). A gap in the ids (a rolled-
    back or still open transaction) starts a new run; usually a batch is one run."""
    start = 0
    for end in range(1, len(pending) + 1):
        if end < len(pending) and pending[end].pk == pending[end - 1].pk + 1:
            continue
        first, last = pending[start], pending[end - 1]
        offset = (first.leaf_index or 0) - first.pk
        updated = AuditEvent.objects.filter(
            pk__gte=first.pk, pk__lte=last.pk, leaf_index__isnull=True
        ).update(leaf_index=F("id") + offset)
        if updated != end - start:
            # Only the sequencer sets leaves, under the tree's lock: anything else is tampering,
            # and the batch is abandoned rather than recorded half-right.
            raise RuntimeError(
                f"audit events #{first.pk}-#{last.pk} changed while being sequenced; run "
                "`safeguard audit verify`"
            )
        start = end


def _checkpoint_if_due(tree: AuditTree) -> None:
    """Sign a checkpoint over the tree unless one was signed less than
    SAFEGUARD_AUDIT_CHECKPOINT_SECONDS ago; then sign it when that time is up, by a sequencer
    run scheduled for then. Busy logs get one checkpoint per interval, not one per commit."""
    if tree.size == tree.checkpoint_size:
        tree.checkpoint_due = None
        return
    now = timezone.now()
    spacing = timedelta(seconds=settings.SAFEGUARD_AUDIT_CHECKPOINT_SECONDS)
    due = tree.checkpointed_at + spacing if tree.checkpointed_at is not None else now
    if now >= due or (tree.checkpoint_due is not None and now >= tree.checkpoint_due):
        note = sign_checkpoint(tree.size, bytes(tree.root))
        AuditCheckpoint.objects.create(size=tree.size, root=tree.root, note=note, created_at=now)
        tree.checkpoint_size, tree.checkpointed_at, tree.checkpoint_due = tree.size, now, None
        _export(tree.size, note)
        return
    if tree.checkpoint_due is None:
        from safeguard.audit.tasks import audit_sequence_task
        from safeguard.core.tasks import enqueue

        tree.checkpoint_due = due
        enqueue(audit_sequence_task, run_after=due)


def _export(size: int, note: str) -> None:
    """Send the checkpoint to the witnesses configured: appended to a file after commit, and
    posted to a webhook by a task with retries."""
    path = settings.SAFEGUARD_AUDIT_WITNESS_FILE
    if path is not None:
        transaction.on_commit(lambda: append_checkpoint(path, note))
    if settings.SAFEGUARD_AUDIT_WITNESS_WEBHOOK_URL:
        from safeguard.audit.tasks import audit_checkpoint_deliver
        from safeguard.core.tasks import enqueue

        enqueue(audit_checkpoint_deliver, size=size, attempt=1)


def append_checkpoint(path: os.PathLike[str] | str, note: str) -> None:
    """Append one signed note and a blank line to an export file (created 0600). A failure is
    logged, not raised: the checkpoint is committed, and the next one covers this one's tree."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(note + "\n")
    except OSError:
        logger.exception("could not export the audit checkpoint to %s", path)


def audit_checkpoint_deliver_attempt(*, size: int, attempt: int) -> bool | None:
    """Post the checkpoint of `size` to the witness webhook once. None when there is nothing to
    send (no webhook configured, or no such checkpoint)."""
    url = settings.SAFEGUARD_AUDIT_WITNESS_WEBHOOK_URL
    checkpoint = AuditCheckpoint.objects.filter(size=size).first()
    if not url or checkpoint is None:
        return None
    payload = {
        "origin": settings.SAFEGUARD_AUDIT_ORIGIN,
        "size": checkpoint.size,
        "root": bytes(checkpoint.root).hex(),
        "checkpoint": checkpoint.note,
    }
    delivery = webhooks.deliver(
        url,
        payload,
        settings.SAFEGUARD_AUDIT_WITNESS_WEBHOOK_SECRET,
        delivery_id=f"audit-checkpoint-{checkpoint.size}",
    )
    if not delivery.ok:
        logger.warning(
            "audit checkpoint %s: witness delivery attempt %s failed: %s",
            size,
            attempt,
            delivery.error,
        )
    # Later checkpoints cover this one's tree, so a witness that stays down loses nothing a
    # consistency proof needs; stop retrying this one after a day's worth of backoff.
    if not delivery.ok and attempt >= WITNESS_MAX_ATTEMPTS:
        return None
    return delivery.ok
