"""Triage policies as uploaded, and every triage result with the policy version behind it."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.db import models


class TriagePolicy(models.Model):
    """One uploaded policy document; exactly one is active (none means the built-in default)."""

    version = models.CharField(max_length=100, unique=True)
    source = models.TextField()
    active = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="one_active_policy"
            )
        ]

    def __str__(self) -> str:
        return self.version


class TriageKind(StrEnum):
    AUTOMATIC = "automatic"
    OVERRIDE = "override"


class TriageRecord(models.Model):
    """What triage (or a person overriding it) concluded for a case at one moment."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="triage")
    escalation = models.ForeignKey(
        "intake.Escalation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=[(k.value, k.value) for k in TriageKind])
    priority = models.CharField(max_length=2)
    queue = models.CharField(max_length=64)
    explanation = models.TextField()
    rules_matched = models.JSONField(default=list)
    rule_errors = models.JSONField(default=list)
    # Signal families that triggered in this escalation; later triage of the case reads them.
    signals_triggered = models.JSONField(default=list)
    tags = models.JSONField(default=list)
    deadlines = models.JSONField(default=dict)
    policy_version = models.CharField(max_length=100)
    # Whether this result changed the case (automatic triage only ever raises priority).
    applied = models.BooleanField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["computed_at", "id"]

    def __str__(self) -> str:
        return f"{self.priority} for {self.case_id} ({self.kind})"
