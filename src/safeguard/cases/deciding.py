"""Deciding a case: labels, reason, actions on the platform and referrals; escalating to a lead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases import hooks
from safeguard.cases.claims import claim_end
from safeguard.cases.clock import FirstAction
from safeguard.cases.decisions import (
    PLATFORM_ACTIONS,
    ActionKind,
    ActionTarget,
    DecisionKind,
    DecisionLabel,
    IndustryClass,
    Referral,
)
from safeguard.cases.models import Case, Decision, Queue
from safeguard.cases.services import case_transition
from safeguard.cases.workflow import CaseState, CaseTransition
from safeguard.core.errors import Invalid
from safeguard.evidence.models import ContentItem
from safeguard.intake.enums import SubjectRole
from safeguard.intake.models import EscalationSubject

LEAD_QUEUE = "lead"


class DecisionError(Invalid):
    """A decision that cannot be recorded; the message says why."""


def _case_content(case: Case) -> dict[str, ContentItem]:
    items = ContentItem.objects.filter(mentions__escalation__case_link__case=case).distinct()
    return {str(item.pk): item for item in items}


def _check(
    case: Case,
    labels: Sequence[DecisionLabel],
    item_labels: dict[str, IndustryClass],
    actions: Sequence[ActionKind],
    reason: str,
) -> dict[str, ContentItem]:
    if not reason.strip():
        raise DecisionError("a decision needs a reason")
    if "\x00" in reason:
        raise DecisionError("the reason holds a NUL character, which cannot be stored; remove it")
    if not labels and not item_labels:
        raise DecisionError("a decision needs at least one label")
    if DecisionLabel.NOT_VIOLATING in labels and (len(labels) > 1 or item_labels or actions):
        raise DecisionError("'not_violating' stands alone: no other label, no action")
    unknown = [a for a in actions if a not in PLATFORM_ACTIONS]
    if unknown:
        raise DecisionError(f"not an action a decision can take: {', '.join(unknown)}")
    content = _case_content(case)
    strangers = sorted(set(item_labels) - set(content))
    if strangers:
        raise DecisionError(f"content not in this case: {', '.join(strangers)}")
    media = {k for k, item in content.items() if item.kind in ("image", "video")}
    not_media = sorted(set(item_labels) - media)
    if not_media:
        raise DecisionError(
            f"industry classes apply to images and videos only: {', '.join(not_media)}"
        )
    return content


@transaction.atomic
def case_decide(
    *,
    case: Case,
    actor: User,
    labels: Sequence[DecisionLabel],
    reason: str,
    source: AuditSource,
    item_labels: dict[str, IndustryClass] | None = None,
    actions: Sequence[ActionKind] = (),
    referrals: Sequence[Referral] = (),
) -> Decision:
    """Record a decision and request its actions. The decider holds the case's claim, or is a
    lead deciding a case escalated to them."""
    if not actor.has_permission(Permission.CASES_CASE_DECIDE):
        raise DecisionError(f"{actor.username} may not decide cases")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    escalated = locked.queue == LEAD_QUEUE
    holds = locked.holder_id == actor.pk and locked.state == CaseState.IN_REVIEW
    if not holds and not (escalated and actor.has_permission(Permission.CASES_CASE_ASSIGN)):
        raise DecisionError(f"{actor.username} does not hold a claim on this case")
    item_labels = dict(item_labels or {})
    content = _check(locked, labels, item_labels, actions, reason)
    if locked.state == CaseState.TRIAGED:
        # A lead takes an escalated case straight from the lead queue.
        locked = case_transition(
            case=locked, transition=CaseTransition.START_REVIEW, actor=actor, source=source
        )
    decision = Decision.objects.create(
        case=locked,
        kind=DecisionKind.DECISION,
        decided_by=actor,
        labels=[label.value for label in labels],
        item_labels={k: v.value for k, v in item_labels.items()},
        reason=reason,
        requested_actions=[a.value for a in actions],
        referrals=[r.value for r in referrals],
        decided_at=timezone.now(),
    )
    locked = case_transition(
        case=locked, transition=CaseTransition.DECIDE, actor=actor, source=source, reason=reason
    )
    audit_record(
        event_type=AuditEventType.CASE_DECIDED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.pk,
        data={
            "decision": decision.pk,
            "labels": decision.labels,
            "item_labels": decision.item_labels,
            "actions": decision.requested_actions,
            "referrals": decision.referrals,
        },
    )
    targets: list[ActionTarget] = []
    for kind in actions:
        found = _targets(locked, kind, content)
        if not found:
            raise DecisionError(f"{kind.value}: the case has no {_WANTS[kind]} to act on")
        targets += found
    acts = [FirstAction.DECISION]
    if targets:
        acts.append(FirstAction.PLATFORM_ACTION)
    if referrals:
        acts.append(FirstAction.REFERRAL)
    _first_action(locked, actor=actor, acts=acts, source=source, at=decision.decided_at)
    if targets:
        # Actions (a layer above) record and deliver them, in this transaction.
        hooks.decision_recorded.announce(
            case=locked, decision=decision, targets=targets, actor=actor, source=source
        )
    return decision


_WANTS = {
    ActionKind.REMOVE_CONTENT: "content",
    ActionKind.PRESERVE: "content or named account",
    ActionKind.RESTRICT_ACCOUNT: "suspect account",
    ActionKind.BAN_ACCOUNT: "suspect account",
}


def _subject_accounts(case: Case) -> list[str]:
    """The platform ids of the accounts the case names as suspects or victims (not reporters),
    each once, suspects first."""
    suspects = list(case.suspects.order_by("platform_id").values_list("platform_id", flat=True))
    victims = (
        EscalationSubject.objects.filter(escalation__case_link__case=case, role=SubjectRole.VICTIM)
        .order_by("subject__platform_id")
        .values_list("subject__platform_id", flat=True)
    )
    return list(dict.fromkeys([*suspects, *victims]))


def _targets(case: Case, kind: ActionKind, content: dict[str, ContentItem]) -> list[ActionTarget]:
    """What `kind` acts on in this case. Content belongs to the platform that owns its id;
    accounts (whose ids carry no platform yet) to the configured platform. Removal acts on the
    content; restriction and bans on the suspects; preservation on the content and on every
    suspect and victim named (a case with no content but named accounts can be preserved)."""
    on_content = [
        ActionTarget(kind, "content", item.platform_id, item.platform) for item in content.values()
    ]
    platform = settings.SAFEGUARD_PLATFORM
    if kind is ActionKind.REMOVE_CONTENT:
        return on_content
    if kind is ActionKind.PRESERVE:
        accounts = _subject_accounts(case)
        return on_content + [ActionTarget(kind, "account", pid, platform) for pid in accounts]
    suspects = case.suspects.order_by("platform_id").values_list("platform_id", flat=True)
    return [ActionTarget(kind, "account", pid, platform) for pid in suspects]


def _first_action(
    case: Case, *, actor: User, acts: Sequence[FirstAction], source: AuditSource, at: datetime
) -> None:
    """`actor` acted on `case` (locked): the first such act stops its first-action clock, and
    every act answers its open pages (the rota subscribes to the hook)."""
    if case.first_action_at is None:
        case.first_action_at = at
        case.save(update_fields=["first_action_at"])
    hooks.case_first_action.announce(case=case, actor=actor, acts=list(acts), source=source)


@transaction.atomic
def case_act_outside(*, case: Case, actor: User, act: FirstAction, source: AuditSource) -> None:
    """An act recorded elsewhere (a referral to the police) is an action on the case: it stops
    the first-action clock and answers the case's pages, as a decision does."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    _first_action(locked, actor=actor, acts=[act], source=source, at=timezone.now())


@transaction.atomic
def case_escalate_to_lead(
    *,
    case: Case,
    actor: User,
    note: str,
    source: AuditSource,
    proposed_labels: Sequence[DecisionLabel] = (),
) -> Decision:
    """The holder hands the case to the lead queue with a note, kept beside the lead's decision."""
    if not note.strip():
        raise DecisionError("escalating to a lead needs a note")
    if "\x00" in note:
        raise DecisionError("the note holds a NUL character, which cannot be stored; remove it")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.holder_id != actor.pk or locked.state != CaseState.IN_REVIEW:
        raise DecisionError(f"{actor.username} does not hold a claim on this case")
    if not Queue.objects.filter(name=LEAD_QUEUE).exists():
        raise DecisionError("there is no lead queue")
    escalation = Decision.objects.create(
        case=locked,
        kind=DecisionKind.ESCALATION,
        decided_by=actor,
        labels=[label.value for label in proposed_labels],
        reason=note,
        decided_at=timezone.now(),
    )
    previous_queue = locked.queue
    fields = claim_end(case=locked, now=timezone.now())
    locked.queue = LEAD_QUEUE
    locked.save(update_fields=["queue", *fields])
    locked = case_transition(
        case=locked, transition=CaseTransition.RELEASE, actor=actor, source=source
    )
    audit_record(
        event_type=AuditEventType.CASE_ESCALATED_TO_LEAD,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.pk,
        data={"from_queue": previous_queue, "note": note, "proposed_labels": escalation.labels},
    )
    # An escalation to a lead with a note is a first action (cases/clock.py).
    _first_action(
        locked,
        actor=actor,
        acts=[FirstAction.ESCALATION_TO_LEAD],
        source=source,
        at=escalation.decided_at,
    )
    return escalation
