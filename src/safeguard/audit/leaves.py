"""What the audit tree commits to, pure: an event's header is its leaf; its payload is hashed.

The header holds the event's number, type, time, source, target, actor id and the SHA-256 of
its payload. Names, message text and free-text reasons live only in the payload, so retention
can erase a payload while the tree and every proof stay valid, and a proof handed to someone
outside reveals no reviewer's name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from safeguard.audit.merkle import leaf_hash

HEADER_VERSION = 1


def canonical_json(record: Mapping[str, Any]) -> bytes:
    """Serialise a record so that equal records always give equal bytes (sorted keys, no spaces)."""
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def payload(*, actor_label: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"actor_label": actor_label, "data": dict(data)}


def payload_sha256(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


def event_time(moment: datetime) -> str:
    """One spelling of an event's time on every database: UTC, to the microsecond."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def header(
    *,
    event_id: int,
    created_at: datetime,
    event_type: str,
    source: str,
    target_type: str,
    target_id: str,
    actor_id: int | None,
    payload_hash: str,
) -> dict[str, Any]:
    return {
        "v": HEADER_VERSION,
        "id": event_id,
        "type": event_type,
        "time": event_time(created_at),
        "source": source,
        "target": {"type": target_type, "id": target_id},
        "actor": actor_id,
        "payload_sha256": payload_hash,
    }


def leaf_of(event_header: Mapping[str, Any]) -> bytes:
    """The RFC 9162 leaf hash of a header: SHA-256(0x00 ‖ canonical JSON)."""
    return leaf_hash(canonical_json(event_header))
