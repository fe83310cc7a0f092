"""What happens when a case's first-action clock runs down: warn, then breach."""

from __future__ import annotations

import uuid
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.clock import clock_for
from safeguard.cases.models import Case
from safeguard.cases.workflow import CaseState
from safeguard.triage import hooks


class DeadlineKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


# A decided case has had its first action (a decision is one); the states are checked too so
# that a case closed some other way is never breached. A claim never stops the clock: a case
# claimed and given back breaches like any other (cases/clock.py).
_DONE = (CaseState.DECIDED, CaseState.ACTIONED, CaseState.CLOSED)


@transaction.atomic
def case_deadline_fire(*, case_id: uuid.UUID, due: str, kind: DeadlineKind) -> str:
    # Lock only the case row: PostgreSQL cannot lock the nullable side of the holder join.
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("holder")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        return "no such case"
    if case.first_action_due is None or case.first_action_due.isoformat() != due:
        return "deadline moved; a newer task covers it"
    now = timezone.now()
    if clock_for(case, now=now).stopped or case.state in _DONE:
        return "already acted on"
    if kind is DeadlineKind.WARNING:
        if case.warned_at is not None:
            return "already warned"
        case.warned_at = now
        case.save(update_fields=["warned_at"])
        message = f"{case.priority} case {case.pk} is due at {due} and nobody has acted yet"
        event = AuditEventType.CASE_DEADLINE_WARNED
    else:
        if case.breached_at is not None:
            return "already breached"
        # A breached case is marked, tagged and so served first within its priority.
        case.breached_at = now
        case.tags = sorted({*case.tags, "breached"})
        case.save(update_fields=["breached_at", "tags"])
        message = f"BREACHED: {case.priority} case {case.pk} was due at {due}"
        event = AuditEventType.CASE_DEADLINE_BREACHED
    audit_record(
        event_type=event,
        actor=None,
        source=AuditSource.TASK,
        target_type="case",
        target_id=case.pk,
        data={"due": due},
    )
    # Who is told (the holder, the queue's lead, the on-call lead) is the rota's to decide; the
    # pages it sends are audited there.
    hooks.deadline_passed.announce(case=case, kind=kind.value, message=message)
    return f"{kind.value}: announced"
