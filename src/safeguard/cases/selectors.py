"""Reads for cases with their access check: a case a user may not see does not exist for them."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, Min, Prefetch, QuerySet
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.cases.models import Case, CaseEscalation, Queue
from safeguard.cases.workflow import CaseState
from safeguard.intake.models import EscalationContent, EscalationSubject
from safeguard.matching.models import ContentMatch


class CaseNotFound(Exception):
    def __init__(self, case_id: object) -> None:
        super().__init__(f"no case {case_id}")


def _visible_cases(user: User) -> QuerySet[Case]:
    if not user.has_permission(Permission.CASES_CASE_READ):
        return Case.objects.none()
    return Case.objects.all()


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
            queryset=EscalationContent.objects.select_related("content"),
        ),
        Prefetch(
            "links__escalation__content__content__matches",
            queryset=ContentMatch.objects.select_related("entry__bank"),
        ),
    )


def case_get_for(*, user: User, case_id: uuid.UUID) -> Case:
    case = _with_escalations(_visible_cases(user)).filter(pk=case_id).first()
    if case is None:
        raise CaseNotFound(case_id)
    return case


def case_list_for(*, user: User, state: str | None = None, limit: int = 50) -> list[Case]:
    cases = _visible_cases(user).order_by("-opened_at")
    if state:
        cases = cases.filter(state=state)
    return list(_with_escalations(cases)[:limit])


def queue_summaries_for(*, user: User | None) -> list[dict[str, Any]]:
    """Each queue the user may work (every queue for `user=None`), with its open-case figures.

    "At risk" counts cases past their warning time and not yet acted on.
    """
    now = timezone.now()
    queues = list(Queue.objects.prefetch_related("members").order_by("name"))
    if user is not None:
        queues = [
            q
            for q in queues
            if user.is_active and (user.role in q.roles or user in q.members.all())
        ]
    names = [q.name for q in queues]
    waiting = Case.objects.filter(
        queue__in=names, state__in=[CaseState.TRIAGED, CaseState.IN_REVIEW]
    )
    counts: dict[str, dict[str, int]] = {n: {} for n in names}
    for row in waiting.values("queue", "priority").annotate(n=Count("id")):
        counts[row["queue"]][row["priority"]] = row["n"]
    oldest = dict(waiting.values("queue").annotate(o=Min("opened_at")).values_list("queue", "o"))
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
    return [
        {
            "name": q.name,
            "description": q.description,
            "open_cases": sum(counts[q.name].values()),
            "by_priority": counts[q.name],
            "oldest_opened_at": oldest.get(q.name),
            "at_risk": at_risk.get(q.name, 0),
            "breached": breached.get(q.name, 0),
        }
        for q in queues
    ]
