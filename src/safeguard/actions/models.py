"""Actions on the host platform, tracked from request to the platform's confirmation."""

from __future__ import annotations

import uuid
from enum import StrEnum

from django.conf import settings
from django.db import models


class ActionStatus(StrEnum):
    PENDING = "pending"  # waiting to be delivered (or retried)
    SENT = "sent"  # the platform accepted it and will confirm
    CONFIRMED = "confirmed"  # the platform says it is done
    FAILED = "failed"  # delivery gave up after its retries


class Action(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="actions")
    decision = models.ForeignKey(
        "cases.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="actions"
    )
    kind = models.CharField(max_length=32)
    # "content" or "account", and the platform's id for it.
    target_type = models.CharField(max_length=16)
    target_id = models.CharField(max_length=200)
    # The host platform that owns the target (a content item's platform; for accounts, the
    # configured platform). Only that platform's service accounts may confirm the action.
    platform = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16,
        choices=[(s.value, s.value) for s in ActionStatus],
        default=ActionStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    # A reversal (restore, unban) points at the action it undoes.
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_type}:{self.target_id} ({self.status})"
