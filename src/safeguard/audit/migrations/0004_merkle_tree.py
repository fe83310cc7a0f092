"""The audit log becomes an RFC 9162 Merkle tree with signed checkpoints (issue 12).

The existing events are checked against the old hash chain first (a broken chain is refused:
signing it into the tree would launder the tampering), then become leaves in their sequence
order, and the first checkpoint, signed with SAFEGUARD_AUDIT_SIGNING_KEY, covers them. The
linear hash fields and the head row every writer locked go.
"""

import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from safeguard.audit import leaves
from safeguard.audit.checkpoint import Checkpoint, checkpoint_text, sign_note
from safeguard.audit.merkle import Frontier, completes_at

GENESIS_HASH = "0" * 64


def _old_hash(prev_hash, event):  # type: ignore[no-untyped-def]
    # The old chain's rule, kept here only to check the chain before it is replaced.
    record = {
        "created_at": event.created_at.isoformat(),
        "event_type": event.event_type,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "source": event.source,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "data": event.data,
    }
    canonical = json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical)
    return digest.hexdigest()


def to_tree(apps, schema_editor):  # type: ignore[no-untyped-def]
    AuditEvent = apps.get_model("audit", "AuditEvent")  # noqa: N806 - model classes
    AuditNode = apps.get_model("audit", "AuditNode")  # noqa: N806
    AuditTree = apps.get_model("audit", "AuditTree")  # noqa: N806
    AuditCheckpoint = apps.get_model("audit", "AuditCheckpoint")  # noqa: N806
    AuditHead = apps.get_model("audit", "AuditHead")  # noqa: N806
    frontier = Frontier()
    prev = GENESIS_HASH
    events = []
    nodes = []
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.prev_hash != prev or _old_hash(event.prev_hash, event) != event.hash:
            raise RuntimeError(
                f"the audit chain is broken at event #{event.seq}: run the previous release's "
                "`safeguard audit verify`, investigate, and restore the log before upgrading"
            )
        prev = event.hash
        label = event.actor_label
        event.payload_sha256 = leaves.payload_sha256(
            leaves.payload(actor_label=label, data=event.data)
        )
        event.leaf_index = frontier.size
        header = leaves.header(
            event_id=event.pk,
            created_at=event.created_at,
            event_type=event.event_type,
            source=event.source,
            target_type=event.target_type,
            target_id=event.target_id,
            actor_id=event.actor_id,
            payload_hash=event.payload_sha256,
        )
        for level, index, value in frontier.append(leaves.leaf_of(header)):
            nodes.append(
                AuditNode(level=level, index=index, position=completes_at(level, index), hash=value)
            )
        events.append(event)
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (frontier.size, prev):
        raise RuntimeError(
            f"the audit chain's head records event #{head.seq}, the chain ends at "
            f"#{frontier.size}: events were deleted; restore the log before upgrading"
        )
    AuditEvent.objects.bulk_update(events, ["payload_sha256", "leaf_index"], batch_size=500)
    AuditNode.objects.bulk_create(nodes, batch_size=1000)
    root = frontier.root()
    now = timezone.now()
    AuditTree.objects.create(
        pk=1,
        size=frontier.size,
        root=root,
        frontier=[h.hex() for h in frontier.hashes],
        checkpoint_size=frontier.size,
        checkpointed_at=now if frontier.size else None,
    )
    if frontier.size:
        origin = settings.SAFEGUARD_AUDIT_ORIGIN
        key = Ed25519PrivateKey.from_private_bytes(settings.SAFEGUARD_AUDIT_SIGNING_KEY)
        text = checkpoint_text(Checkpoint(origin=origin, size=frontier.size, root=root))
        AuditCheckpoint.objects.create(
            size=frontier.size,
            root=root,
            note=sign_note(text, origin, key),
            created_at=timezone.now(),
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_audit_target_id_200")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="payload_sha256",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="leaf_index",
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.CreateModel(
            name="AuditNode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.BigIntegerField()),
                ("position", models.BigIntegerField()),
                ("hash", models.BinaryField(max_length=32)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=["level", "index"], name="audit_node_unique")
                ],
                "indexes": [models.Index(fields=["position", "level"], name="audit_node_position")],
            },
        ),
        migrations.CreateModel(
            name="AuditTree",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("size", models.BigIntegerField(default=0)),
                ("root", models.BinaryField(max_length=32)),
                ("frontier", models.JSONField(default=list)),
                ("checkpoint_size", models.BigIntegerField(default=0)),
                ("checkpointed_at", models.DateTimeField(blank=True, null=True)),
                ("checkpoint_due", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("size", models.BigIntegerField(unique=True)),
                ("root", models.BinaryField(max_length=32)),
                ("note", models.TextField()),
                ("created_at", models.DateTimeField()),
            ],
            options={"ordering": ["size"]},
        ),
        migrations.RunPython(to_tree, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="auditevent", name="audit_audit_target__b95a06_idx"),
        migrations.RemoveField(model_name="auditevent", name="seq"),
        migrations.RemoveField(model_name="auditevent", name="prev_hash"),
        migrations.RemoveField(model_name="auditevent", name="hash"),
        migrations.DeleteModel(name="AuditHead"),
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["id"]}),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                fields=["target_type", "target_id", "id"], name="audit_event_target"
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("leaf_index__isnull", True)),
                fields=["id"],
                name="audit_event_unsequenced",
            ),
        ),
    ]
