"""Reads for cases with their access check: a case a user may not see does not exist for them."""

from __future__ import annotations

import uuid

from django.db.models import Prefetch, QuerySet

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.cases.models import Case, CaseEscalation
from safeguard.intake.models import EscalationContent, EscalationSubject


class CaseNotFound(Exception):
    def __init__(self, case_id: object) -> None:
        super().__init__(f"no case {case_id}")


def _visible_cases(user: User) -> QuerySet[Case]:
    if not user.has_permission(Permission.CASES_CASE_READ):
        return Case.objects.none()
    return Case.objects.all()


def _with_escalations(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.prefetch_related(
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
