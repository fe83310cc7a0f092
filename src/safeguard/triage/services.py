"""Triage writes: triage a case as escalations arrive, override a priority, change the policy."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from importlib import resources

from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.models import Case
from safeguard.cases.services import case_transition
from safeguard.cases.workflow import CaseState, CaseTransition, Priority
from safeguard.core.errors import Invalid
from safeguard.core.tasks import enqueue
from safeguard.intake.hooks import HashMatchSummary
from safeguard.intake.models import Escalation
from safeguard.triage import hooks, tasks
from safeguard.triage.history import context_for
from safeguard.triage.lifecycle import policy_compiled, policy_upload
from safeguard.triage.models import PolicyStatus, TriageKind, TriagePolicy, TriageRecord
from safeguard.triage.policy import Policy, PolicyError, TriageResult
from safeguard.triage.shadow import shadow_evaluate

DEFAULT_POLICY_FILE = "default_policy.yaml"


class OverrideError(Invalid):
    pass


def default_policy_source() -> str:
    return resources.files("safeguard.triage").joinpath(DEFAULT_POLICY_FILE).read_text("utf-8")


def policy_active() -> Policy:
    """The live uploaded policy, or the built-in default when none was uploaded."""
    active = TriagePolicy.objects.filter(active=True).values_list("source", flat=True).first()
    return policy_compiled(active if active is not None else default_policy_source())


def policy_activate(*, source_text: str, actor: User, source: AuditSource) -> TriagePolicy:
    """Compile a policy and make it live (the lifecycle's upload as live, kept under the name
    uploads always had). A policy that does not compile changes nothing."""
    return policy_upload(
        source_text=source_text, status=PolicyStatus.LIVE, actor=actor, source=source
    )


def _schedule_deadlines(case: Case) -> None:
    assert case.first_action_due is not None  # noqa: S101 - set by the caller
    due = case.first_action_due.isoformat()
    if case.warn_at is not None:
        enqueue(tasks.case_deadline_warn, run_after=case.warn_at, case_id=str(case.pk), due=due)
    enqueue(
        tasks.case_deadline_breach, run_after=case.first_action_due, case_id=str(case.pk), due=due
    )


def _apply(
    case: Case,
    *,
    priority: str,
    queue: str,
    explanation: str,
    tags: list[str],
    first_action_due: datetime,
    warn_at: datetime | None,
) -> None:
    """Set the case's triage fields and schedule its deadline tasks; page if it became P0."""
    was_p0 = case.priority == Priority.P0
    case.priority = priority
    case.queue = queue
    case.explanation = explanation
    case.tags = sorted(set(case.tags) | set(tags))
    case.first_action_due = first_action_due
    case.warn_at = warn_at
    case.warned_at = None
    case.updated_at = timezone.now()
    case.save(
        update_fields=[
            "priority",
            "queue",
            "explanation",
            "tags",
            "first_action_due",
            "warn_at",
            "warned_at",
            "updated_at",
        ]
    )
    if case.state not in (CaseState.DECIDED, CaseState.ACTIONED, CaseState.CLOSED):
        _schedule_deadlines(case)
    if priority == Priority.P0 and not was_p0:
        hooks.case_became_p0.announce(case=case, reason=explanation)


def escalation_rank(
    *,
    case: Case,
    escalation: Escalation,
    source: AuditSource,
    hash_match: HashMatchSummary | None = None,
) -> None:
    """Subscribed to `cases.hooks.escalation_grouped`: triage the case the escalation joined."""
    case_triage(case=case, escalation=escalation, source=source, hash_match=hash_match)


def case_triage(
    *,
    case: Case,
    escalation: Escalation,
    source: AuditSource,
    now: datetime | None = None,
    hash_match: HashMatchSummary | None = None,
) -> TriageRecord:
    """Triage a case for an escalation that just joined it. Runs inside the intake transaction.

    Automatic triage only ever raises a case's priority and never postpones its deadline;
    lowering either is a person's override.
    """
    now = now or timezone.now()
    policy = policy_active()
    context = context_for(
        case, escalation, now=now, hash_match=hash_match, ignored_models=policy.ignored_models
    )
    result: TriageResult = policy.evaluate(context, now=now)
    first_due = result.deadlines["first_action"]
    raises = not case.priority or result.priority < case.priority
    # A harm time can bring the deadline forward without a change of priority.
    sooner = (
        "harm" in result.deadlines
        and case.first_action_due is not None
        and first_due < case.first_action_due
        and result.priority <= case.priority
    )
    if raises or sooner:
        if case.first_action_due is not None and case.first_action_due < first_due:
            first_due = case.first_action_due
        _apply(
            case,
            priority=result.priority,
            queue=result.queue,
            explanation=result.explanation,
            tags=list(result.tags),
            first_action_due=first_due,
            warn_at=min(result.deadlines["warn"], first_due),
        )
    elif result.tags:
        case.tags = sorted(set(case.tags) | set(result.tags))
        case.save(update_fields=["tags"])
    record = TriageRecord.objects.create(
        case=case,
        escalation=escalation,
        kind=TriageKind.AUTOMATIC,
        priority=result.priority,
        queue=result.queue,
        explanation=result.explanation,
        rules_matched=list(result.rules_matched),
        rule_errors=[list(e) for e in result.rule_errors],
        signals_triggered=sorted(n for n, s in context.signals.items() if s.triggered),
        tags=list(result.tags),
        deadlines={k: v.isoformat() for k, v in result.deadlines.items()},
        policy_version=result.policy_version,
        applied=raises or sooner,
        computed_at=now,
    )
    shadow_evaluate(case=case, escalation=escalation, context=context, now=now)
    retriage_at = result.deadlines.get("retriage")
    harm_at = result.deadlines.get("harm")
    if retriage_at is not None and harm_at is not None:
        enqueue(
            tasks.case_retriage,
            run_after=retriage_at,
            case_id=str(case.pk),
            escalation_id=str(escalation.pk),
            harm_at=harm_at.isoformat(),
        )
    if case.state == CaseState.NEW:
        case_transition(case=case, transition=CaseTransition.TRIAGE, actor=None, source=source)
        case.refresh_from_db()
    audit_record(
        event_type=AuditEventType.CASE_TRIAGED,
        actor=None,
        source=source,
        target_type="case",
        target_id=case.pk,
        data={
            "escalation": str(escalation.pk),
            "priority": result.priority,
            "queue": result.queue,
            "applied": raises or sooner,
            "case_priority": case.priority,
            "rules_matched": list(result.rules_matched),
            "policy_version": result.policy_version,
        },
    )
    return record


@transaction.atomic
def case_retriage_fire(*, case_id: uuid.UUID, escalation_id: uuid.UUID, harm_at: str) -> str:
    """Triage a case again for an escalation whose predicted harm time is now within a day.

    The context is built afresh at this moment, so the harm time counts from now; as always,
    automatic triage only raises. A case already decided or closed is left alone.
    """
    case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
    escalation = Escalation.objects.filter(pk=escalation_id).first()
    if case is None or escalation is None:
        return "no such case or escalation"
    if case.state in (CaseState.DECIDED, CaseState.ACTIONED, CaseState.CLOSED):
        return f"case is {case.state}; not triaged again"
    record = case_triage(case=case, escalation=escalation, source=AuditSource.TASK)
    return f"triaged again for harm at {harm_at}: {record.priority}"


@transaction.atomic
def case_priority_override(
    *, case: Case, priority: Priority, actor: User, reason: str, source: AuditSource
) -> Case:
    """A person sets a case's priority, up or down, with a reason; the clock restarts from now."""
    if not actor.has_permission(Permission.CASES_CASE_PRIORITIZE):
        raise OverrideError(
            f"{actor.username} may not change priorities (needs cases:case:prioritize)"
        )
    if not reason.strip():
        raise OverrideError("changing a priority needs a reason")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.state == CaseState.CLOSED:
        raise OverrideError("the case is closed; reopen it first")
    previous = locked.priority
    policy = policy_active()
    now = timezone.now()
    window: timedelta = policy.sla[priority]
    explanation = f"{priority.value} set by {actor.username}: {reason.strip()}"
    _apply(
        locked,
        priority=priority.value,
        queue=locked.queue or policy.default_queue,
        explanation=explanation,
        tags=[],
        first_action_due=now + window,
        warn_at=now + window * policy.warn_at,
    )
    TriageRecord.objects.create(
        case=locked,
        kind=TriageKind.OVERRIDE,
        priority=priority.value,
        queue=locked.queue,
        explanation=explanation,
        deadlines={"first_action": locked.first_action_due.isoformat()},  # type: ignore[union-attr]
        policy_version=policy.version,
        applied=True,
        actor=actor,
        reason=reason,
        computed_at=now,
    )
    audit_record(
        event_type=AuditEventType.CASE_PRIORITY_OVERRIDDEN,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.pk,
        data={"from": previous, "to": priority.value, "reason": reason},
    )
    return locked


__all__ = [
    "PolicyError",
    "case_priority_override",
    "case_retriage_fire",
    "case_triage",
    "policy_activate",
]
