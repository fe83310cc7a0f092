"""Triage policies as uploaded, and every triage result with the policy version behind it."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.db import models


class PolicyStatus(StrEnum):
    """Where a policy version is in its lifecycle (docs/triage-policy.md, "Lifecycle")."""

    # Uploaded and compiled, evaluated by nothing but a backtest.
    DRAFT = "draft"
    # Evaluated beside the live policy on every escalation; its results are stored, never acted on.
    SHADOW = "shadow"
    # Decides. None live means the built-in default decides.
    LIVE = "live"


class TriagePolicy(models.Model):
    """One uploaded policy document: at most one is live (none means the built-in default) and
    at most one is the shadow."""

    version = models.CharField(max_length=100, unique=True)
    source = models.TextField()
    status = models.CharField(
        max_length=8,
        choices=[(s.value, s.value) for s in PolicyStatus],
        default=PolicyStatus.DRAFT,
    )
    # The live one, kept as a column computed from `status` so that readers asking for the
    # active policy still work and can never disagree with the status.
    active = models.GeneratedField(
        expression=models.Case(
            models.When(status=PolicyStatus.LIVE.value, then=models.Value(True)),
            default=models.Value(False),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status=PolicyStatus.LIVE.value),
                name="one_live_policy",
            ),
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status=PolicyStatus.SHADOW.value),
                name="one_shadow_policy",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.status})"


class TriageKind(StrEnum):
    AUTOMATIC = "automatic"
    OVERRIDE = "override"
    # The shadow policy's result for an escalation: stored beside the live one, never applied.
    SHADOW = "shadow"


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
