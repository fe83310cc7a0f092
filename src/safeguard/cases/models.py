"""Subjects (platform accounts) and cases, with the link that groups escalations into a case."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from safeguard.cases.workflow import CaseState


class Subject(models.Model):
    """An account on the host platform; its role is per escalation (suspect, victim, reporter)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform_id = models.CharField(max_length=200, unique=True)
    first_seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.platform_id


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state = models.CharField(
        max_length=16, choices=[(s.value, s.value) for s in CaseState], default=CaseState.NEW
    )
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # One child-safety case per suspect: grouping looks a suspect up here among open cases.
    suspects = models.ManyToManyField(Subject, related_name="cases_as_suspect", blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "opened_at"])]

    def __str__(self) -> str:
        return f"case {self.id} ({self.state})"


class CaseEscalation(models.Model):
    """Which case an escalation belongs to; an escalation belongs to exactly one case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="links")
    escalation = models.OneToOneField(
        "intake.Escalation", on_delete=models.PROTECT, related_name="case_link"
    )
    joined_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.escalation_id} in {self.case_id}"
