"""Triage writes: triage a case as escalations arrive, override a priority, change the policy."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from importlib import resources

from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.decisions import DecisionKind
from safeguard.cases.models import Case, Decision
from safeguard.cases.services import case_transition
from safeguard.cases.workflow import CaseState, CaseTransition, Priority
from safeguard.core.errors import Conflict, Invalid
from safeguard.core.tasks import enqueue
from safeguard.core.versioned import version_activate
from safeguard.intake.hooks import HashMatchSummary
from safeguard.intake.models import Escalation
from safeguard.triage import hooks, tasks
from safeguard.triage.context import build_context
from safeguard.triage.models import TriageKind, TriagePolicy, TriageRecord
from safeguard.triage.policy import Policy, PolicyError, TriageResult, compile_policy

DEFAULT_POLICY_FILE = "default_policy.yaml"


class PolicyConflict(Conflict):
    pass


class OverrideError(Invalid):
    pass


def default_policy_source() -> str:
    return resources.files("safeguard.triage").joinpath(DEFAULT_POLICY_FILE).read_text("utf-8")


@cache
def _compiled(source: str) -> Policy:
    return compile_policy(source)


def policy_active() -> Policy:
    """The active uploaded policy, or the built-in default when none was uploaded."""
    active = TriagePolicy.objects.filter(active=True).values_list("source", flat=True).first()
    return _compiled(active if active is not None else default_policy_source())


@transaction.atomic
def policy_activate(*, source_text: str, actor: User, source: AuditSource) -> TriagePolicy:
    """Compile a policy and make it active. A policy that does not compile changes nothing."""
    policy = compile_policy(source_text)  # raises PolicyError naming the rule
    existing: TriagePolicy = version_activate(
        TriagePolicy,
        version=policy.version,
        source_text=source_text,
        uploaded_by=actor,
        conflict=PolicyConflict,
        what="rules",
    )
    audit_record(
        event_type=AuditEventType.POLICY_ACTIVATED,
        actor=actor,
        source=source,
        target_type="triage_policy",
        target_id=policy.version,
        data={"rules": [r.name for r in policy.rules]},
    )
    return existing


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


def _prior_decisions(case: Case) -> list[str]:
    """Labels of decisions on other cases about this case's suspects."""
    labels = (
        Decision.objects.filter(kind=DecisionKind.DECISION, case__suspects__in=case.suspects.all())
        .exclude(case=case)
        .values_list("labels", flat=True)
    )
    return sorted({label for group in labels for label in group})


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
    earlier = TriageRecord.objects.filter(case=case, kind=TriageKind.AUTOMATIC)
    context = build_context(
        escalation.payload,
        case_escalations=case.links.count(),
        case_categories=list(
            Escalation.objects.filter(case_link__case=case)
            .exclude(pk=escalation.pk)
            .values_list("category", flat=True)
        ),
        case_signals=[s for record in earlier for s in record.signals_triggered],
        hash_match=hash_match,
        prior_decisions=_prior_decisions(case),
    )
    result: TriageResult = policy.evaluate(context, now=now)
    first_due = result.deadlines["first_action"]
    raises = not case.priority or result.priority < case.priority
    if raises:
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
        applied=raises,
        computed_at=now,
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
            "applied": raises,
            "case_priority": case.priority,
            "rules_matched": list(result.rules_matched),
            "policy_version": result.policy_version,
        },
    )
    return record


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


__all__ = ["PolicyError", "case_priority_override", "case_triage", "policy_activate"]
