"""Account tasks: note an enrolment invite's expiry in the audit log when it runs out unused."""

from __future__ import annotations

from django_tasks import task

from safeguard.accounts import services


@task()
def enrolment_invite_expire(invite_id: int) -> str:
    # Harmless when the invite was used or replaced meanwhile: the service then does nothing.
    expired = services.enrolment_invite_expire(invite_id=invite_id)
    return "expired" if expired else "already used, replaced or not yet due"
