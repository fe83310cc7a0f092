"""A lead's change to many cases at once: reassign them, or set their priority, with one reason.

All or nothing: every case is checked and changed in one transaction, and one case that does
not exist, may not be seen by the lead, or refuses the change (a closed case, say) refuses the
whole batch with an error naming it. Each case is changed, and audited, by the same service a
single change uses (`cases.queues.case_reassign`, `triage.services.case_priority_override`);
one `cases.bulk_changed` event then ties the batch together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Final

from django.db import transaction

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.cases.models import Case, Queue
from safeguard.cases.queues import SERVING_ORDER, case_reassign
from safeguard.cases.selectors import visibility_for
from safeguard.cases.workflow import CaseState, Priority
from safeguard.core.errors import DomainError, Forbidden, Invalid
from safeguard.triage.services import case_priority_override

MAX_BATCH: Final = 500


class BulkRefused(Invalid):
    """The batch cannot be changed as asked; nothing was changed. `field` names the input at
    fault ("cases", "reason", "to", "priority"), and `case_id` the case that refused the batch,
    where one case did, so that a form can show the error beside it."""

    def __init__(
        self, message: str, *, field: str = "cases", case_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.case_id = case_id


class BulkPermissionDenied(Forbidden):
    pass


def bulk_candidates_for(*, user: User, queue: str = "") -> list[Case]:
    """The open cases (waiting or in review) a lead may change in bulk: those they may see,
    most urgent first, at most one batch of them; only `queue`'s where one is named."""
    if not user.has_permission(Permission.CASES_CASE_ASSIGN):
        return []
    cases = visibility_for(user).cases.filter(state__in=[CaseState.TRIAGED, CaseState.IN_REVIEW])
    if queue:
        cases = cases.filter(queue=queue)
    return list(cases.select_related("holder").order_by(*SERVING_ORDER)[:MAX_BATCH])


def bulk_queue_names() -> list[str]:
    """Every queue a case may be moved to, by name."""
    return list(Queue.objects.order_by("name").values_list("name", flat=True))


def bulk_reassign_target(*, to_queue: str, to_user: str) -> tuple[Queue | None, User | None]:
    """The queue or the active person named (one of them, as given), or a refusal saying why."""
    if bool(to_queue) == bool(to_user):
        raise BulkRefused(
            "reassign to exactly one of: a person, a queue; nothing was changed", field="to"
        )
    if to_queue:
        queue = Queue.objects.filter(name=to_queue).first()
        if queue is None:
            raise BulkRefused(f"no queue {to_queue!r}; nothing was changed", field="to")
        return queue, None
    user = User.objects.filter(username=to_user, is_active=True).first()
    if user is None:
        raise BulkRefused(f"no active user {to_user!r}; nothing was changed", field="to")
    return None, user


def _check(*, case_ids: Sequence[uuid.UUID], actor: User, reason: str) -> list[uuid.UUID]:
    if not actor.has_permission(Permission.CASES_CASE_ASSIGN):
        raise BulkPermissionDenied(
            f"{actor.username} may not change cases in bulk (needs cases:case:assign)"
        )
    if not reason.strip():
        raise BulkRefused(
            "a change to many cases needs a reason; nothing was changed", field="reason"
        )
    ids = list(case_ids)
    if not ids:
        raise BulkRefused("choose at least one case; nothing was changed")
    if len(ids) > MAX_BATCH:
        raise BulkRefused(
            f"at most {MAX_BATCH} cases at once; {len(ids)} were chosen and nothing was changed"
        )
    seen: set[uuid.UUID] = set()
    for case_id in ids:
        if case_id in seen:
            raise BulkRefused(
                f"case {case_id} is listed twice; nothing was changed", case_id=case_id
            )
        seen.add(case_id)
    return ids


def _visible(actor: User, ids: list[uuid.UUID]) -> list[Case]:
    """The cases, in the order given; the first one the lead may not see (or that does not
    exist: the same answer) refuses the batch."""
    found = {c.pk: c for c in visibility_for(actor).cases.filter(pk__in=ids)}
    for case_id in ids:
        if case_id not in found:
            raise BulkRefused(
                f"no case {case_id} that you may see; nothing was changed", case_id=case_id
            )
    return [found[case_id] for case_id in ids]


def _each(cases: list[Case], change: Callable[[Case], Case]) -> list[Case]:
    changed = []
    for case in cases:
        try:
            changed.append(change(case))
        except DomainError as exc:
            raise BulkRefused(
                f"case {case.pk}: {exc}; nothing was changed", case_id=case.pk
            ) from exc
    return changed


def _audit_batch(
    *, actor: User, source: AuditSource, action: str, cases: list[Case], reason: str, **to: object
) -> None:
    audit_record(
        event_type=AuditEventType.CASES_BULK_CHANGED,
        actor=actor,
        source=source,
        target_type="case_batch",
        target_id=uuid.uuid4(),
        data={
            "action": action,
            "cases": [str(c.pk) for c in cases],
            "count": len(cases),
            "reason": reason,
            **to,
        },
    )


def cases_bulk_reassign(
    *,
    case_ids: Sequence[uuid.UUID],
    actor: User,
    reason: str,
    source: AuditSource,
    to_queue: Queue | None = None,
    to_user: User | None = None,
) -> list[Case]:
    """Move every case to one person (who then holds them) or one queue, with one reason."""
    ids = _check(case_ids=case_ids, actor=actor, reason=reason)
    if (to_user is None) == (to_queue is None):
        raise BulkRefused(
            "reassign to exactly one of: a person, a queue; nothing was changed", field="to"
        )
    if to_user is not None and not to_user.has_permission(Permission.CASES_CASE_REVIEW):
        raise BulkRefused(
            f"{to_user.username} may not review cases; nothing was changed", field="to"
        )
    with transaction.atomic():
        changed = _each(
            _visible(actor, ids),
            lambda case: case_reassign(
                case=case,
                actor=actor,
                reason=reason,
                source=source,
                to_user=to_user,
                to_queue=to_queue,
            ),
        )
        _audit_batch(
            actor=actor,
            source=source,
            action="reassign",
            cases=changed,
            reason=reason,
            to_queue=to_queue.name if to_queue else None,
            to_user=to_user.username if to_user else None,
        )
    return changed


def cases_bulk_reprioritise(
    *,
    case_ids: Sequence[uuid.UUID],
    actor: User,
    reason: str,
    priority: Priority,
    source: AuditSource,
) -> list[Case]:
    """Set every case's priority, with one reason; each case's clock restarts from now."""
    ids = _check(case_ids=case_ids, actor=actor, reason=reason)
    with transaction.atomic():
        changed = _each(
            _visible(actor, ids),
            lambda case: case_priority_override(
                case=case, priority=priority, actor=actor, reason=reason, source=source
            ),
        )
        _audit_batch(
            actor=actor,
            source=source,
            action="reprioritise",
            cases=changed,
            reason=reason,
            priority=priority.value,
        )
    return changed
