"""An insider with write access to the database: edits events directly, and can rebuild the
whole tree and the checkpoints over the edited events, signed with whatever key they have."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils import timezone

from safeguard.audit import leaves
from safeguard.audit.checkpoint import Checkpoint, checkpoint_text, sign_note
from safeguard.audit.merkle import Frontier, completes_at
from safeguard.audit.models import AuditCheckpoint, AuditEvent, AuditNode, AuditTree


def fix_payload_hash(event_id: int) -> None:
    """Make an edited event's payload hash match its new payload, as an insider would."""
    event = AuditEvent.objects.get(pk=event_id)
    AuditEvent.objects.filter(pk=event_id).update(
        payload_sha256=leaves.payload_sha256(event.payload())
    )


def rewrite_tree(key: Ed25519PrivateKey | None) -> None:
    """Rebuild every node, the tree row and every checkpoint (at the sizes the log had) from
    the events as they now stand, as a careful insider would: a checkpoint whose root did not
    change keeps its genuine signature; a changed one is signed with `key`, or with `key` None
    keeps the old signature line, which no longer matches."""
    events = AuditEvent.objects.filter(leaf_index__isnull=False).order_by("leaf_index")
    old = {c.size: c.note for c in AuditCheckpoint.objects.all()}
    frontier = Frontier()
    nodes: list[AuditNode] = []
    roots: dict[int, bytes] = {}
    for event in events:
        for level, index, value in frontier.append(leaves.leaf_of(event.header())):
            nodes.append(
                AuditNode(level=level, index=index, position=completes_at(level, index), hash=value)
            )
        roots[frontier.size] = frontier.root()
    AuditNode.objects.all().delete()
    AuditNode.objects.bulk_create(nodes)
    AuditTree.objects.update_or_create(
        pk=1,
        defaults={
            "size": frontier.size,
            "root": frontier.root(),
            "frontier": [h.hex() for h in frontier.hashes],
        },
    )
    AuditCheckpoint.objects.all().delete()
    origin = settings.SAFEGUARD_AUDIT_ORIGIN
    for size, note in sorted(old.items()):
        if size not in roots:
            continue
        text = checkpoint_text(Checkpoint(origin=origin, size=size, root=roots[size]))
        if note.startswith(text):
            forged = note
        elif key is not None:
            forged = sign_note(text, origin, key)
        else:
            forged = text + note[note.rfind("\n\n") + 1 :]
        AuditCheckpoint.objects.create(
            size=size, root=roots[size], note=forged, created_at=timezone.now()
        )
