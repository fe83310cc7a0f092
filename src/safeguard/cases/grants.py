"""Read grants: a lead opens one queue or one case to an auditor, for a while, with a reason.

Auditors see no case by default. A grant is read-only (an auditor holds no permission that
changes a case, nor `evidence:media:view`), expires on its own, can be revoked at any time, and
every read made under it is an audit event (`case.read_under_grant`, written by the selectors).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from safeguard.accounts.auth import PermissionDenied
from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission, Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.models import Case, Queue, ReadGrant
from safeguard.cases.queues import QueueNotFound, queue_may_work
from safeguard.cases.selectors import CaseNotFound, visible_cases
from safeguard.core.errors import Invalid, NotFound

# An audit that needs longer asks again: a grant nobody renews closes by itself.
MAX_GRANT = timedelta(days=30)
MAX_REASON = 2000


class GrantRefused(Invalid):
    """A grant that cannot be made or revoked; the message says why."""


class GrantNotFound(NotFound):
    def __init__(self, grant_id: object) -> None:
        super().__init__(f"no read grant {grant_id}")


def _require_manager(actor: User) -> None:
    if not actor.has_permission(Permission.CASES_GRANT_MANAGE):
        raise PermissionDenied(actor, (Permission.CASES_GRANT_MANAGE,))


@transaction.atomic
def read_grant_create(
    *,
    grantee: User,
    actor: User,
    reason: str,
    expires_at: datetime,
    source: AuditSource,
    queue: Queue | None = None,
    case: Case | None = None,
) -> ReadGrant:
    """Open `queue` (its cases as they are when read) or `case` to the auditor `grantee` until
    `expires_at`. The granting lead must be able to see what they open: nobody grants more than
    they have."""
    _require_manager(actor)
    if grantee.role != Role.AUDITOR or not grantee.is_active:
        raise GrantRefused(f"read grants are for active auditors; {grantee.username} is not one")
    if (queue is None) == (case is None):
        raise GrantRefused("a read grant opens exactly one of: a queue, a case")
    reason = reason.strip()
    if not reason:
        raise GrantRefused("a read grant needs a reason")
    if len(reason) > MAX_REASON:
        raise GrantRefused(f"a reason has at most {MAX_REASON} characters")
    if timezone.is_naive(expires_at):
        raise GrantRefused("expires_at needs a time zone")
    now = timezone.now()
    if expires_at <= now:
        raise GrantRefused("expires_at is in the past")
    if expires_at > now + MAX_GRANT:
        raise GrantRefused(f"a read grant lasts at most {MAX_GRANT.days} days")
    if case is not None and not visible_cases(actor).filter(pk=case.pk).exists():
        raise CaseNotFound(case.pk)
    if queue is not None and not queue_may_work(queue, actor):
        raise QueueNotFound(queue.name)
    grant = ReadGrant.objects.create(
        grantee=grantee,
        queue=queue,
        case=case,
        granted_by=actor,
        reason=reason,
        created_at=now,
        expires_at=expires_at,
    )
    audit_record(
        event_type=AuditEventType.READ_GRANT_CREATED,
        actor=actor,
        source=source,
        target_type="read_grant",
        target_id=grant.pk,
        data={
            "grantee": grantee.username,
            "queue": queue.name if queue else None,
            "case": str(case.pk) if case else None,
            "reason": reason,
            "expires_at": expires_at,
        },
    )
    return grant


@transaction.atomic
def read_grant_revoke(
    *, grant: ReadGrant, actor: User | None, source: AuditSource, reason: str = ""
) -> ReadGrant:
    """End a grant now. Any lead may revoke any grant (taking access away needs no more than
    that); `actor=None` is the operator at the command line."""
    if actor is not None:
        _require_manager(actor)
    locked = ReadGrant.objects.select_for_update().get(pk=grant.pk)
    if locked.revoked_at is not None:
        raise GrantRefused(f"read grant {locked.pk} was already revoked")
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor
    locked.revoke_reason = reason.strip()[:MAX_REASON]
    locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit_record(
        event_type=AuditEventType.READ_GRANT_REVOKED,
        actor=actor,
        source=source,
        target_type="read_grant",
        target_id=locked.pk,
        data={
            "grantee": locked.grantee.username,
            "reason": locked.revoke_reason,
            "was_expired": locked.expires_at <= locked.revoked_at,
        },
    )
    return locked


def _may_list(user: User) -> bool:
    # Leads manage grants; auditors see every grant, since grants are part of what they audit.
    return user.has_permission(Permission.CASES_GRANT_MANAGE) or user.has_permission(
        Permission.AUDIT_EVENT_READ
    )


def read_grants_for(*, user: User, active_only: bool = False) -> QuerySet[ReadGrant]:
    if not _may_list(user):
        return ReadGrant.objects.none()
    grants = ReadGrant.objects.select_related(
        "grantee", "granted_by", "revoked_by", "queue"
    ).order_by("-created_at", "id")
    if active_only:
        grants = grants.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
    return grants


def read_grant_get_for(*, user: User, grant_id: uuid.UUID) -> ReadGrant:
    grant = read_grants_for(user=user).filter(pk=grant_id).first()
    if grant is None:
        raise GrantNotFound(grant_id)
    return grant


def read_grant_active(grant: ReadGrant, *, now: datetime | None = None) -> bool:
    return grant.revoked_at is None and grant.expires_at > (now or timezone.now())
