"""Escalations exactly as received, and the subjects and content each one names."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from safeguard.intake.enums import Category, Channel, SubjectRole


class Subject(models.Model):
    """An account on the host platform; its role is per escalation (suspect, victim, reporter)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform_id = models.CharField(max_length=200, unique=True)
    first_seen_at = models.DateTimeField()

    class Meta:
        # The table it had in the cases app, where it began.
        db_table = "cases_subject"

    def __str__(self) -> str:
        return self.platform_id


class ImmutableRecord(Exception):
    """An accepted escalation cannot be changed or deleted."""


class Escalation(models.Model):
    """One inbound signal. Immutable after intake: `payload` is the validated request as sent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=32, choices=[(c.value, c.value) for c in Channel])
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=[(c.value, c.value) for c in Category])
    summary = models.TextField()
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    payload = models.JSONField()
    # The digest tells an honest retry (same payload) from a reused key (different payload).
    payload_sha256 = models.CharField(max_length=64)
    # Where it came from and whether the caller was verified, as known at intake (SourceKind);
    # triage reads these and never the caller's account, which lives in a layer it must not ask.
    source_kind = models.CharField(max_length=32, default="", blank=True)
    source_verified = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["caller", "channel", "external_id"], name="escalation_idempotency_key"
            )
        ]
        indexes = [models.Index(fields=["received_at"])]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A guard, not business logic: nothing may rewrite what a reporter sent.
        if not self._state.adding:
            raise ImmutableRecord("escalations are immutable once accepted")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecord("escalations are never deleted")


class EscalationSubject(models.Model):
    """A subject as one escalation described them (role, stated age and country at that time)."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="subjects")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="mentions")
    role = models.CharField(max_length=16, choices=[(r.value, r.value) for r in SubjectRole])
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "subject", "role"], name="escalation_subject_role_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject_id} as {self.role}"


class EscalationContent(models.Model):
    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="content")
    content = models.ForeignKey(
        "evidence.ContentItem", on_delete=models.PROTECT, related_name="mentions"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "content"], name="escalation_content_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_id} in {self.escalation_id}"


class ContentClaim(models.Model):
    """A source's description of an item that differs from the owner's, kept for a person to
    see; it never changes the item or locks its owner out."""

    content = models.ForeignKey(
        "evidence.ContentItem", on_delete=models.PROTECT, related_name="claims"
    )
    escalation = models.ForeignKey(
        Escalation, on_delete=models.PROTECT, related_name="content_claims"
    )
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=32)
    sha256 = models.CharField(max_length=64, blank=True)
    # What differs from the owner's description at the time: "kind", "sha256" or both.
    differs = models.JSONField(default=list)
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"claim on {self.content_id} by {self.caller_id}"
