"""The pure core of the audit chain: canonical JSON, event hashes and chain verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_json(record: Mapping[str, Any]) -> bytes:
    """Serialise a record so that equal records always give equal bytes (sorted keys, no spaces)."""
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def event_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    """SHA-256 of the previous event's hash followed by this event's canonical JSON."""
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_json(record))
    return digest.hexdigest()


class Tamper(StrEnum):
    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"


@dataclass(frozen=True)
class ChainedEvent:
    seq: int
    prev_hash: str
    hash: str
    record: Mapping[str, Any]


@dataclass(frozen=True)
class Problem:
    kind: Tamper
    seq: int
    message: str


@dataclass(frozen=True)
class Verification:
    checked: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(
    events: Iterable[ChainedEvent],
    *,
    locate: Callable[[str], int | None],
    head: tuple[int, str] | None = None,
) -> Verification:
    """Walk events in sequence order and name the first that was edited, deleted or reordered.

    `locate` finds the sequence number of the event whose hash is given, wherever it stands;
    it tells a reordered chain (the predecessor exists elsewhere) from a deleted one (it does
    not exist). `head` is the last (seq, hash) the writer recorded, which catches deletion of
    the newest events, where no later event's link can.
    """
    expected_prev = GENESIS_HASH
    prev_seq = 0
    checked = 0
    for event in events:
        if event_hash(event.prev_hash, event.record) != event.hash:
            return Verification(
                checked,
                Problem(
                    Tamper.EDITED,
                    event.seq,
                    f"event #{event.seq} was edited: its contents no longer match its hash",
                ),
            )
        if event.prev_hash != expected_prev:
            found = locate(event.prev_hash)
            if found is not None:
                return Verification(
                    checked,
                    Problem(
                        Tamper.REORDERED,
                        event.seq,
                        f"event #{event.seq} is out of order: it was chained after event "
                        f"#{found}, but stands after event #{prev_seq}",
                    ),
                )
            return Verification(
                checked,
                Problem(
                    Tamper.DELETED,
                    event.seq,
                    f"an event was deleted between event #{prev_seq} and event #{event.seq}: "
                    f"the event #{event.seq} was chained to no longer exists",
                ),
            )
        if event.seq != prev_seq + 1:
            # The links are intact, so no event is missing: the sequence number was rewritten.
            return Verification(
                checked,
                Problem(
                    Tamper.EDITED,
                    event.seq,
                    f"event #{event.seq} was edited: its sequence number should be {prev_seq + 1}",
                ),
            )
        expected_prev = event.hash
        prev_seq = event.seq
        checked += 1
    if head is not None and head != (prev_seq, expected_prev):
        head_seq, _ = head
        if head_seq > prev_seq:
            message = (
                f"events after #{prev_seq} were deleted: the chain's head records event #{head_seq}"
            )
            return Verification(checked, Problem(Tamper.DELETED, prev_seq + 1, message))
        message = f"the chain's head (event #{head_seq}) does not match event #{prev_seq}"
        return Verification(checked, Problem(Tamper.EDITED, head_seq, message))
    return Verification(checked, None)
