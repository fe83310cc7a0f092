"""Cases, with the link that groups escalations into a case, queues, decisions and claims."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from safeguard.cases.workflow import CaseState, Priority


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
    # The holder's claim is a lease: after this moment anyone may claim the case again.
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Triage's current answer for the case (the history is in triage.TriageRecord).
    priority = models.CharField(
        max_length=2, choices=[(p.value, p.value) for p in Priority], blank=True
    )
    queue = models.CharField(max_length=64, blank=True)
    explanation = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    first_action_due = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    # Set when the first-action deadline passed unmet; breached cases are served first.
    breached_at = models.DateTimeField(null=True, blank=True)
    first_action_at = models.DateTimeField(null=True, blank=True)
    # One child-safety case per suspect: grouping looks a suspect up here among open cases.
    suspects = models.ManyToManyField("intake.Subject", related_name="cases_as_suspect", blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "opened_at"]),
            models.Index(fields=["queue", "state", "priority", "first_action_due"]),
        ]

    def __str__(self) -> str:
        return f"case {self.id} ({self.state})"


class Queue(models.Model):
    """A named queue of cases; who may work it is a set of roles and of named people."""

    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=300, blank=True)
    roles = models.JSONField(default=list, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Time spent holding a case here counts toward a reviewer's daily exposure.
    sensitive = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class CaseEscalation(models.Model):
    """Which case an escalation belongs to; an escalation belongs to exactly one case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="links")
    escalation = models.OneToOneField(
        "intake.Escalation", on_delete=models.PROTECT, related_name="case_link"
    )
    joined_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.escalation_id} in {self.case_id}"


class Decision(models.Model):
    """A verdict on a case (or a specialist's escalation of it to a lead), with its reason."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=16)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    labels = models.JSONField(default=list)
    # content item id -> industry classification (A1/A2/B1/B2)
    item_labels = models.JSONField(default=dict)
    reason = models.TextField()
    requested_actions = models.JSONField(default=list)
    referrals = models.JSONField(default=list)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.case_id} by {self.decided_by_id}"


class CaseNote(models.Model):
    """An internal note on a case: for the team, never sent to the platform or a reporter."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["written_at", "id"]

    def __str__(self) -> str:
        return f"note on {self.case_id} by {self.author_id}"


class ReadGrant(models.Model):
    """A lead's explicit, expiring permission for an auditor to read one queue's cases or one
    case; every read under it is an audit event (cases/grants.py, docs/security.md)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="read_grants"
    )
    # Exactly one of the two: every case in a queue (as it is when read), or one case.
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.PROTECT, related_name="read_grants"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="read_grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["grantee", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(queue__isnull=False, case__isnull=True)
                    | models.Q(queue__isnull=True, case__isnull=False)
                ),
                name="read_grant_one_scope",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="read_grant_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        scope = f"queue {self.queue_id}" if self.queue_id else f"case {self.case_id}"
        return f"read grant {self.id}: {self.grantee_id} on {scope}"


class ClaimRecord(models.Model):
    """One claim that ended: who held the case, in which queue, from when to when. Written by
    `cases.claims.claim_end` alone; reviewer care reads these to count sensitive time."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="claim_records")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    queue = models.CharField(max_length=64, blank=True)
    # Whether the queue counted as sensitive when the claim ended.
    sensitive = models.BooleanField()
    started_at = models.DateTimeField()
    # The claim ends when it is given up or its lease lapses, whichever is first.
    ended_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["holder", "ended_at"])]

    def __str__(self) -> str:
        return f"claim of {self.case_id} by {self.holder_id}"


class Playbook(models.Model):
    """One uploaded playbook document (cases/playbooks.py); at most one is active, and none
    active means the built-in default (cases/default_playbooks.yaml)."""

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
                fields=["active"], condition=models.Q(active=True), name="one_active_playbook"
            )
        ]

    def __str__(self) -> str:
        return self.version


class PlaybookStepTick(models.Model):
    """A playbook step done on a case: by whom, when, under which playbook version, and the
    note saying what was done. Written by `cases.playbook_services.playbook_step_tick` alone."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="playbook_ticks")
    playbook_version = models.CharField(max_length=100)
    step_id = models.CharField(max_length=64)
    # The step's title as it read when ticked, so a tick stays readable after the playbook
    # changes.
    step_title = models.CharField(max_length=200)
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ticked_at = models.DateTimeField()
    note = models.TextField()

    class Meta:
        ordering = ["ticked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "step_id"], name="one_tick_per_case_step")
        ]

    def __str__(self) -> str:
        return f"{self.step_id} on {self.case_id} by {self.ticked_by_id}"
