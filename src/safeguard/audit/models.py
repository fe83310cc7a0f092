"""Audit events and the chain head that serialises writers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from safeguard.audit.events import AuditSource

TARGET_ID_MAX_LENGTH = 200


class AuditEvent(models.Model):
    """One recorded change or view; never updated or deleted by the application."""

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField()
    # An AuditEventType value. Not declared as choices: the set grows with every feature, and a
    # schema migration per new event type would buy nothing the enum does not already enforce.
    event_type = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The label keeps who acted readable even if the account is later renamed.
    actor_label = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=[(s.value, s.value) for s in AuditSource])
    target_type = models.CharField(max_length=64)
    # As long as the longest id an event is filed under: a bank's name or a policy's version
    # (100 characters), an action's target (200). `audit_record` refuses a longer one.
    target_id = models.CharField(max_length=TARGET_ID_MAX_LENGTH)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["target_type", "target_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.target_type}:{self.target_id}"

    def chained_record(self) -> dict[str, Any]:
        """The fields the hash covers, exactly as the writer hashed them."""
        return {
            "created_at": self.created_at.isoformat(),
            "event_type": self.event_type,
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "source": self.source,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "data": self.data,
        }


class AuditHead(models.Model):
    """A single row holding the newest event; writers lock it, so the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.seq}"
