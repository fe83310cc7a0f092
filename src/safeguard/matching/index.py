"""Exact Hamming-radius index over 256-bit hashes (PDQ) by multi-index hashing.

Pure module (no Django import): NumPy arrays in, `(entry_id, distance)` matches out.

How it finds every entry within radius r and nothing beyond
------------------------------------------------------------
Each hash is cut into m disjoint substrings ("chunks") of contiguous bits, widths w_1..w_m
summing to 256. For an entry e and query q let d_k be the Hamming distance between their k-th
chunks, so d(e, q) = d_1 + ... + d_m. Write r = m*s + a with 0 <= a < m, and pick any set A of
a + 1 chunks. If d(e, q) <= r, then some chunk k in A has d_k <= s, or some chunk k outside A
has d_k <= s - 1. Proof: otherwise every chunk in A has d_k >= s + 1 and every other chunk has
d_k >= s, so d(e, q) >= (a + 1)(s + 1) + (m - a - 1)s = m*s + a + 1 = r + 1 > r, a
contradiction. (A chunk whose search radius would be -1 is simply not probed.)

So the index keeps, per chunk, the entries grouped by the chunk's value (a counting-sorted
permutation `rows` plus an offsets table over all 2^w values), and a query enumerates every
value within the chunk's search radius of the query's chunk ("probes"), collects the entries
stored under those values ("candidates") and computes each candidate's full 256-bit distance.
By the argument above every entry within r is a candidate; the full distance then removes every
candidate beyond r, so the answer is exact. Duplicates (an entry found through several chunks)
are removed before returning.

The pigeonhole argument holds for any chunk widths and any r, so one layout serves every radius;
the layout (m and the widths) only decides the speed, and is chosen from the segment's size.

Hostile banks: clustered banks can put tens of thousands of near-duplicates under the query's
chunk values. A query whose candidates are that many marks them in a bitmap over the rows, so
each distinct entry is verified once and in row order; and when even that would cost more than
a vectorised linear scan of the segment, the query scans instead. The work done before deciding
is capped at a quarter of a scan, so no bank makes a query cost more than about 1.25 scans.

Incremental adds go to a small delta that is scanned; a full delta becomes a segment with its own
tables, and segments of similar size are merged (size-tiered, like an LSM tree), so an add costs
amortised O(log n) rebuild work and a query visits O(log n) segments.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DEFAULT_COST",
    "DEFAULT_RADIUS",
    "HASH_BITS",
    "ChunkLayout",
    "Codes",
    "CostModel",
    "HammingIndex",
    "Match",
    "QueryStats",
    "SnapshotError",
    "as_codes",
    "brute_force",
    "code_to_hex",
    "codes_from_hex",
    "hamming_distances",
]

HASH_BITS: Final = 256
HASH_WORDS: Final = HASH_BITS // 64
HASH_HEX_CHARS: Final = HASH_BITS // 4
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
DEFAULT_RADIUS: Final = 31

SNAPSHOT_FORMAT: Final = "safeguard-hamming-index"
SNAPSHOT_VERSION: Final = 1

# An (n, 4) array of uint64: each row one 256-bit hash, most significant word first.
Codes = NDArray[np.uint64]

# The widest chunk: its offsets table has 2^w + 1 entries.
_MAX_CHUNK_BITS: Final = 26
# Rows per block of a linear scan; small enough that a block's temporaries stay in cache.
_SCAN_BLOCK: Final = 16_384
# Queries per block in `query_batch`, bounding the size of the probe matrix.
_BATCH_BLOCK: Final = 64


_Hits = tuple[NDArray[np.intp], NDArray[np.intp]]  # rows of a segment, and their distances


def _frozen_empty() -> NDArray[np.intp]:
    # Shared by every empty answer, so nobody may write to it.
    empty = np.empty(0, dtype=np.intp)
    empty.flags.writeable = False
    return empty


_NO_HITS: Final[_Hits] = (_frozen_empty(), _frozen_empty())


class Match(NamedTuple):
    """One index entry within the query radius."""

    entry_id: int
    distance: int


class SnapshotError(Exception):
    """A snapshot directory that is missing, of another format or version, or inconsistent."""


@dataclass(frozen=True, slots=True)
class CostModel:
    """What each kind of query work costs, in nanoseconds; only the ratios matter.

    It picks the chunk layout and decides when a query scans instead of probing. It never
    changes an answer, only how it is found, which lets tests force either path.
    """

    # Fitted to query timings of random banks of 10^6 entries on the development machine
    # (2 cores, Python 3.11, NumPy 2): a candidate costs two cache misses, `rows` and codes.
    probe_ns: float = 25.0  # one random read of the offsets table
    candidate_ns: float = 120.0  # one read of `rows` and of the candidate's 32-byte code
    scan_ns: float = 3.0  # one entry of the blocked, vectorised linear scan
    query_overhead_ns: float = 25_000.0  # NumPy calls per probed query, whatever its size
    # Heavy queries (clustered banks) mark candidates in a bitmap over the segment's rows.
    bitmap_ns: float = 0.15  # per row of the segment: clearing and reading the bitmap
    mark_ns: float = 15.0  # per candidate: marking its row
    unique_ns: float = 35.0  # per distinct candidate: its code, read in row order

    def scan_cost(self, n: int) -> float:
        return n * self.scan_ns


DEFAULT_COST: Final = CostModel()


# --- Hash arrays -------------------------------------------------------------------------------


def as_codes(array: NDArray[Any]) -> Codes:
    """Accept (n, 4) uint64 words or (n, 32) uint8 bytes (most significant first) as codes."""
    arr = np.asarray(array)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.dtype == np.uint8 and arr.ndim == 2 and arr.shape[1] == HASH_BITS // 8:
        return np.ascontiguousarray(arr).view(">u8").astype(np.uint64)
    if arr.dtype == np.uint64 and arr.ndim == 2 and arr.shape[1] == HASH_WORDS:
        return np.ascontiguousarray(arr)
    raise ValueError(f"expected (n, 4) uint64 or (n, 32) uint8 hashes, got {arr.shape} {arr.dtype}")


def codes_from_hex(hex_hashes: Iterable[str]) -> Codes:
    """Parse 64-hex-character hashes into codes; a bad hash raises ValueError with its position."""
    items = list(hex_hashes)
    for position, value in enumerate(items):
        if len(value) != HASH_HEX_CHARS:
            raise ValueError(
                f"hash {position}: expected {HASH_HEX_CHARS} hex characters, got {len(value)}"
            )
    # bytes.fromhex skips whitespace, so a length check on its output is what proves that every
    # hash was 64 hex digits and not, say, 62 digits and two spaces.
    try:
        raw = bytes.fromhex("".join(items))
    except ValueError:
        raw = b""
    if len(raw) != len(items) * HASH_HEX_CHARS // 2:
        for position, value in enumerate(items):
            if not all(c in _HEX_DIGITS for c in value):
                raise ValueError(f"hash {position}: not hexadecimal: {value!r}")
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, HASH_WORDS)


def code_to_hex(code: NDArray[np.uint64]) -> str:
    """The 64-hex-character form of one code."""
    return np.asarray(code, dtype=np.uint64).astype(">u8").tobytes().hex()


def _query_code(query: str | NDArray[Any]) -> Codes:
    if isinstance(query, str):
        return codes_from_hex([query.strip().lower()])
    codes = as_codes(query)
    if codes.shape[0] != 1:
        raise ValueError(f"expected one hash, got {codes.shape[0]}")
    return codes


def hamming_distances(codes: Codes, query: Codes) -> NDArray[np.intp]:
    """Distance from `query` (shape (4,) or (1, 4)) to every row of `codes`."""
    q = np.asarray(query, dtype=np.uint64).reshape(HASH_WORDS)
    distances: NDArray[np.intp] = np.bitwise_count(np.bitwise_xor(codes, q)).sum(
        axis=1, dtype=np.intp
    )
    return distances


def brute_force(
    codes: Codes,
    query: str | NDArray[Any],
    radius: int = DEFAULT_RADIUS,
    ids: NDArray[np.int64] | None = None,
) -> list[Match]:
    """Reference answer by comparing with every entry; the index must return exactly this."""
    q = _query_code(query)
    dist = hamming_distances(codes, q)
    rows = np.flatnonzero(dist <= radius)
    entry_ids = rows if ids is None else np.asarray(ids)[rows]
    return _sorted_matches(entry_ids, dist[rows])


def _sorted_matches(entry_ids: NDArray[Any], distances: NDArray[Any]) -> list[Match]:
    ids, dist = _sorted_arrays(entry_ids, distances)
    # `_make` skips NamedTuple's argument parsing; results can run to thousands of matches.
    return list(map(Match._make, zip(ids.tolist(), dist.tolist(), strict=True)))


def _sorted_arrays(
    entry_ids: NDArray[Any], distances: NDArray[Any]
) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
    order = np.lexsort((entry_ids, distances))
    return entry_ids[order].astype(np.int64, copy=False), distances[order].astype(np.intp)


def _scan(codes: Codes, q: Codes, radius: int) -> _Hits:
    """Rows of `codes` within `radius` of `q`, with distances, by a blocked linear scan."""
    # The first 128 bits give a lower bound on the distance that random entries almost never
    # pass at PDQ radii, so the full distance is computed only for the few that do. Blocks keep
    # the temporaries in cache; strided column reads avoid copying the codes.
    n = codes.shape[0]
    q_row = q.reshape(HASH_WORDS)
    q0, q1 = q_row[0], q_row[1]
    bound = min(radius, 255)
    block = min(_SCAN_BLOCK, max(n, 1))
    xor_buf = np.empty(block, dtype=np.uint64)
    count0 = np.empty(block, dtype=np.uint8)
    count1 = np.empty(block, dtype=np.uint8)
    found_rows: list[NDArray[np.intp]] = []
    found_dist: list[NDArray[np.intp]] = []
    for start in range(0, n, block):
        chunk = codes[start : start + block]
        size = chunk.shape[0]
        x, c0, c1 = xor_buf[:size], count0[:size], count1[:size]
        np.bitwise_count(np.bitwise_xor(chunk[:, 0], q0, out=x), out=c0)
        np.bitwise_count(np.bitwise_xor(chunk[:, 1], q1, out=x), out=c1)
        passed = np.flatnonzero(np.add(c0, c1, out=c0) <= bound)
        if passed.size:
            dist = hamming_distances(chunk[passed], q_row)
            keep = dist <= radius
            if keep.any():
                found_rows.append(passed[keep] + start)
                found_dist.append(dist[keep])
    if not found_rows:
        return _NO_HITS
    return np.concatenate(found_rows), np.concatenate(found_dist)


# --- Chunk layout and probe plans -------------------------------------------------------------


@cache
def _ball_size(width: int, radius: int) -> int:
    """Number of `width`-bit values within Hamming distance `radius` of a given value."""
    return sum(math.comb(width, i) for i in range(min(radius, width) + 1)) if radius >= 0 else 0


@cache
def _ball_masks(width: int, radius: int) -> NDArray[np.int64]:
    """Every `width`-bit XOR mask of weight at most `radius`, as a read-only array."""
    masks = [
        sum(1 << bit for bit in bits)
        for weight in range(min(radius, width) + 1)
        for bits in combinations(range(width), weight)
    ]
    out = np.array(masks, dtype=np.int64)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, slots=True)
class ChunkLayout:
    """How a 256-bit hash is cut into contiguous chunks (most significant bits first)."""

    widths: tuple[int, ...]

    def __post_init__(self) -> None:
        if sum(self.widths) != HASH_BITS or not all(1 <= w <= _MAX_CHUNK_BITS for w in self.widths):
            raise ValueError(
                f"chunk widths must be 1..{_MAX_CHUNK_BITS} and sum to 256: {self.widths}"
            )

    @classmethod
    def even(cls, m: int) -> ChunkLayout:
        """m chunks whose widths differ by at most one bit."""
        base, extra = divmod(HASH_BITS, m)
        return cls(tuple(base + 1 if k < extra else base for k in range(m)))

    @classmethod
    def for_size(
        cls, n: int, radius: int = DEFAULT_RADIUS, cost: CostModel = DEFAULT_COST
    ) -> ChunkLayout:
        """The layout with the lowest estimated query cost for n random entries at `radius`.

        Tables are capped at about two offsets per entry, which keeps memory linear in n; for
        random hashes that lands at chunks of about log2(n) bits, the classic MIH choice.
        """
        max_width = max(16, min(_MAX_CHUNK_BITS, math.ceil(math.log2(max(n, 2))) + 1))
        candidates = (cls.even(m) for m in range(math.ceil(HASH_BITS / max_width), 33))
        return min(candidates, key=lambda layout: layout.estimated_cost_ns(n, radius, cost))

    @property
    def starts(self) -> tuple[int, ...]:
        return tuple(sum(self.widths[:k]) for k in range(len(self.widths)))

    def table_size(self) -> int:
        """Length of the flat offsets array: every chunk's 2^w slots plus one end marker."""
        return sum(1 << w for w in self.widths) + 1

    def search_radii(self, n: int, radius: int, cost: CostModel = DEFAULT_COST) -> tuple[int, ...]:
        """Per-chunk search radii that make a query at `radius` exact (see the module doc).

        Which a + 1 chunks get the larger radius s is free; the cheapest ones are chosen.
        """
        m = len(self.widths)
        s, a = divmod(radius, m)

        def extra_cost(k: int) -> float:
            w = self.widths[k]
            per_probe = cost.probe_ns + cost.candidate_ns * n / (1 << w)
            return (_ball_size(w, s) - _ball_size(w, s - 1)) * per_probe

        wider = set(sorted(range(m), key=lambda k: (extra_cost(k), k))[: a + 1])
        return tuple(s if k in wider else s - 1 for k in range(m))

    def estimated_cost_ns(self, n: int, radius: int, cost: CostModel = DEFAULT_COST) -> float:
        """Expected cost of one probed query on n uniformly random entries."""
        total = cost.query_overhead_ns
        for w, rho in zip(self.widths, self.search_radii(n, radius, cost), strict=True):
            probes = _ball_size(w, rho)
            total += probes * (cost.probe_ns + cost.candidate_ns * n / (1 << w))
        return total

    def keys(self, codes: Codes) -> list[NDArray[np.int64]]:
        """Each chunk's value for every row of `codes`."""
        return [_chunk_values(codes, s, w) for s, w in zip(self.starts, self.widths, strict=True)]


def _chunk_values(codes: Codes, start: int, width: int) -> NDArray[np.int64]:
    end = start + width
    first, last = start // 64, (end - 1) // 64
    if first == last:
        shift = np.uint64(64 * (first + 1) - end)
        values = (codes[:, first] >> shift) & np.uint64((1 << width) - 1)
    else:
        # The chunk straddles two words: the low bits of `first` and the high bits of `last`.
        from_last = end - 64 * last
        high = codes[:, first] & np.uint64((1 << (64 * last - start)) - 1)
        values = (high << np.uint64(from_last)) | (codes[:, last] >> np.uint64(64 - from_last))
    return values.astype(np.int64)


@dataclass(frozen=True, slots=True)
class _ProbePlan:
    """For one segment and radius: which slots of the flat offsets table a query reads."""

    chunk: NDArray[np.intp]  # the chunk of each probe
    mask: NDArray[np.int64]  # XOR applied to the query's chunk value
    base: NDArray[np.int64]  # the chunk's first slot in the flat offsets table

    @property
    def size(self) -> int:
        return int(self.chunk.size)


def _candidate_positions(starts: NDArray[np.intp], counts: NDArray[np.intp]) -> NDArray[np.intp]:
    """Every position in the runs [start, start + count), concatenated, without a Python loop."""
    run_end = np.cumsum(counts)
    total = int(run_end[-1]) if run_end.size else 0
    return np.arange(total, dtype=np.intp) + np.repeat(starts - run_end + counts, counts)


@dataclass(eq=False)
class _Tables:
    """A segment's chunk tables: for each chunk, its rows grouped by the chunk's value.

    `rows[k*n:(k+1)*n]` lists the rows sorted by chunk k's value, and the flat `offsets` array
    holds, for chunk k and value v, the position in `rows` where that value's rows start (slot
    `bases[k] + v`); the next slot holds where they end. Memory: 4m bytes per entry for `rows`
    plus 4 bytes per table slot, and the layout keeps slots at about two per entry.
    """

    layout: ChunkLayout
    rows: NDArray[np.uint32]
    offsets: NDArray[Any]  # uint32, or uint64 once m * n reaches 2^32
    bases: tuple[int, ...] = ()
    shifts: tuple[int, ...] = ()
    masks: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        widths = self.layout.widths
        bases = [0]
        for w in widths[:-1]:
            bases.append(bases[-1] + (1 << w))
        self.bases = tuple(bases)
        starts = self.layout.starts
        self.shifts = tuple(HASH_BITS - s - w for s, w in zip(starts, widths, strict=True))
        self.masks = tuple((1 << w) - 1 for w in widths)

    @classmethod
    def build(cls, codes: Codes, layout: ChunkLayout) -> _Tables:
        n = codes.shape[0]
        m = len(layout.widths)
        if n >= 2**32:
            raise ValueError("a segment holds fewer than 2^32 entries")
        rows = np.empty(m * n, dtype=np.uint32)
        offsets = np.empty(layout.table_size(), dtype=_offset_dtype(m * n))
        offsets[0] = 0
        slot = 0
        for k, values in enumerate(layout.keys(codes)):
            size = 1 << layout.widths[k]
            # A stable sort keeps equal chunk values in row order, so builds are deterministic.
            rows[k * n : (k + 1) * n] = np.argsort(values, kind="stable")
            offsets[slot + 1 : slot + size + 1] = k * n + np.cumsum(
                np.bincount(values, minlength=size)
            )
            slot += size
        return cls(layout=layout, rows=rows, offsets=offsets)

    def query_keys(self, q: Codes) -> NDArray[np.int64]:
        """The chunk values of each query row, shape (len(q), m)."""
        if q.shape[0] == 1:
            # For one query, Python integers cut the chunks faster than a dozen NumPy calls.
            value = int.from_bytes(q.astype(">u8").tobytes(), "big")
            keys = [(value >> s) & k for s, k in zip(self.shifts, self.masks, strict=True)]
            return np.array([keys], dtype=np.int64)
        return np.stack(self.layout.keys(q), axis=1)

    def runs(
        self, plan: _ProbePlan, keys: NDArray[np.int64]
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Start and length in `rows` of every probe's run, shape (len(keys), probes)."""
        slots = plan.base + (keys[:, plan.chunk] ^ plan.mask)
        starts = self.offsets[slots].astype(np.intp)
        counts = self.offsets[slots + 1].astype(np.intp) - starts
        return starts, counts


def _distinct_rows(rows: NDArray[np.uint32], n: int) -> NDArray[np.intp]:
    """The distinct values of `rows` (all below n), ascending, through a bitmap of n bytes."""
    # Marking and reading a bitmap beats sorting (np.unique) several times over here.
    seen = np.zeros(n, dtype=np.bool_)
    seen[rows] = True
    return np.flatnonzero(seen)


def _offset_dtype(positions: int) -> type[np.unsignedinteger[Any]]:
    return np.uint32 if positions < 2**32 else np.uint64


@dataclass(eq=False)
class _Segment:
    """An immutable run of entries: codes, ids and (unless scanning is cheaper) chunk tables."""

    codes: Codes
    id_base: int
    ids: NDArray[np.int64] | None  # None when the ids are id_base, id_base + 1, ...
    cost: CostModel = DEFAULT_COST
    tables: _Tables | None = None
    _plans: dict[int, _ProbePlan | None] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return int(self.codes.shape[0])

    @property
    def layout(self) -> ChunkLayout | None:
        return None if self.tables is None else self.tables.layout

    @classmethod
    def build(
        cls,
        codes: Codes,
        id_base: int,
        ids: NDArray[np.int64] | None,
        cost: CostModel,
        layout: ChunkLayout | None = None,
        *,
        tables: bool = True,
    ) -> _Segment:
        """A segment over `codes`; unless `layout` is given, tables only where probing pays."""
        segment = cls(codes=codes, id_base=id_base, ids=ids, cost=cost)
        n = codes.shape[0]
        if not tables or n == 0:
            return segment
        if layout is None:
            layout = ChunkLayout.for_size(n, DEFAULT_RADIUS, cost)
            if layout.estimated_cost_ns(n, DEFAULT_RADIUS, cost) >= cost.scan_cost(n):
                return segment
        segment.tables = _Tables.build(codes, layout)
        return segment

    def entry_ids(self, rows: NDArray[np.intp]) -> NDArray[np.int64]:
        if self.ids is None:
            return rows.astype(np.int64) + self.id_base
        return self.ids[rows]

    def all_ids(self) -> NDArray[np.int64]:
        if self.ids is None:
            return np.arange(self.id_base, self.id_base + self.n, dtype=np.int64)
        return np.asarray(self.ids, dtype=np.int64)

    def plan(self, radius: int) -> _ProbePlan | None:
        """The probes for `radius`, or None when scanning this segment is cheaper."""
        if radius not in self._plans:
            self._plans[radius] = self._make_plan(radius)
        return self._plans[radius]

    def _make_plan(self, radius: int) -> _ProbePlan | None:
        if self.tables is None:
            return None
        n, cost, layout = self.n, self.cost, self.tables.layout
        radii = layout.search_radii(n, radius, cost)
        probes = sum(_ball_size(w, rho) for w, rho in zip(layout.widths, radii, strict=True))
        # Probes are paid before any candidate is seen, so they must stay well below a scan for
        # the candidate check in `search` to bound a query's cost near that of a scan.
        scan = cost.scan_cost(n)
        if layout.estimated_cost_ns(n, radius, cost) > scan or probes * cost.probe_ns > scan / 4:
            return None
        chunks, masks, bases = [], [], []
        for k, (w, rho) in enumerate(zip(layout.widths, radii, strict=True)):
            if rho < 0:
                continue
            ball = _ball_masks(w, rho)
            chunks.append(np.full(ball.size, k, dtype=np.intp))
            masks.append(ball)
            bases.append(np.full(ball.size, self.tables.bases[k], dtype=np.int64))
        return _ProbePlan(
            chunk=np.concatenate(chunks), mask=np.concatenate(masks), base=np.concatenate(bases)
        )

    def _heavy(self, candidates: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Which queries' candidate counts make marking them in a bitmap cheaper than direct."""
        cost = self.cost
        bitmap = self.n * cost.bitmap_ns + candidates * (cost.mark_ns + cost.unique_ns)
        return candidates * cost.candidate_ns > bitmap

    def search(self, q: Codes, radius: int, stats: QueryStats) -> _Hits:
        """Rows within `radius` of the single query `q`, with distances; exact."""
        return self.search_batch(q, radius, stats)[0]

    def search_batch(self, q: Codes, radius: int, stats: QueryStats) -> list[_Hits]:
        """Rows within `radius` of each row of `q`, with distances; exact."""
        plan = self.plan(radius)
        if self.tables is None or plan is None:
            stats.scanned += q.shape[0]
            return [_scan(self.codes, q[i : i + 1], radius) for i in range(q.shape[0])]
        keys = self.tables.query_keys(q)
        results: list[_Hits] = []
        for lo in range(0, q.shape[0], _BATCH_BLOCK):
            block = slice(lo, lo + _BATCH_BLOCK)
            results.extend(self._probe(self.tables, plan, q[block], keys[block], radius, stats))
        return results

    def _probe(
        self,
        tables: _Tables,
        plan: _ProbePlan,
        q: Codes,
        keys: NDArray[np.int64],
        radius: int,
        stats: QueryStats,
    ) -> list[_Hits]:
        nq = q.shape[0]
        starts, counts = tables.runs(plan, keys)
        heavy = self._heavy(counts.sum(axis=1))
        # Heavy queries are answered one by one below; the rest share the vectorised path.
        light_counts = np.where(heavy[:, None], 0, counts)
        stats.probed += nq - int(heavy.sum())
        flat_counts = light_counts.ravel()
        nonempty = np.flatnonzero(flat_counts)
        run_len = flat_counts[nonempty]
        positions = _candidate_positions(starts.ravel()[nonempty], run_len)
        candidates = tables.rows[positions].astype(np.intp)
        if nq == 1:
            if heavy[0]:
                return [self._search_heavy(tables, q, starts[0], counts[0], radius, stats)]
            dist = hamming_distances(self.codes[candidates], q)
            keep = dist <= radius
            hits, hit_dist = candidates[keep], dist[keep]
            if hits.size > 1:
                # An entry close to the query is found through several chunks; keep it once.
                hits, first = np.unique(hits, return_index=True)
                hit_dist = hit_dist[first]
            return [(hits, hit_dist)]
        cand_query = np.repeat(nonempty // plan.size, run_len)
        dist = np.bitwise_count(self.codes[candidates] ^ q[cand_query]).sum(axis=1, dtype=np.intp)
        keep = dist <= radius
        # One key per (query, row) pair removes entries found through several chunks.
        pair, first = np.unique(cand_query[keep] * self.n + candidates[keep], return_index=True)
        pair_dist = dist[keep][first]
        pair_query, pair_row = np.divmod(pair, self.n)
        bounds = np.searchsorted(pair_query, np.arange(nq + 1))
        return [
            self._search_heavy(tables, q[i : i + 1], starts[i], counts[i], radius, stats)
            if heavy[i]
            else (pair_row[bounds[i] : bounds[i + 1]], pair_dist[bounds[i] : bounds[i + 1]])
            for i in range(nq)
        ]

    def _search_heavy(
        self,
        tables: _Tables,
        q: Codes,
        starts: NDArray[np.intp],
        counts: NDArray[np.intp],
        radius: int,
        stats: QueryStats,
    ) -> _Hits:
        """One query with many candidates: mark them in a bitmap, or scan when that is cheaper.

        A clustered bank piles its near-duplicates under the same chunk values, so one entry is
        a candidate through many chunks. Marking candidates in a bitmap removes the repeats
        before any code is read, and reads the remaining codes in row order.
        """
        cost = self.cost
        total = int(counts.sum())
        scan = cost.scan_cost(self.n)
        marking = self.n * cost.bitmap_ns + total * cost.mark_ns
        if marking + total * cost.unique_ns > scan and marking > scan / 4:
            stats.scanned += 1
            return _scan(self.codes, q, radius)
        nonempty = np.flatnonzero(counts)
        positions = _candidate_positions(starts[nonempty], counts[nonempty])
        distinct = _distinct_rows(tables.rows[positions], self.n)
        # Past this point the work already done is bounded by a quarter of a scan, so scanning
        # instead of verifying many distinct candidates keeps the total near one scan.
        if distinct.size * cost.unique_ns > scan:
            stats.scanned += 1
            return _scan(self.codes, q, radius)
        stats.probed += 1
        dist = hamming_distances(self.codes[distinct], q)
        keep = dist <= radius
        return distinct[keep], dist[keep]


def _merge(segments: Sequence[_Segment], cost: CostModel, *, tables: bool = True) -> _Segment:
    """One segment holding the entries of `segments`, in order."""
    codes = np.concatenate([s.codes for s in segments]) if len(segments) > 1 else segments[0].codes
    ids: NDArray[np.int64] | None = None
    contiguous = all(
        s.ids is None and s.id_base == segments[0].id_base + sum(p.n for p in segments[:i])
        for i, s in enumerate(segments)
    )
    if not contiguous:
        ids = np.concatenate([s.all_ids() for s in segments])
    return _Segment.build(
        np.ascontiguousarray(codes), segments[0].id_base, ids, cost, tables=tables
    )


@dataclass(frozen=True, slots=True)
class _State:
    """Everything a query reads; replaced whole on every change, so a query sees one version."""

    segments: tuple[_Segment, ...]
    delta: _Segment
    next_id: int

    @property
    def size(self) -> int:
        return sum(s.n for s in self.segments) + self.delta.n


def _empty_segment(id_base: int, cost: CostModel) -> _Segment:
    codes = np.empty((0, HASH_WORDS), dtype=np.uint64)
    return _Segment(codes=codes, id_base=id_base, ids=None, cost=cost)


# --- The index --------------------------------------------------------------------------------


@dataclass(slots=True)
class QueryStats:
    """How segment searches were answered since the index was built or loaded."""

    probed: int = 0  # through the chunk tables
    scanned: int = 0  # by a linear scan, because it was cheaper


class HammingIndex:
    """Exact radius search over 256-bit hashes: every entry within the radius, nothing beyond.

    Entry ids are the caller's (int64); when none are given, entries are numbered in the order
    they are added. Queries may run while another thread adds entries: each query reads one
    immutable state. Adds are serialised by a lock.
    """

    def __init__(
        self,
        *,
        delta_limit: int = 4096,
        merge_factor: int = 4,
        cost: CostModel = DEFAULT_COST,
    ) -> None:
        if delta_limit < 1 or merge_factor < 2:
            raise ValueError("delta_limit must be >= 1 and merge_factor >= 2")
        self._delta_limit = delta_limit
        self._merge_factor = merge_factor
        self._cost = cost
        self._lock = threading.Lock()
        self._state = _State(segments=(), delta=_empty_segment(0, cost), next_id=0)
        self.stats = QueryStats()

    @classmethod
    def build(
        cls,
        codes: NDArray[Any],
        ids: NDArray[Any] | Sequence[int] | None = None,
        *,
        layout: ChunkLayout | None = None,
        delta_limit: int = 4096,
        merge_factor: int = 4,
        cost: CostModel = DEFAULT_COST,
    ) -> HammingIndex:
        """An index over `codes` in one segment; `layout` overrides the size-based choice."""
        index = cls(delta_limit=delta_limit, merge_factor=merge_factor, cost=cost)
        arr = as_codes(codes)
        id_arr = _check_ids(ids, arr.shape[0])
        next_id = arr.shape[0] if id_arr is None else _next_after(id_arr, 0)
        if arr.shape[0]:
            segment = _Segment.build(arr, 0, id_arr, cost, layout)
            segments: tuple[_Segment, ...] = (segment,)
        else:
            segments = ()
        index._state = _State(segments, _empty_segment(next_id, cost), next_id)
        return index

    def __len__(self) -> int:
        return self._state.size

    @property
    def segment_sizes(self) -> tuple[int, ...]:
        """Sizes of the segments, then of the delta; for monitoring and tests."""
        state = self._state
        return (*(s.n for s in state.segments), state.delta.n)

    @property
    def layouts(self) -> tuple[ChunkLayout | None, ...]:
        """Each segment's chunk layout (None where the segment is only ever scanned)."""
        return tuple(s.layout for s in self._state.segments)

    def add(self, codes: NDArray[Any], ids: NDArray[Any] | Sequence[int] | None = None) -> None:
        """Add entries; they are visible to queries that start after this returns."""
        arr = as_codes(codes)
        id_arr = _check_ids(ids, arr.shape[0])
        if arr.shape[0] == 0:
            return
        cost = self._cost
        with self._lock:
            state = self._state
            new = _Segment(codes=arr, id_base=state.next_id, ids=id_arr, cost=cost)
            if id_arr is None:
                next_id = state.next_id + arr.shape[0]
            else:
                next_id = _next_after(id_arr, state.next_id)
            delta = _merge([state.delta, new], cost, tables=False) if state.delta.n else new
            segments = state.segments
            if delta.n >= self._delta_limit:
                segments = self._settle((*segments, _merge([delta], cost)))
                delta = _empty_segment(next_id, cost)
            self._state = _State(segments, delta, next_id)

    def _settle(self, segments: tuple[_Segment, ...]) -> tuple[_Segment, ...]:
        # Size-tiered merging: a segment is folded into its predecessor while the predecessor is
        # less than `merge_factor` times larger, so sizes fall geometrically along the list and
        # every entry is rebuilt O(log n) times over the life of the index.
        segs = list(segments)
        while len(segs) >= 2 and segs[-2].n < self._merge_factor * segs[-1].n:
            segs[-2:] = [_merge(segs[-2:], self._cost)]
        return tuple(segs)

    def compact(self) -> None:
        """Merge every segment and the delta into one segment (the fastest to query)."""
        with self._lock:
            state = self._state
            parts = [s for s in (*state.segments, state.delta) if s.n]
            if not parts:
                return
            merged = _merge(parts, self._cost)
            self._state = _State(
                (merged,), _empty_segment(state.next_id, self._cost), state.next_id
            )

    def query(self, query: str | NDArray[Any], radius: int = DEFAULT_RADIUS) -> list[Match]:
        """Every entry within `radius` of `query`, sorted by distance then entry id."""
        return _sorted_matches(*self.query_arrays(query, radius))

    def query_arrays(
        self, query: str | NDArray[Any], radius: int = DEFAULT_RADIUS
    ) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        """`query` as two arrays (entry ids, distances), skipping the Python objects."""
        _check_radius(radius)
        q = _query_code(query)
        state = self._state
        found_ids: list[NDArray[np.int64]] = []
        found_dist: list[NDArray[np.intp]] = []
        for segment in (*state.segments, state.delta):
            if segment.n == 0:
                continue
            rows, dist = segment.search(q, radius, self.stats)
            if rows.size:
                found_ids.append(segment.entry_ids(rows))
                found_dist.append(dist)
        if not found_ids:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.intp)
        return _sorted_arrays(np.concatenate(found_ids), np.concatenate(found_dist))

    def query_batch(
        self, queries: NDArray[Any] | Sequence[str], radius: int = DEFAULT_RADIUS
    ) -> list[list[Match]]:
        """`query` for each of `queries`, vectorised; the answers are identical."""
        return [_sorted_matches(*pair) for pair in self.query_batch_arrays(queries, radius)]

    def query_batch_arrays(
        self, queries: NDArray[Any] | Sequence[str], radius: int = DEFAULT_RADIUS
    ) -> list[tuple[NDArray[np.int64], NDArray[np.intp]]]:
        """`query_arrays` for each of `queries`, vectorised."""
        _check_radius(radius)
        if isinstance(queries, np.ndarray):
            q = as_codes(queries)
        else:
            q = codes_from_hex([s.strip().lower() for s in queries])
        state = self._state
        found_ids: list[list[NDArray[np.int64]]] = [[] for _ in range(q.shape[0])]
        found_dist: list[list[NDArray[np.intp]]] = [[] for _ in range(q.shape[0])]
        for segment in (*state.segments, state.delta):
            if segment.n == 0:
                continue
            for i, (rows, dist) in enumerate(segment.search_batch(q, radius, self.stats)):
                if rows.size:
                    found_ids[i].append(segment.entry_ids(rows))
                    found_dist[i].append(dist)
        return [
            _sorted_arrays(np.concatenate(ids), np.concatenate(dist))
            if ids
            else (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.intp))
            for ids, dist in zip(found_ids, found_dist, strict=True)
        ]

    # --- Snapshots ----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write a snapshot directory; it appears complete or not at all.

        The delta is written as a table-less segment, so saving never rebuilds tables.
        """
        target = Path(path)
        if target.exists() and not overwrite:
            raise FileExistsError(f"snapshot directory exists: {target}")
        state = self._state
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            segments_meta = []
            for number, segment in enumerate((*state.segments, state.delta)):
                if segment.n == 0:
                    continue
                name = f"segment-{number:04d}"
                segments_meta.append(_save_segment(segment, tmp / name, name))
            meta = {
                "format": SNAPSHOT_FORMAT,
                "version": SNAPSHOT_VERSION,
                "hash_bits": HASH_BITS,
                "next_id": state.next_id,
                "size": state.size,
                "segments": segments_meta,
            }
            _write_synced(tmp / "meta.json", json.dumps(meta, indent=2).encode())
            _fsync_dir(tmp)
            if target.exists():
                # Move the old snapshot aside first: a rename onto a non-empty directory fails.
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
                target.rename(old / "snapshot")
                tmp.rename(target)
                shutil.rmtree(old)
            else:
                tmp.rename(target)
            _fsync_dir(target.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        mmap: bool = True,
        delta_limit: int = 4096,
        merge_factor: int = 4,
        cost: CostModel = DEFAULT_COST,
    ) -> HammingIndex:
        """Open a snapshot; with `mmap` the arrays are mapped read-only, not read."""
        source = Path(path)
        try:
            meta = json.loads((source / "meta.json").read_text())
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"cannot read snapshot metadata in {source}: {exc}") from exc
        if meta.get("format") != SNAPSHOT_FORMAT or meta.get("version") != SNAPSHOT_VERSION:
            raise SnapshotError(
                f"{source} is not a {SNAPSHOT_FORMAT} snapshot of version {SNAPSHOT_VERSION}"
            )
        mode: Any = "r" if mmap else None
        segments = [_load_segment(source / s["name"], s, mode, cost) for s in meta["segments"]]
        if sum(s.n for s in segments) != meta["size"]:
            raise SnapshotError(f"{source}: segment sizes do not add up to {meta['size']}")
        index = cls(delta_limit=delta_limit, merge_factor=merge_factor, cost=cost)
        next_id = int(meta["next_id"])
        indexed = tuple(s for s in segments if s.layout is not None)
        # A table-less segment is the saved delta; it stays the delta.
        loose = [s for s in segments if s.layout is None]
        delta = _merge(loose, cost, tables=False) if loose else _empty_segment(next_id, cost)
        # Building the probe plan takes milliseconds; pay it here rather than in a first query.
        for segment in indexed:
            segment.plan(DEFAULT_RADIUS)
        index._state = _State(indexed, delta, next_id)
        return index


def _check_radius(radius: int) -> None:
    if not isinstance(radius, int) or not 0 <= radius <= HASH_BITS:
        raise ValueError(f"radius must be an integer 0..{HASH_BITS}, got {radius!r}")


def _check_ids(ids: NDArray[Any] | Sequence[int] | None, n: int) -> NDArray[np.int64] | None:
    if ids is None:
        return None
    arr = np.asarray(ids, dtype=np.int64).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"got {arr.shape[0]} ids for {n} hashes")
    return arr


def _next_after(ids: NDArray[np.int64], current: int) -> int:
    return max(current, int(ids.max()) + 1) if ids.size else current


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _save_array(path: Path, array: NDArray[Any]) -> None:
    with path.open("wb") as fh:
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _save_segment(segment: _Segment, directory: Path, name: str) -> dict[str, Any]:
    directory.mkdir()
    _save_array(directory / "codes.npy", segment.codes)
    if segment.ids is not None:
        _save_array(directory / "ids.npy", segment.ids)
    if segment.tables is not None:
        _save_array(directory / "rows.npy", segment.tables.rows)
        _save_array(directory / "offsets.npy", segment.tables.offsets)
    _fsync_dir(directory)
    return {
        "name": name,
        "n": segment.n,
        "id_base": segment.id_base,
        "has_ids": segment.ids is not None,
        "widths": None if segment.layout is None else list(segment.layout.widths),
    }


def _load_segment(directory: Path, meta: dict[str, Any], mode: Any, cost: CostModel) -> _Segment:
    def load(name: str, dtype: type[np.generic], shape: tuple[int, ...]) -> NDArray[Any]:
        try:
            array: NDArray[Any] = np.load(directory / name, mmap_mode=mode, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"cannot load {directory / name}: {exc}") from exc
        if array.dtype != dtype or array.shape != shape:
            raise SnapshotError(
                f"{directory / name}: expected {np.dtype(dtype)} {shape}, "
                f"got {array.dtype} {array.shape}"
            )
        return array

    n = int(meta["n"])
    codes = load("codes.npy", np.uint64, (n, HASH_WORDS))
    ids = load("ids.npy", np.int64, (n,)) if meta["has_ids"] else None
    if meta["widths"] is None:
        return _Segment(codes=codes, id_base=int(meta["id_base"]), ids=ids, cost=cost)
    layout = ChunkLayout(tuple(int(w) for w in meta["widths"]))
    m = len(layout.widths)
    rows = load("rows.npy", np.uint32, (m * n,))
    offsets = load("offsets.npy", _offset_dtype(m * n), (layout.table_size(),))
    # The two ends of the offsets are cheap to check and catch most mismatched files.
    if int(offsets[0]) != 0 or int(offsets[-1]) != m * n:
        raise SnapshotError(f"{directory}: offsets do not span the rows")
    tables = _Tables(layout=layout, rows=rows, offsets=offsets)
    return _Segment(codes=codes, id_base=int(meta["id_base"]), ids=ids, cost=cost, tables=tables)
