"""Audit events, the Merkle tree the sequencer grows over them, and its signed checkpoints."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from safeguard.audit import leaves
from safeguard.audit.events import AuditSource

TARGET_ID_MAX_LENGTH = 200


class AuditEvent(models.Model):
    """One recorded change or view; never updated or deleted by the application, except that
    the sequencer sets `leaf_index` once, after the event's transaction has committed."""

    created_at = models.DateTimeField()
    # An AuditEventType value. Not declared as choices: the set grows with every feature, and a
    # schema migration per new event type would buy nothing the enum does not already enforce.
    event_type = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The label keeps who acted readable even if the account is later renamed. Part of the
    # payload (a name), not the header.
    actor_label = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=[(s.value, s.value) for s in AuditSource])
    target_type = models.CharField(max_length=64)
    # As long as the longest id an event is filed under: a bank's name or a policy's version
    # (100 characters), an action's target (200). `audit_record` refuses a longer one.
    target_id = models.CharField(max_length=TARGET_ID_MAX_LENGTH)
    data = models.JSONField(default=dict)
    # SHA-256 (hex) of the canonical payload (actor label and data), as the writer hashed it.
    payload_sha256 = models.CharField(max_length=64)
    # The event's place in the Merkle tree; empty until the sequencer reaches it.
    leaf_index = models.BigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "id"], name="audit_event_target"),
            models.Index(
                fields=["id"],
                condition=models.Q(leaf_index__isnull=True),
                name="audit_event_unsequenced",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type} {self.target_type}:{self.target_id}"

    def payload(self) -> dict[str, Any]:
        return leaves.payload(actor_label=self.actor_label, data=self.data)

    def header(self) -> dict[str, Any]:
        """The leaf: everything about the event but the names and text in its payload."""
        return leaves.header(
            event_id=self.pk,
            created_at=self.created_at,
            event_type=self.event_type,
            source=self.source,
            target_type=self.target_type,
            target_id=self.target_id,
            actor_id=self.actor_id,
            payload_hash=self.payload_sha256,
        )


class AuditNode(models.Model):
    """A stored hash of the tree: the perfect subtree of 2**level leaves starting at leaf
    index * 2**level (level 0: the leaf hashes by position). Written once by the sequencer, so a
    proof reads O(log n) of them instead of rebuilding the tree."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    # The leaf whose append completed this node: the order the sequencer wrote nodes in, and
    # the order verification reads them back in.
    position = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="audit_node_unique"),
        ]
        indexes = [models.Index(fields=["position", "level"], name="audit_node_position")]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class AuditTree(models.Model):
    """The sequencer's state, one row: the tree's size, root and right edge. Only the sequencer
    locks it, so no writer waits on another's audit event."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(max_length=32)
    # The hex hashes of the perfect subtrees along the right edge, largest first.
    frontier = models.JSONField(default=list)
    # The newest checkpoint's size and time, and when the next is due if one is waiting.
    checkpoint_size = models.BigIntegerField(default=0)
    checkpointed_at = models.DateTimeField(null=True, blank=True)
    checkpoint_due = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"tree of {self.size}"


class AuditCheckpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note) over the first `size` leaves."""

    size = models.BigIntegerField(unique=True)
    root = models.BinaryField(max_length=32)
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"
