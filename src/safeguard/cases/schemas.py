"""Response shapes for cases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from django.utils import timezone
from pydantic import BaseModel

from safeguard.cases.clock import ClockState, clock_for
from safeguard.cases.models import Case
from safeguard.cases.workflow import CaseState
from safeguard.intake.presenters import content_out
from safeguard.intake.schemas import ContentOut, SubjectOut


class CaseEscalationOut(BaseModel):
    id: uuid.UUID
    channel: str
    external_id: str
    caller: str
    category: str
    summary: str
    occurred_at: datetime | None
    received_at: datetime
    joined_at: datetime
    subjects: list[SubjectOut]
    content: list[ContentOut]


class DecisionOut(BaseModel):
    kind: str
    decided_by: str
    labels: list[str]
    item_labels: dict[str, str]
    reason: str
    requested_actions: list[str]
    referrals: list[str]
    decided_at: datetime


class ActionOut(BaseModel):
    id: uuid.UUID
    kind: str
    target_type: str
    target_id: str
    status: str
    attempts: int
    last_error: str
    reverses: uuid.UUID | None
    created_at: datetime
    confirmed_at: datetime | None


class ClockOut(BaseModel):
    """The first-action clock as `cases.clock.clock_for` reads it when the case is served."""

    state: ClockState
    sentence: str
    minutes_to_first_action: int | None


class CaseOut(BaseModel):
    id: uuid.UUID
    state: CaseState
    priority: str | None
    queue: str | None
    explanation: str | None
    tags: list[str]
    first_action_due: datetime | None
    # When the first action (a decision, a platform action, an escalation to a lead with a
    # note, a referral; not a claim) happened: the first-action clock stops there.
    first_action_at: datetime | None
    first_action_clock: ClockOut
    breached_at: datetime | None
    holder: str | None
    lease_until: datetime | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    suspects: list[str]
    escalations: list[CaseEscalationOut]
    decisions: list[DecisionOut] = []
    actions: list[ActionOut] = []
    # Referrals recorded on decisions, listed until reporting and law-enforcement response
    # pick them up.
    referrals: list[str] = []


class ActionRow(Protocol):
    """What the API shows of an action (actions.Action, a layer above, reached through
    `case.actions`; cases does not import it)."""

    pk: uuid.UUID
    kind: str
    target_type: str
    target_id: str
    status: str
    attempts: int
    last_error: str
    reverses_id: uuid.UUID | None
    created_at: datetime
    confirmed_at: datetime | None


def action_out(action: ActionRow) -> ActionOut:
    return ActionOut(
        id=action.pk,
        kind=action.kind,
        target_type=action.target_type,
        target_id=action.target_id,
        status=action.status,
        attempts=action.attempts,
        last_error=action.last_error,
        reverses=action.reverses_id,
        created_at=action.created_at,
        confirmed_at=action.confirmed_at,
    )


def case_out(case: Case, *, detail: bool = False) -> CaseOut:
    """Build from a case loaded by `case_get_for`/`case_list_for` (everything prefetched);
    `detail` adds decisions and actions (one case page, not lists)."""
    extra: dict[str, object] = {}
    if detail:
        decisions = [
            DecisionOut(
                kind=d.kind,
                decided_by=d.decided_by.username,
                labels=d.labels,
                item_labels=d.item_labels,
                reason=d.reason,
                requested_actions=d.requested_actions,
                referrals=d.referrals,
                decided_at=d.decided_at,
            )
            for d in case.decisions.select_related("decided_by")
        ]
        extra = {
            "decisions": decisions,
            "actions": [action_out(a) for a in case.actions.all()],
            "referrals": sorted({r for d in decisions for r in d.referrals}),
        }
    clock = clock_for(case, now=timezone.now())
    return CaseOut(
        **extra,  # type: ignore[arg-type]
        id=case.pk,
        state=CaseState(case.state),
        priority=case.priority or None,
        queue=case.queue or None,
        explanation=case.explanation or None,
        tags=list(case.tags),
        first_action_due=case.first_action_due,
        first_action_at=case.first_action_at,
        first_action_clock=ClockOut(
            state=clock.state,
            sentence=clock.sentence,
            minutes_to_first_action=clock.minutes_to_first_action,
        ),
        breached_at=case.breached_at,
        holder=case.holder.username if case.holder is not None else None,
        lease_until=case.lease_until,
        opened_at=case.opened_at,
        updated_at=case.updated_at,
        closed_at=case.closed_at,
        suspects=sorted(s.platform_id for s in case.suspects.all()),
        escalations=[
            CaseEscalationOut(
                id=link.escalation.pk,
                channel=link.escalation.channel,
                external_id=link.escalation.external_id,
                caller=link.escalation.caller.username,
                category=link.escalation.category,
                summary=link.escalation.summary,
                occurred_at=link.escalation.occurred_at,
                received_at=link.escalation.received_at,
                joined_at=link.joined_at,
                subjects=[
                    SubjectOut(
                        platform_id=s.subject.platform_id,
                        role=s.role,
                        age=s.age,
                        country=s.country or None,
                    )
                    for s in link.escalation.subjects.all()
                ],
                content=[content_out(c.content) for c in link.escalation.content.all()],
            )
            for link in case.links.all()
        ],
    )
