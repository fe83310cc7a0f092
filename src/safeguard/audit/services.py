"""Writing audit events: every service calls `audit_record` inside its own transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.audit.chain import GENESIS_HASH, event_hash
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import TARGET_ID_MAX_LENGTH, AuditEvent, AuditHead

SYSTEM_LABEL = "safeguard (system)"


def _lock_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # The migration creates the head; it is missing only from a database emptied by a test
        # flush, or by tampering, and a chain with events but no head must not be extended.
        if AuditEvent.objects.exists():
            raise RuntimeError("the audit chain's head is missing; run `safeguard audit verify`")
        AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def audit_record(
    *,
    event_type: AuditEventType,
    actor: User | None,
    source: AuditSource,
    target_type: str,
    target_id: object,
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's transaction.

    `actor=None` means Safeguard itself acted (a task or a rule), never an unknown person.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    target = str(target_id)
    # SQLite would store a longer id and PostgreSQL refuse it mid-request: refuse it the same
    # way on both, so the tests on either database find the caller that sends one.
    if len(target) > TARGET_ID_MAX_LENGTH:
        raise ValueError(
            f"an audit target id is at most {TARGET_ID_MAX_LENGTH} characters, got {len(target)}"
        )
    head = _lock_head()
    # Round-trip through JSON so that what is hashed is exactly what the database returns.
    clean = json.loads(json.dumps(dict(data or {}), cls=DjangoJSONEncoder))
    event = AuditEvent(
        seq=head.seq + 1,
        created_at=timezone.now(),
        event_type=event_type.value,
        actor=actor,
        actor_label=actor.label if actor is not None else SYSTEM_LABEL,
        source=source.value,
        target_type=target_type,
        target_id=target,
        data=clean,
        prev_hash=head.hash,
    )
    event.hash = event_hash(event.prev_hash, event.chained_record())
    event.save(force_insert=True)
    head.seq = event.seq
    head.hash = event.hash
    head.save(update_fields=["seq", "hash"])
    return event
