"""Claims: a person holds a case for a lease. Every start and every end of a claim goes through
here, with one rule for when a claim ended: when it was given up or when its lease lapsed,
whichever came first. Each ended claim leaves a `ClaimRecord`, which reviewer care reads."""

from __future__ import annotations

from datetime import datetime, timedelta

from safeguard.accounts.models import User
from safeguard.cases.models import Case, ClaimRecord, Queue

CLAIM_FIELDS = ["holder", "lease_until", "claimed_at"]


def claim_start(*, case: Case, holder: User, now: datetime, lease: timedelta) -> list[str]:
    """`holder` claims `case` (locked by the caller) from `now`; an earlier holder's claim,
    whose lease lapsed, ends first. Returns the fields to save."""
    claim_end(case=case, now=now)
    case.holder = holder
    case.lease_until = now + lease
    case.claimed_at = now
    return CLAIM_FIELDS


def claim_end(*, case: Case, now: datetime) -> list[str]:
    """The claim on `case` (locked by the caller) ends: recorded, and the case held by nobody.
    Returns the fields to save; nothing is recorded when nobody held it."""
    if case.holder_id is not None and case.claimed_at is not None:
        ended = min(now, case.lease_until) if case.lease_until is not None else now
        ClaimRecord.objects.create(
            case=case,
            holder_id=case.holder_id,
            queue=case.queue,
            sensitive=Queue.objects.filter(name=case.queue, sensitive=True).exists(),
            started_at=case.claimed_at,
            ended_at=max(ended, case.claimed_at),
        )
    case.holder = None
    case.lease_until = None
    case.claimed_at = None
    return CLAIM_FIELDS
