"""Verifying the audit log, pure: recompute the tree from the events, compare it node by node
with the tree the sequencer stored and root by root with every checkpoint, and name the first
event that differs.

The walk reads three streams in one pass, each in the order the sequencer wrote it: the events
by leaf index, the stored nodes by the leaf that completed them, and the checkpoints by size.
Memory stays bounded by one batch (the events since the last checkpoint), whatever the log's
size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from safeguard.audit.leaves import leaf_of, payload_sha256
from safeguard.audit.merkle import Frontier


class Tamper(StrEnum):
    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"
    INSERTED = "inserted"
    TRUNCATED = "truncated"
    TREE_ALTERED = "tree_altered"
    BAD_SIGNATURE = "bad_signature"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    INCONSISTENT = "inconsistent"


@dataclass(frozen=True)
class StoredEvent:
    event_id: int
    leaf_index: int
    header: Mapping[str, Any]
    # None once retention has erased it; the header's payload hash still stands in the tree.
    payload: Mapping[str, Any] | None


@dataclass(frozen=True)
class StoredNode:
    level: int
    index: int
    hash: bytes


@dataclass(frozen=True)
class KnownCheckpoint:
    """A checkpoint to hold the log to: one the log stored (signature checked by the caller,
    `signed` says whether it passed), or one exported earlier (`exported`)."""

    size: int
    root: bytes
    signed: bool = True
    exported: bool = False
    label: str = ""


@dataclass(frozen=True)
class Problem:
    kind: Tamper
    message: str
    # The event named, where one can be; the leaf position where the difference starts.
    event_id: int | None = None
    leaf_index: int | None = None


@dataclass
class Verification:
    checked: int = 0
    size: int = 0
    root: bytes = b""
    checkpoints: int = 0
    exported: int = 0
    problem: Problem | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


class _Found(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


class _Peek:
    def __init__(self, items: Iterable[Any]) -> None:
        self._items: Iterator[Any] = iter(items)
        self._next: list[Any] = []

    def peek(self) -> Any:
        if not self._next:
            try:
                self._next.append(next(self._items))
            except StopIteration:
                return None
        return self._next[0]

    def pop(self) -> Any:
        item = self.peek()
        if self._next:
            self._next.pop()
        return item


def _between(ids: Sequence[tuple[int, int]], start: int) -> tuple[int | None, str]:
    """The event to name for a difference somewhere in leaves [start, …) of `ids` (leaf, id)."""
    inside = [(leaf, event) for leaf, event in ids if leaf >= start]
    if not inside:
        return None, "no event"
    if len(inside) == 1:
        leaf, event = inside[0]
        return event, f"event #{event} (leaf {leaf})"
    (first_leaf, first), (last_leaf, last) = inside[0], inside[-1]
    return first, (
        f"one of the {len(inside)} events #{first}-#{last} (leaves {first_leaf}-{last_leaf}); "
        f"the first that can differ is event #{first}"
    )


def verify_log(
    events: Iterable[StoredEvent],
    nodes: Iterable[StoredNode],
    checkpoints: Iterable[KnownCheckpoint],
    *,
    tree_size: int,
    locate_leaf: Callable[[bytes], int | None],
) -> Verification:
    """Walk the log and stop at the first difference.

    `events` come by leaf index, `nodes` in the order the sequencer wrote them (by the leaf that
    completed them, leaf level first), `checkpoints` in any order. `tree_size` is the size the
    sequencer recorded. `locate_leaf` finds the position of a stored leaf hash, to tell a moved
    event from an edited one.
    """
    result = Verification()
    try:
        _walk(result, events, nodes, checkpoints, tree_size, locate_leaf)
    except _Found as found:
        result.problem = found.problem
    return result


def _walk(
    result: Verification,
    events: Iterable[StoredEvent],
    nodes: Iterable[StoredNode],
    checkpoints: Iterable[KnownCheckpoint],
    tree_size: int,
    locate_leaf: Callable[[bytes], int | None],
) -> None:
    frontier = Frontier()
    stored = _Peek(nodes)
    ordered = sorted(checkpoints, key=lambda c: (c.size, c.exported))
    pending = _Peek(ordered)
    # Without an exported checkpoint to hold the log to, keep no list that grows with the log.
    against = any(c.exported for c in ordered)
    stream = _Peek(events)
    # (leaf, event id) since the last checkpoint each kind agreed with, to name a batch.
    since_signed: list[tuple[int, int]] = []
    since_exported: list[tuple[int, int]] = []
    previous_id: int | None = None
    while (event := stream.pop()) is not None:
        position = frontier.size
        if event.leaf_index != position:
            node = stored.peek()
            recorded = node is not None and node.level == 0 and node.index == position
            after = f"after event #{previous_id}" if previous_id is not None else "first"
            raise _Found(
                Problem(
                    Tamper.DELETED,
                    f"the event at leaf {position} ({after}, before event #{event.event_id}) "
                    f"was deleted"
                    + ("; the stored tree still records its leaf" if recorded else ""),
                    leaf_index=position,
                )
            )
        if event.payload is not None and payload_sha256(event.payload) != event.header.get(
            "payload_sha256"
        ):
            raise _Found(
                Problem(
                    Tamper.EDITED,
                    f"event #{event.event_id} (leaf {position}) was edited: its payload no longer "
                    "matches the hash in its leaf",
                    event_id=event.event_id,
                    leaf_index=position,
                )
            )
        leaf = leaf_of(event.header)
        for level, index, value in frontier.append(leaf):
            node = stored.pop()
            if node is None or (node.level, node.index) != (level, index):
                raise _Found(
                    Problem(
                        Tamper.TREE_ALTERED,
                        f"the stored tree lacks node {level}/{index} (completed by event "
                        f"#{event.event_id} at leaf {position})",
                        event_id=event.event_id,
                        leaf_index=position,
                    )
                )
            if node.hash == value:
                continue
            if level == 0:
                raise _Found(_leaf_differs(event, position, node.hash, stream, locate_leaf))
            raise _Found(
                Problem(
                    Tamper.TREE_ALTERED,
                    f"the stored tree's node {level}/{index} was altered; every event up to "
                    f"event #{event.event_id} (leaf {position}) matches",
                    event_id=event.event_id,
                    leaf_index=position,
                )
            )
        since_signed.append((position, event.event_id))
        if against:
            since_exported.append((position, event.event_id))
        previous_id = event.event_id
        result.checked += 1
        while (checkpoint := pending.peek()) is not None and checkpoint.size == frontier.size:
            pending.pop()
            since = since_exported if checkpoint.exported else since_signed
            _hold_to(result, checkpoint, frontier.root(), since)
            since.clear()
            if checkpoint.exported:
                result.exported += 1
            else:
                result.checkpoints += 1
    result.size = frontier.size
    result.root = frontier.root()
    last = f"event #{previous_id}" if previous_id is not None else "the start of the log"
    beyond = list(iter(pending.pop, None))
    if beyond:
        checkpoint = max(beyond, key=lambda c: c.size)
        source = "an exported" if checkpoint.exported else "a stored"
        raise _Found(
            Problem(
                Tamper.TRUNCATED,
                f"the log ends at leaf {frontier.size - 1} ({last}), but {source} checkpoint "
                f"{checkpoint.label}covers {checkpoint.size} leaves: the "
                f"{checkpoint.size - frontier.size} newest events, from leaf {frontier.size} on, "
                "were cut off",
                leaf_index=frontier.size,
            )
        )
    node = stored.peek()
    if node is not None or tree_size > frontier.size:
        recorded = max(tree_size, frontier.size + 1)
        raise _Found(
            Problem(
                Tamper.TRUNCATED,
                f"the events from leaf {frontier.size} on (after {last}) were deleted: the "
                f"stored tree records {recorded} leaves",
                leaf_index=frontier.size,
            )
        )


def _leaf_differs(
    event: StoredEvent,
    position: int,
    recorded: bytes,
    stream: _Peek,
    locate_leaf: Callable[[bytes], int | None],
) -> Problem:
    """Name what happened at a leaf whose event no longer hashes to the leaf stored there."""
    leaf = leaf_of(event.header)
    moved_from = locate_leaf(leaf)
    if moved_from is not None:
        return Problem(
            Tamper.REORDERED,
            f"event #{event.event_id} stands at leaf {position}, but it was sequenced at leaf "
            f"{moved_from}: events were swapped or moved",
            event_id=event.event_id,
            leaf_index=position,
        )
    following = stream.peek()
    if following is not None and leaf_of(following.header) == recorded:
        return Problem(
            Tamper.INSERTED,
            f"event #{event.event_id} was inserted at leaf {position}, before event "
            f"#{following.event_id}, which was sequenced there",
            event_id=event.event_id,
            leaf_index=position,
        )
    return Problem(
        Tamper.EDITED,
        f"event #{event.event_id} (leaf {position}) was edited: its header no longer matches "
        "the leaf the log recorded",
        event_id=event.event_id,
        leaf_index=position,
    )


def _hold_to(
    result: Verification,
    checkpoint: KnownCheckpoint,
    root: bytes,
    since: Sequence[tuple[int, int]],
) -> None:
    start = since[0][0] if since else checkpoint.size
    if not checkpoint.signed:
        event_id, named = _between(since, start)
        raise _Found(
            Problem(
                Tamper.BAD_SIGNATURE,
                f"the checkpoint {checkpoint.label}of size {checkpoint.size} is not signed by "
                f"the log's key: the events it adds cannot be trusted; the difference is in "
                f"{named}",
                event_id=event_id,
                leaf_index=start,
            )
        )
    if checkpoint.root == root:
        return
    event_id, named = _between(since, start)
    if checkpoint.exported:
        raise _Found(
            Problem(
                Tamper.INCONSISTENT,
                f"the log is not consistent with the exported checkpoint {checkpoint.label}"
                f"of size {checkpoint.size}: history was rewritten in {named}",
                event_id=event_id,
                leaf_index=start,
            )
        )
    raise _Found(
        Problem(
            Tamper.CHECKPOINT_MISMATCH,
            f"the signed checkpoint {checkpoint.label}of size {checkpoint.size} does not match "
            f"the events: the difference is in {named}",
            event_id=event_id,
            leaf_index=start,
        )
    )
