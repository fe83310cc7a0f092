"""The in-memory PDQ index of every process: rebuilt when banks change, extended when entries are
added, snapshotted to disk so that a restarted process loads it memory-mapped instead of
rebuilding. Queries read one immutable index object; a rebuild swaps it atomically.
"""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from safeguard.matching.index import HammingIndex, Match, SnapshotError, codes_from_hex
from safeguard.matching.models import BankEntry, IndexGeneration

logger = logging.getLogger(__name__)

PDQ = "pdq"


@dataclass(frozen=True)
class _Loaded:
    generation: tuple[str, int]
    max_entry_id: int
    index: HammingIndex


# `_add_lock` serialises incremental additions; `_build_lock` lets one thread rebuild while the
# others keep querying the previous index. That is safe because every hit is checked against
# the database (entry and bank enabled) before it is reported.
_add_lock = threading.Lock()
_build_lock = threading.Lock()
_current: _Loaded | None = None


def _generation() -> tuple[str, int]:
    row, _ = IndexGeneration.objects.get_or_create(pk=1)
    return str(row.instance), int(row.generation)


def _live_pdq_entries(after_id: int = 0) -> tuple[list[int], list[str]]:
    rows = list(
        BankEntry.objects.filter(signal_type=PDQ, enabled=True, bank__enabled=True, id__gt=after_id)
        .order_by("id")
        .values_list("id", "hash")
    )
    return [r[0] for r in rows], [r[1] for r in rows]


def _snapshot_dir(generation: tuple[str, int]) -> Path:
    instance, number = generation
    return Path(settings.SAFEGUARD_INDEX_DIR) / f"pdq-{instance}-g{number}"


def _build(generation: tuple[str, int]) -> _Loaded:
    ids, hashes = _live_pdq_entries()
    codes = codes_from_hex(hashes) if hashes else np.zeros((0, 4), dtype=np.uint64)
    index = HammingIndex.build(codes, np.asarray(ids, dtype=np.int64) if ids else None)
    max_id = max(ids, default=0)
    target = _snapshot_dir(generation)
    try:
        if not target.exists():
            index.save(target)
            (target / "MAX_ENTRY_ID").write_text(str(max_id), encoding="ascii")
    except OSError as exc:
        # A snapshot only saves the next start a rebuild; failing to write one is not fatal.
        logger.warning("could not snapshot the PDQ index to %s: %s", target, exc)
    return _Loaded(generation, max_id, index)


def _load_or_build(generation: tuple[str, int]) -> _Loaded:
    target = _snapshot_dir(generation)
    marker = target / "MAX_ENTRY_ID"
    if marker.exists():
        try:
            index = HammingIndex.load(target, mmap=True)
            return _Loaded(generation, int(marker.read_text(encoding="ascii")), index)
        except (SnapshotError, ValueError, OSError) as exc:
            logger.warning("ignoring unreadable index snapshot %s: %s", target, exc)
            shutil.rmtree(target, ignore_errors=True)
    return _build(generation)


def pdq_index() -> _Loaded:
    """The current index: rebuilt when banks changed, extended when entries were added."""
    global _current
    generation = _generation()
    loaded = _current
    if loaded is None or loaded.generation != generation:
        # The first load must wait; later rebuilds happen once while queries use the old index.
        blocking = loaded is None
        if _build_lock.acquire(blocking=blocking):
            try:
                if _current is None or _current.generation != generation:
                    _current = _load_or_build(generation)
            finally:
                _build_lock.release()
        loaded = _current
        assert loaded is not None  # noqa: S101 - set by whichever thread built it
    with _add_lock:
        loaded = _current if _current is not None else loaded
        ids, hashes = _live_pdq_entries(after_id=loaded.max_entry_id)
        if ids:
            loaded.index.add(codes_from_hex(hashes), np.asarray(ids, dtype=np.int64))
            loaded = _Loaded(loaded.generation, max(ids), loaded.index)
            _current = loaded
    return loaded


def pdq_query(hash_hex: str, radius: int) -> list[Match]:
    return pdq_index().index.query(hash_hex, radius)


def forget() -> None:
    """Drop the in-memory index (tests, and after a snapshot directory is cleaned)."""
    global _current
    with _build_lock, _add_lock:
        _current = None
