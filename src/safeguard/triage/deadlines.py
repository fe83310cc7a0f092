"""What happens when a case's first-action clock runs down: warn, then breach."""

from __future__ import annotations

import uuid
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.models import Case, Queue
from safeguard.cases.workflow import CaseState
from safeguard.rota.models import PageKind
from safeguard.rota.oncall import oncall_lead
from safeguard.rota.services import page_notice


class DeadlineKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


_DONE = (CaseState.DECIDED, CaseState.ACTIONED, CaseState.CLOSED)


def _leads(case: Case) -> list[User]:
    queue = Queue.objects.filter(name=case.queue).select_related("lead").first()
    people = [queue.lead] if queue is not None and queue.lead is not None else []
    fallback = oncall_lead()
    if fallback is not None:
        people.append(fallback)
    return people


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
    if case.first_action_at is not None or case.state in _DONE:
        return "already acted on"
    now = timezone.now()
    if kind is DeadlineKind.WARNING:
        if case.warned_at is not None:
            return "already warned"
        case.warned_at = now
        case.save(update_fields=["warned_at"])
        recipients = [case.holder] if case.holder is not None else _leads(case)
        message = f"{case.priority} case {case.pk} is due at {due} and nobody has acted yet"
        event, page_kind = AuditEventType.CASE_DEADLINE_WARNED, PageKind.DEADLINE_WARNING
    else:
        if case.breached_at is not None:
            return "already breached"
        # A breached case is marked, tagged and so served first within its priority.
        case.breached_at = now
        case.tags = sorted({*case.tags, "breached"})
        case.save(update_fields=["breached_at", "tags"])
        recipients = _leads(case)
        message = f"BREACHED: {case.priority} case {case.pk} was due at {due}"
        event, page_kind = AuditEventType.CASE_DEADLINE_BREACHED, PageKind.DEADLINE_BREACH
    audit_record(
        event_type=event,
        actor=None,
        source=AuditSource.TASK,
        target_type="case",
        target_id=case.pk,
        data={"due": due, "notified": [u.username for u in recipients]},
    )
    page_notice(case=case, kind=page_kind, recipients=recipients, message=message)
    return f"{kind.value}: notified {len(recipients)}"
