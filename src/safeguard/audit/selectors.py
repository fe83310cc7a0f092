"""Reading the audit log: listing events and verifying the chain."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.chain import GENESIS_HASH, ChainedEvent, Verification, verify
from safeguard.audit.models import AuditEvent, AuditHead
from safeguard.core.errors import Forbidden


class AuditAccessDenied(Forbidden):
    """The user may not read the audit log."""


def audit_events_for(
    *, user: User, target_type: str | None = None, target_id: str | None = None
) -> QuerySet[AuditEvent]:
    """The whole log, for those who audit it. Deliberately not filtered by case visibility: the
    log is the auditor's record of who did what, to which case, when (ids, event types, queues,
    priorities, labels, the reasons and escalation notes people typed, platform ids of action
    targets), and it is how reads under grants are themselves checked. It holds no escalation
    summary, content text or media; reading those needs a read grant (cases.grants)."""
    if not user.has_permission(Permission.AUDIT_EVENT_READ):
        raise AuditAccessDenied
    events = AuditEvent.objects.order_by("seq")
    if target_type:
        events = events.filter(target_type=target_type)
    if target_id:
        events = events.filter(target_id=target_id)
    return events


def _chained(batch_size: int) -> Iterator[ChainedEvent]:
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        yield ChainedEvent(
            seq=event.seq, prev_hash=event.prev_hash, hash=event.hash, record=event.chained_record()
        )


def _locate(hash_: str) -> int | None:
    return AuditEvent.objects.filter(hash=hash_).values_list("seq", flat=True).first()


def audit_chain_verify(*, batch_size: int = 2000) -> Verification:
    """Verify the whole chain, streaming it from the database in sequence order."""
    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    # A missing head row reads as the genesis head, so a chain with events fails verification.
    return verify(_chained(batch_size), locate=_locate, head=head or (0, GENESIS_HASH))
