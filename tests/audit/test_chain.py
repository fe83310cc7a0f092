"""The pure chain: hashes link events, and verification names edits, deletions and reorderings."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from safeguard.audit.chain import (
    GENESIS_HASH,
    ChainedEvent,
    Tamper,
    canonical_json,
    event_hash,
    verify,
)


def build(n: int) -> list[ChainedEvent]:
    events, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        record = {"event_type": "case.opened", "target_id": str(seq), "data": {"n": seq}}
        digest = event_hash(prev, record)
        events.append(ChainedEvent(seq=seq, prev_hash=prev, hash=digest, record=record))
        prev = digest
    return events


def run(events: list[ChainedEvent], head: tuple[int, str] | None = None) -> Any:
    by_hash = {e.hash: e.seq for e in events}
    return verify(events, locate=by_hash.get, head=head)


def test_an_intact_chain_verifies() -> None:
    events = build(5)
    result = run(events, head=(5, events[-1].hash))
    assert result.ok
    assert result.checked == 5


def test_an_empty_chain_verifies() -> None:
    assert run([], head=(0, GENESIS_HASH)).ok


def test_an_edited_event_is_named() -> None:
    events = build(5)
    edited = events[2]
    events[2] = ChainedEvent(edited.seq, edited.prev_hash, edited.hash, {**edited.record, "x": 1})

    result = run(events)

    assert result.problem is not None
    assert (result.problem.kind, result.problem.seq) == (Tamper.EDITED, 3)


def test_a_deleted_event_is_named() -> None:
    events = build(5)
    del events[2]

    result = run(events)

    assert result.problem is not None
    assert (result.problem.kind, result.problem.seq) == (Tamper.DELETED, 4)
    assert "between event #2 and event #4" in result.problem.message


def test_deleting_the_newest_events_is_caught_by_the_head() -> None:
    events = build(5)
    head = (5, events[-1].hash)

    result = run(events[:3], head=head)

    assert result.problem is not None
    assert result.problem.kind is Tamper.DELETED


def test_reordered_events_are_named() -> None:
    events = build(5)
    # Swap the positions (sequence numbers) of events 3 and 4, keeping their contents.
    three, four = events[2], events[3]
    events[2] = ChainedEvent(3, four.prev_hash, four.hash, four.record)
    events[3] = ChainedEvent(4, three.prev_hash, three.hash, three.record)

    result = run(events)

    assert result.problem is not None
    assert (result.problem.kind, result.problem.seq) == (Tamper.REORDERED, 3)


@given(
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none()),
        max_size=6,
    )
)
def test_canonical_json_ignores_key_order(record: dict[str, Any]) -> None:
    reversed_record = dict(reversed(list(record.items())))
    assert canonical_json(record) == canonical_json(reversed_record)
