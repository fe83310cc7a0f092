"""Reads for cases with their access check: a case a user may not see does not exist for them.

Who sees which case (docs/security.md, "Who reads which case") is decided here, once, by
`visible_cases`; every other read of a case, its escalations, media and trail goes through it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission, Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.models import Case, CaseEscalation, Decision, Queue, ReadGrant
from safeguard.cases.workflow import CaseState, Priority
from safeguard.core.errors import NotFound
from safeguard.intake.models import ContentClaim, Escalation, EscalationContent, EscalationSubject
from safeguard.matching.models import ContentMatch


class CaseNotFound(NotFound):
    def __init__(self, case_id: object) -> None:
        super().__init__(f"no case {case_id}")


@dataclass(frozen=True)
class Visibility:
    """The cases one user may see, and, for an auditor, the grants that open them.

    Built once per read (it costs one query) and reused for every case that read touches.
    """

    user: User
    cases: QuerySet[Case]
    grants_by_case: dict[uuid.UUID, ReadGrant] = field(default_factory=dict)
    grants_by_queue: dict[str, ReadGrant] = field(default_factory=dict)

    def grant_for(self, case: Case) -> ReadGrant | None:
        """The grant under which the user sees `case`, if that is how they see it."""
        return self.grants_by_case.get(case.pk) or self.grants_by_queue.get(case.queue)

    def record_reads(
        self, cases: Iterable[Case], *, read: str, source: AuditSource, **data: Any
    ) -> None:
        """An auditor's read of a case under a grant is an audit event, written (and committed)
        before the case is shown; other people's reads are not recorded here."""
        under = [(case, grant) for case in cases if (grant := self.grant_for(case)) is not None]
        if not under:
            return
        with transaction.atomic():
            for case, grant in under:
                audit_record(
                    event_type=AuditEventType.CASE_READ_UNDER_GRANT,
                    actor=self.user,
                    source=source,
                    target_type="case",
                    target_id=case.pk,
                    data={"grant": str(grant.pk), "read": read, **data},
                )


def may_work_queue(user: User, *, roles: list[str] | None, is_member: bool) -> bool:
    """The one rule for who works a queue (and so claims and reads its cases): an active user
    whose role is one of the queue's, or who is one of its named members."""
    return user.is_active and (user.role in (roles or []) or is_member)


def _workable_queues(user: User) -> tuple[list[str], list[str]]:
    """(every queue's name, the names of those `user` may work, by `may_work_queue`)."""
    member = Queue.members.through.objects.filter(queue_id=OuterRef("pk"), user_id=user.pk)
    known: list[str] = []
    workable: list[str] = []
    for name, roles, is_member in Queue.objects.annotate(is_member=Exists(member)).values_list(
        "name", "roles", "is_member"
    ):
        known.append(name)
        if may_work_queue(user, roles=roles, is_member=is_member):
            workable.append(name)
    return known, workable


def workable_queue_names(user: User) -> list[str]:
    """The names of the queues `user` may work (`may_work_queue`), in name order."""
    return sorted(_workable_queues(user)[1])


def visibility_for(user: User) -> Visibility:
    """Who may see a case (one rule, for the API and the console alike):

    - nobody without `cases:case:read`, nor anyone inactive;
    - an auditor: only the cases of their active read grants (a queue's cases, or one case) —
      never by queue roles or membership, so that every read they make is accountable;
    - anyone else: the cases of the queues they may work (their role is one of the queue's, or
      they are a named member — the same rule as claiming), the cases they hold, and the cases
      they decided or escalated themselves;
    - a lead (`cases:case:assign`) also sees cases not routed to any existing queue (no queue
      yet, or a queue name the policy routes to but nobody created), so that none is invisible
      to everyone and a lead can route it.
    """
    if not user.has_permission(Permission.CASES_CASE_READ):
        return Visibility(user, Case.objects.none())
    if user.role == Role.AUDITOR:
        grants = list(
            ReadGrant.objects.select_related("queue").filter(
                grantee=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
            )
        )
        by_case = {g.case_id: g for g in grants if g.case_id is not None}
        by_queue = {g.queue.name: g for g in grants if g.queue is not None}
        cases = Case.objects.filter(Q(pk__in=list(by_case)) | Q(queue__in=list(by_queue)))
        return Visibility(user, cases, by_case, by_queue)
    known, workable = _workable_queues(user)
    rule = (
        Q(queue__in=workable)
        | Q(holder=user)
        | Q(Exists(Decision.objects.filter(case=OuterRef("pk"), decided_by=user)))
    )
    if user.has_permission(Permission.CASES_CASE_ASSIGN):
        rule |= ~Q(queue__in=known)
    return Visibility(user, Case.objects.filter(rule))


def visible_cases(user: User) -> QuerySet[Case]:
    """The cases `user` may see (see `visibility_for`), for other apps' reads to filter by."""
    return visibility_for(user).cases


def _with_escalations(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related("holder").prefetch_related(
        "suspects",
        Prefetch(
            "links",
            queryset=CaseEscalation.objects.select_related(
                "escalation", "escalation__caller"
            ).order_by("escalation__received_at"),
        ),
        Prefetch(
            "links__escalation__subjects",
            queryset=EscalationSubject.objects.select_related("subject"),
        ),
        Prefetch(
            "links__escalation__content",
            queryset=EscalationContent.objects.select_related("content", "content__blob"),
        ),
        Prefetch(
            "links__escalation__content__content__matches",
            queryset=ContentMatch.objects.select_related("entry__bank"),
        ),
        # Other sources' differing descriptions of an item, shown beside it.
        Prefetch(
            "links__escalation__content__content__claims",
            queryset=ContentClaim.objects.select_related("caller").order_by("recorded_at"),
        ),
    )


def case_get_in(
    visibility: Visibility, *, case_id: uuid.UUID, source: AuditSource, read: str = "case"
) -> Case:
    """A case among those `visibility` opens, with everything a case page shows prefetched; the
    same `CaseNotFound` whether it does not exist or may not be seen."""
    case = _with_escalations(visibility.cases).filter(pk=case_id).first()
    if case is None:
        raise CaseNotFound(case_id)
    visibility.record_reads([case], read=read, source=source)
    return case


def case_get_for(*, user: User, case_id: uuid.UUID, source: AuditSource = AuditSource.API) -> Case:
    return case_get_in(visibility_for(user), case_id=case_id, source=source)


def case_list_for(
    *,
    user: User,
    state: str | None = None,
    limit: int = 50,
    source: AuditSource = AuditSource.API,
) -> list[Case]:
    visibility = visibility_for(user)
    cases = visibility.cases.order_by("-opened_at")
    if state:
        cases = cases.filter(state=state)
    found = list(_with_escalations(cases)[:limit])
    visibility.record_reads(found, read="case_list", source=source)
    return found


_NEVER = datetime.max.replace(tzinfo=UTC)


def queue_summaries_for(*, user: User | None) -> list[dict[str, Any]]:
    """Each queue the user may work (every queue for `user=None`), with its open-case figures,
    most urgent first: queues holding a P0 (`has_p0`), then those with a breached or at-risk
    case, then by their most urgent case (priority, deadline, age, as cases are served), then
    by name.

    "At risk" counts cases past their warning time, "breached" those past their deadline,
    neither yet acted on (a claim is not acting: `cases.clock`).
    """
    now = timezone.now()
    queues = list(Queue.objects.prefetch_related("members").order_by("name"))
    if user is not None:
        queues = [
            q
            for q in queues
            if may_work_queue(user, roles=q.roles, is_member=user in q.members.all())
        ]
    names = [q.name for q in queues]
    waiting = Case.objects.filter(
        queue__in=names, state__in=[CaseState.TRIAGED, CaseState.IN_REVIEW]
    )
    counts: dict[str, dict[str, int]] = {n: {} for n in names}
    # Per queue, the most urgent (priority, earliest deadline, earliest intake) waiting.
    most_urgent: dict[str, tuple[str, datetime, datetime]] = {}
    for row in waiting.values("queue", "priority").annotate(
        n=Count("id"), due=Min("first_action_due"), o=Min("opened_at")
    ):
        counts[row["queue"]][row["priority"]] = row["n"]
        key = (row["priority"] or "~", row["due"] or _NEVER, row["o"] or _NEVER)
        if row["queue"] not in most_urgent or key < most_urgent[row["queue"]]:
            most_urgent[row["queue"]] = key
    oldest: dict[str, datetime] = {}
    held: dict[str, int] = {}
    for queue_name, first, n_held in (
        waiting.values("queue")
        .annotate(
            o=Min("opened_at"),
            # Under a live claim right now: someone is reviewing it.
            h=Count("id", filter=Q(state=CaseState.IN_REVIEW, lease_until__gte=now)),
        )
        .values_list("queue", "o", "h")
    ):
        oldest[queue_name], held[queue_name] = first, n_held
    unacted = waiting.filter(first_action_at__isnull=True)
    at_risk = dict(
        unacted.filter(warn_at__lte=now)
        .values("queue")
        .annotate(n=Count("id"))
        .values_list("queue", "n")
    )
    breached = dict(
        unacted.filter(breached_at__isnull=False)
        .values("queue")
        .annotate(n=Count("id"))
        .values_list("queue", "n")
    )
    summaries = [
        {
            "name": q.name,
            "description": q.description,
            "open_cases": sum(counts[q.name].values()),
            "by_priority": counts[q.name],
            "has_p0": counts[q.name].get(Priority.P0.value, 0) > 0,
            "oldest_opened_at": oldest.get(q.name),
            "at_risk": at_risk.get(q.name, 0),
            "breached": breached.get(q.name, 0),
            "in_review": held.get(q.name, 0),
        }
        for q in queues
    ]
    last = ("~", _NEVER, _NEVER)

    def urgency(summary: dict[str, Any]) -> tuple[Any, ...]:
        name = summary["name"]
        troubled = summary["breached"] > 0 or summary["at_risk"] > 0
        return (not summary["has_p0"], not troubled, most_urgent.get(name, last), name)

    return sorted(summaries, key=urgency)


# --- Escalations: seen with their case ---------------------------------------------------------


class EscalationNotFound(NotFound):
    def __init__(self, escalation_id: object) -> None:
        super().__init__(f"no escalation {escalation_id}")


def escalation_get_for(
    *, user: User, escalation_id: uuid.UUID, source: AuditSource = AuditSource.API
) -> Escalation:
    """An escalation of a case the user may see (`visibility_for`); the same
    "not found" whether it does not exist or its case may not be seen."""
    if not user.has_permission(Permission.INTAKE_ESCALATION_READ):
        raise EscalationNotFound(escalation_id)
    visibility = visibility_for(user)
    escalation = (
        Escalation.objects.select_related("caller", "case_link__case")
        .prefetch_related(
            "subjects__subject",
            "content__content__matches__entry__bank",  # one escalation: a few queries
            "content__content__claims__caller",
            "content__content__blob",
        )
        .filter(pk=escalation_id, case_link__case__in=visibility.cases)
        .first()
    )
    if escalation is None:
        raise EscalationNotFound(escalation_id)
    visibility.record_reads(
        [escalation.case_link.case], read="escalation", source=source, escalation=str(escalation.pk)
    )
    return escalation
