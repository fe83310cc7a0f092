"""Reads for escalations, with the access check: an escalation is seen with its case."""

from __future__ import annotations

import uuid

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditSource
from safeguard.cases.selectors import visibility_for
from safeguard.core.errors import NotFound
from safeguard.intake.models import Escalation


class EscalationNotFound(NotFound):
    def __init__(self, escalation_id: object) -> None:
        super().__init__(f"no escalation {escalation_id}")


def escalation_get_for(
    *, user: User, escalation_id: uuid.UUID, source: AuditSource = AuditSource.API
) -> Escalation:
    """An escalation of a case the user may see (`cases.selectors.visibility_for`); the same
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
