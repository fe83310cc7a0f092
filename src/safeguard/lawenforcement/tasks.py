"""Law-enforcement clocks as tasks: a warning before a request's deadline, a page to legal
on-call at it, and the acknowledgement clock of an outbound referral.

Each task carries the deadline it was scheduled for; when it has moved, or the request is
answered, the task does nothing, so old tasks are harmless.
"""

from __future__ import annotations

import uuid

from django_tasks import task


@task()
def le_request_deadline_warn(request_id: str, due: str) -> str:
    # Imported here: the services module schedules these tasks, so it imports this module.
    from safeguard.lawenforcement.services import le_request_deadline_fire

    return le_request_deadline_fire(request_id=uuid.UUID(request_id), due=due, warning=True)


@task()
def le_request_deadline_breach(request_id: str, due: str) -> str:
    from safeguard.lawenforcement.services import le_request_deadline_fire

    return le_request_deadline_fire(request_id=uuid.UUID(request_id), due=due, warning=False)


@task()
def le_referral_ack_due(referral_id: str, due: str) -> str:
    from safeguard.lawenforcement.referrals import referral_ack_overdue

    return referral_ack_overdue(referral_id=uuid.UUID(referral_id), due=due)
