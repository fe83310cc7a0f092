"""Queues and claims: serving cases by urgency as short leases, releasing, renewing, reassigning."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission, Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases import hooks
from safeguard.cases.claims import claim_end, claim_start
from safeguard.cases.models import Case, Queue
from safeguard.cases.selectors import may_work_queue, workable_queue_names
from safeguard.cases.services import case_transition
from safeguard.cases.workflow import CaseState, CaseTransition
from safeguard.core.errors import Conflict, Invalid, NotFound

MAX_LEASE = timedelta(hours=2)


class ClaimError(Invalid):
    """A claim operation that cannot be done; the message says why."""


class NotHolder(Conflict, ClaimError):
    pass


class Held(Conflict, ClaimError):
    """The case is not waiting to be claimed."""


class QueueNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"no queue {name!r}")


def lease_length(requested_seconds: int | None) -> timedelta:
    if requested_seconds is None:
        return timedelta(seconds=settings.SAFEGUARD_LEASE_SECONDS)
    lease = timedelta(seconds=requested_seconds)
    if lease <= timedelta(0) or lease > MAX_LEASE:
        raise ClaimError(f"a lease lasts between 1 second and {int(MAX_LEASE.total_seconds())} s")
    return lease


def queue_may_work(queue: Queue, user: User) -> bool:
    return may_work_queue(
        user, roles=queue.roles, is_member=queue.members.filter(pk=user.pk).exists()
    )


def queue_get_for(*, user: User, name: str) -> Queue:
    """A queue the user may work; one they may not is indistinguishable from none at all."""
    queue = Queue.objects.filter(name=name).first()
    if queue is None or not queue_may_work(queue, user):
        raise QueueNotFound(name)
    return queue


def claimable_in(queue_names: list[str]) -> Q:
    """Cases in any of `queue_names` that nobody holds: waiting, or held on a lapsed lease."""
    now = timezone.now()
    return Q(queue__in=queue_names) & (
        Q(state=CaseState.TRIAGED) | Q(state=CaseState.IN_REVIEW, lease_until__lt=now)
    )


# Served by priority, then by the first-action deadline (breached cases have the earliest),
# then by age: never plain first-in-first-out.
SERVING_ORDER = ("priority", "first_action_due", "opened_at", "id")


def _claim_first(
    *,
    queue_names: list[str],
    actor: User,
    lease: timedelta,
    source: AuditSource,
    only: uuid.UUID | None = None,
) -> Case | None:
    """Claim the first claimable case in `queue_names` in SERVING_ORDER (or the case `only`, if
    it is claimable there); the caller has checked that `actor` may work every one of them."""
    if not actor.has_permission(Permission.CASES_CASE_REVIEW):
        raise ClaimError(f"{actor.username} may not review cases")
    if not queue_names:
        return None
    with transaction.atomic():
        # skip_locked lets concurrent claimers on PostgreSQL pass over a row another is taking;
        # SQLite serialises writers at BEGIN IMMEDIATE instead.
        case = (
            Case.objects.select_for_update(skip_locked=True)
            .filter(claimable_in(queue_names), *([Q(pk=only)] if only is not None else []))
            .order_by(*SERVING_ORDER)
            .first()
        )
        if case is None:
            return None
        previous = case.holder.username if case.holder is not None else None
        if case.state == CaseState.TRIAGED:
            case = case_transition(
                case=case, transition=CaseTransition.START_REVIEW, actor=actor, source=source
            )
        now = timezone.now()
        fields = claim_start(case=case, holder=actor, now=now, lease=lease)
        case.updated_at = now
        # A claim is not the first action: the first-action clock runs on (cases/clock.py).
        case.save(update_fields=[*fields, "updated_at"])
        audit_record(
            event_type=AuditEventType.CASE_CLAIMED,
            actor=actor,
            source=source,
            target_type="case",
            target_id=case.pk,
            data={
                "queue": case.queue,
                "lease_until": case.lease_until,
                "expired_lease_of": previous,
            },
        )
        # Above cases, the rota answers the case's open P0 page: a claim is its answer.
        hooks.case_claimed.announce(case=case, actor=actor, source=source)
        return case


def queue_claim_next(
    *, queue: Queue, actor: User, lease: timedelta, source: AuditSource
) -> Case | None:
    """Claim the most urgent claimable case in the queue for `actor`, or None if there is none."""
    return _claim_first(queue_names=[queue.name], actor=actor, lease=lease, source=source)


def queue_claim_most_urgent(*, actor: User, lease: timedelta, source: AuditSource) -> Case | None:
    """Claim the most urgent claimable case across every queue `actor` may work (a P0 in any
    queue before a P1 in any other, then by deadline and age), or None if there is none."""
    return _claim_first(
        queue_names=workable_queue_names(actor), actor=actor, lease=lease, source=source
    )


def case_claim(*, case: Case, actor: User, lease: timedelta, source: AuditSource) -> Case:
    """Claim this very case (from a page or a link to it) when nobody holds it and `actor` works
    its queue; the same claim, lease and audit as taking it from the queue."""
    if case.queue not in workable_queue_names(actor):
        raise ClaimError(f"{actor.username} does not work the {case.queue or 'unqueued'} queue")
    claimed = _claim_first(
        queue_names=[case.queue], actor=actor, lease=lease, source=source, only=case.pk
    )
    if claimed is None:
        raise Held(f"case {case.pk} is not waiting: someone holds it, or it is decided")
    return claimed


def _locked_held(case: Case, actor: User) -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    now = timezone.now()
    if locked.holder_id != actor.pk or locked.lease_until is None or locked.lease_until < now:
        raise NotHolder(f"{actor.username} does not hold a live claim on case {case.pk}")
    return locked


@transaction.atomic
def case_claim_renew(*, case: Case, actor: User, lease: timedelta, source: AuditSource) -> Case:
    locked = _locked_held(case, actor)
    locked.lease_until = timezone.now() + lease
    locked.save(update_fields=["lease_until"])
    audit_record(
        event_type=AuditEventType.CASE_CLAIM_RENEWED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.pk,
        data={"lease_until": locked.lease_until},
    )
    return locked


@transaction.atomic
def case_claim_release(
    *, case: Case, actor: User | None, source: AuditSource, reason: str = ""
) -> Case:
    """Give the case back to its queue. `actor=None` is Safeguard (e.g. a person stepping away)."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if actor is not None and locked.holder_id != actor.pk:
        raise NotHolder(f"{actor.username} does not hold case {case.pk}")
    holder = locked.holder.username if locked.holder is not None else None
    locked.save(update_fields=claim_end(case=locked, now=timezone.now()))
    if locked.state == CaseState.IN_REVIEW:
        locked = case_transition(
            case=locked, transition=CaseTransition.RELEASE, actor=actor, source=source
        )
    audit_record(
        event_type=AuditEventType.CASE_CLAIM_RELEASED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.pk,
        data={"holder": holder, "reason": reason},
    )
    if holder is not None and locked.first_action_at is None:
        # Back in the queue with nobody having acted: the rota pages a P0's on-call again.
        hooks.case_released_before_action.announce(
            case=locked, actor=actor, how=reason or "released", source=source
        )
    return locked


@transaction.atomic
def case_reassign(
    *,
    case: Case,
    actor: User,
    reason: str,
    source: AuditSource,
    to_user: User | None = None,
    to_queue: Queue | None = None,
) -> Case:
    """A lead moves a case to a person (who then holds it) or to another queue."""
    if not actor.has_permission(Permission.CASES_CASE_ASSIGN):
        raise ClaimError(f"{actor.username} may not reassign cases (needs cases:case:assign)")
    if not reason.strip():
        raise ClaimError("reassigning a case needs a reason")
    if (to_user is None) == (to_queue is None):
        raise ClaimError("reassign to exactly one of: a person, a queue")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.state not in (CaseState.TRIAGED, CaseState.IN_REVIEW):
        raise ClaimError(
            f"only triaged or in-review cases are reassigned; this one is {locked.state}"
        )
    before = {
        "queue": locked.queue,
        "holder": locked.holder.username if locked.holder is not None else None,
    }
    now = timezone.now()
    if to_queue is not None:
        claim_end(case=locked, now=now)
        locked.queue = to_queue.name
        if locked.state == CaseState.IN_REVIEW:
            locked = case_transition(
                case=locked, transition=CaseTransition.RELEASE, actor=actor, source=source
            )
    else:
        assert to_user is not None  # noqa: S101 - checked above
        if not to_user.has_permission(Permission.CASES_CASE_REVIEW):
            raise ClaimError(f"{to_user.username} may not review cases")
        if locked.state == CaseState.TRIAGED:
            locked = case_transition(
                case=locked, transition=CaseTransition.START_REVIEW, actor=actor, source=source
            )
        # Nor is a reassignment: the first-action clock runs on (cases/clock.py).
        claim_start(case=locked, holder=to_user, now=now, lease=lease_length(None))
    locked.updated_at = now
    locked.save(update_fields=["queue", "holder", "lease_until", "claimed_at", "updated_at"])
    audit_record(
        event_type=AuditEventType.CASE_REASSIGNED,
        actor=actor,
        source=source,
        target_type="case",
        target_id=locked.pk,
        data={
            "from": before,
            "to": {"queue": locked.queue, "holder": to_user.username if to_user else None},
            "reason": reason,
        },
    )
    if to_queue is not None and locked.first_action_at is None:
        hooks.case_released_before_action.announce(
            case=locked, actor=actor, how=f"reassigned to queue {to_queue.name}", source=source
        )
    return locked


@transaction.atomic
def queue_save(
    *,
    name: str,
    actor: User | None,
    source: AuditSource,
    roles: list[Role],
    description: str = "",
    lead: User | None = None,
) -> Queue:
    queue, created = Queue.objects.update_or_create(
        name=name,
        defaults={"roles": [r.value for r in roles], "description": description, "lead": lead},
    )
    audit_record(
        event_type=AuditEventType.QUEUE_SAVED,
        actor=actor,
        source=source,
        target_type="queue",
        target_id=queue.name,
        data={
            "created": created,
            "roles": queue.roles,
            "lead": lead.username if lead else None,
        },
    )
    return queue
