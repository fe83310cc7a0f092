"""Reads for escalations, with the access check."""

from __future__ import annotations

import uuid

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.intake.models import Escalation


class EscalationNotFound(Exception):
    def __init__(self, escalation_id: object) -> None:
        super().__init__(f"no escalation {escalation_id}")


def escalation_get_for(*, user: User, escalation_id: uuid.UUID) -> Escalation:
    if not user.has_permission(Permission.INTAKE_ESCALATION_READ):
        raise EscalationNotFound(escalation_id)
    escalation = (
        Escalation.objects.select_related("caller", "case_link")
        .prefetch_related(
            "subjects__subject",
            "content__content__matches__entry__bank",  # one escalation: a few queries
        )
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        raise EscalationNotFound(escalation_id)
    return escalation
