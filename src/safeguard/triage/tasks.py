"""Deadline tasks: a warning before the first-action deadline and a breach action at it, and
the re-triage of a case whose predicted harm time has come within a day.

Each task carries the deadline it was scheduled for; when the case's deadline has since moved,
or a person has already acted, the task does nothing, so old tasks are harmless.
"""

from __future__ import annotations

import uuid

from django_tasks import task

from safeguard.triage.deadlines import DeadlineKind, case_deadline_fire


@task()
def case_deadline_warn(case_id: str, due: str) -> str:
    return case_deadline_fire(case_id=uuid.UUID(case_id), due=due, kind=DeadlineKind.WARNING)


@task()
def case_deadline_breach(case_id: str, due: str) -> str:
    return case_deadline_fire(case_id=uuid.UUID(case_id), due=due, kind=DeadlineKind.BREACH)


@task()
def case_retriage(case_id: str, escalation_id: str, harm_at: str) -> str:
    # Imported here: the services module schedules this task, so it imports this module.
    from safeguard.triage.services import case_retriage_fire

    return case_retriage_fire(
        case_id=uuid.UUID(case_id), escalation_id=uuid.UUID(escalation_id), harm_at=harm_at
    )
