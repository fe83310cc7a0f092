"""The Hamming index returns exactly what brute force returns, however the bits are spread."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from safeguard.matching.index import (
    DEFAULT_RADIUS,
    ChunkLayout,
    Codes,
    CostModel,
    HammingIndex,
    Match,
    SnapshotError,
    as_codes,
    brute_force,
    code_to_hex,
    codes_from_hex,
    hamming_distances,
)
from safeguard.matching.signal_types import PDQ

# The project's conftest adds an autouse function-scoped fixture that these pure tests ignore.
PURE = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)

# Scans made ruinously expensive: every query goes through the chunk tables, even on the small
# banks tests use. The default model would scan them, which would leave the tables untested.
FORCE_TABLES = CostModel(scan_ns=1e9, query_overhead_ns=0.0)

# Layouts with small tables (fast to build) that still cover the interesting cases: equal and
# unequal widths, chunks straddling 64-bit words, more chunks than the radius (radius 0 per
# chunk, many chunks not probed at all) and fewer.
LAYOUTS = [
    ChunkLayout.even(16),
    ChunkLayout.even(19),
    ChunkLayout.even(32),
    ChunkLayout((8,) * 8 + (16,) * 12),
    ChunkLayout((13, 20, 7, 17, 19, 12, 18, 11, 20, 9, 16, 15, 20, 14, 19, 14, 12)),
]

# --- Helpers ------------------------------------------------------------------------------------


def random_codes(rng: np.random.Generator, n: int) -> Codes:
    return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def flip(code: Codes, positions: list[int]) -> Codes:
    """`code` with the given bit positions (0 = most significant) inverted."""
    value = int.from_bytes(code.astype(">u8").tobytes(), "big")
    for p in positions:
        value ^= 1 << (255 - p)
    return np.frombuffer(value.to_bytes(32, "big"), dtype=">u8").astype(np.uint64)


def chunk_bits(layout: ChunkLayout) -> list[list[int]]:
    return [list(range(s, s + w)) for s, w in zip(layout.starts, layout.widths, strict=True)]


# Each spread picks `d` distinct bit positions to flip, given the layout and the query radius.
Spread = Callable[[int, ChunkLayout, int, np.random.Generator], list[int]]


def spread_random(d: int, layout: ChunkLayout, radius: int, rng: np.random.Generator) -> list[int]:
    return [int(p) for p in rng.choice(256, size=d, replace=False)]


def spread_one_chunk(
    d: int, layout: ChunkLayout, radius: int, rng: np.random.Generator
) -> list[int]:
    # Concentrated: fill one chunk, spilling into the next ones in bit order.
    start = layout.starts[int(rng.integers(len(layout.widths)))]
    return [(start + i) % 256 for i in range(d)]


def spread_even(d: int, layout: ChunkLayout, radius: int, rng: np.random.Generator) -> list[int]:
    # Round robin over the chunks: every chunk's distance is floor or ceil of d / m.
    chunks = chunk_bits(layout)
    order = [int(k) for k in rng.permutation(len(chunks))]
    picked: list[int] = []
    depth = 0
    while len(picked) < d:
        for k in order:
            if depth < len(chunks[k]) and len(picked) < d:
                picked.append(chunks[k][depth])
        depth += 1
    return picked


def spread_edge(d: int, layout: ChunkLayout, radius: int, rng: np.random.Generator) -> list[int]:
    # The adversary of the pigeonhole argument: each chunk gets one flip more than its search
    # radius (so no chunk alone would find the entry), as far as d allows, then the rest.
    chunks = chunk_bits(layout)
    quotas = [max(rho + 1, 0) for rho in layout.search_radii(1000, radius)]
    picked: list[int] = []
    for k in (int(k) for k in rng.permutation(len(chunks))):
        take = min(quotas[k], len(chunks[k]), d - len(picked))
        picked.extend(int(p) for p in rng.choice(chunks[k], size=take, replace=False))
    rest = [p for p in range(256) if p not in set(picked)]
    picked.extend(int(p) for p in rng.choice(rest, size=d - len(picked), replace=False))
    return picked


def spread_word_edges(
    d: int, layout: ChunkLayout, radius: int, rng: np.random.Generator
) -> list[int]:
    # Bits next to the 64-bit word boundaries, where chunk extraction splices two words.
    edges = [p for b in (0, 64, 128, 192) for p in range(b - 6, b + 6) if 0 <= p < 256]
    extra = [p for p in range(256) if p not in edges]
    pool = edges + [int(p) for p in rng.permutation(extra)]
    return pool[:d]


SPREADS: dict[str, Spread] = {
    "random": spread_random,
    "one_chunk": spread_one_chunk,
    "even": spread_even,
    "edge": spread_edge,
    "word_edges": spread_word_edges,
}


def planted_bank(
    seed: int, layout: ChunkLayout, spread: Spread, radius: int, queries: int, background: int
) -> tuple[Codes, Codes]:
    """Random background plus, for each random query, one neighbour at every distance 0..40."""
    rng = np.random.default_rng(seed)
    query_codes = random_codes(rng, queries)
    planted = [flip(q, spread(d, layout, radius, rng)) for q in query_codes for d in range(41)]
    bank = np.vstack([random_codes(rng, background), np.array(planted, dtype=np.uint64)])
    return bank[rng.permutation(bank.shape[0])], query_codes


# --- The reference ------------------------------------------------------------------------------


@PURE
@given(st.binary(min_size=32, max_size=32), st.lists(st.binary(min_size=32, max_size=32)))
def test_brute_force_agrees_with_python_integers(query: bytes, entries: list[bytes]) -> None:
    codes = as_codes(np.frombuffer(b"".join(entries), dtype=np.uint8).reshape(-1, 32))
    q = int.from_bytes(query, "big")
    expected = sorted(
        (bin(q ^ int.from_bytes(e, "big")).count("1"), i) for i, e in enumerate(entries)
    )

    got = brute_force(codes, query.hex(), radius=128)

    assert [(m.distance, m.entry_id) for m in got] == [(d, i) for d, i in expected if d <= 128]


@PURE
@given(st.lists(st.integers(1, 26), min_size=1, max_size=40), st.integers(0, 256))
def test_search_radii_satisfy_the_pigeonhole_bound(widths: list[int], radius: int) -> None:
    # Exactness needs sum(rho_k + 1) > radius: an entry with every chunk beyond its search
    # radius is then necessarily beyond `radius`. Equality with radius + 1 means no waste.
    fitted: list[int] = []
    for w in widths:
        fitted.append(min(w, 256 - sum(fitted)))
        if sum(fitted) == 256:
            break
    while sum(fitted) < 256:
        fitted.append(min(16, 256 - sum(fitted)))
    radii = ChunkLayout(tuple(fitted)).search_radii(10_000, radius)

    assert sum(rho + 1 for rho in radii) == radius + 1
    assert max(radii) - min(radii) <= 1


# --- Exactness ----------------------------------------------------------------------------------


@settings(PURE, max_examples=150)
@given(
    seed=st.integers(0, 2**32 - 1),
    layout=st.sampled_from(LAYOUTS),
    spread=st.sampled_from(sorted(SPREADS)),
    radius=st.sampled_from([31, 31, 0, 1, 15, 16, 30, 32, 40]),
)
def test_index_equals_brute_force(seed: int, layout: ChunkLayout, spread: str, radius: int) -> None:
    bank, queries = planted_bank(seed, layout, SPREADS[spread], radius, queries=3, background=500)
    index = HammingIndex.build(bank, layout=layout, cost=FORCE_TABLES)

    for q in queries:
        expected = brute_force(bank, q, radius)
        assert index.query(q, radius) == expected
        # Every planted neighbour within the radius is among them.
        assert sum(1 for m in expected if m.distance <= radius) >= radius + 1 or radius > 40
    assert index.query_batch(queries, radius) == [brute_force(bank, q, radius) for q in queries]
    assert index.stats.scanned == 0


@settings(PURE, max_examples=30)
@given(seed=st.integers(0, 2**32 - 1), spread=st.sampled_from(sorted(SPREADS)))
def test_automatic_layout_equals_brute_force(seed: int, spread: str) -> None:
    layout = ChunkLayout.for_size(20_000)
    bank, queries = planted_bank(seed, layout, SPREADS[spread], 31, queries=4, background=2_000)
    index = HammingIndex.build(bank, cost=FORCE_TABLES)

    assert index.layouts == (layout,)
    for radius in (31, 40):
        assert index.query_batch(queries, radius) == [brute_force(bank, q, radius) for q in queries]


def test_every_planted_distance_is_found_with_its_distance() -> None:
    layout = ChunkLayout.even(16)
    bank, queries = planted_bank(7, layout, spread_edge, 31, queries=5, background=1_000)
    index = HammingIndex.build(bank, layout=layout, cost=FORCE_TABLES)

    for q in queries:
        distances = sorted(m.distance for m in index.query(q))
        assert distances == list(range(32))


def test_query_accepts_hex_and_bytes_forms() -> None:
    bank = random_codes(np.random.default_rng(3), 300)
    index = HammingIndex.build(bank, layout=ChunkLayout.even(16), cost=FORCE_TABLES)
    q = bank[17]

    by_words = index.query(q)
    by_hex = index.query(code_to_hex(q).upper())
    by_bytes = index.query(np.frombuffer(q.astype(">u8").tobytes(), dtype=np.uint8))

    assert by_words == by_hex == by_bytes == [Match(17, 0)]
    assert index.query_batch([code_to_hex(q)]) == [[Match(17, 0)]]


def test_results_sorted_by_distance_then_id_with_caller_ids() -> None:
    rng = np.random.default_rng(5)
    q = random_codes(rng, 1)[0]
    bank = np.array([flip(q, [3, 9]), flip(q, [1]), flip(q, [100, 200]), q])
    index = HammingIndex.build(bank, ids=[40, 30, 20, 10], cost=FORCE_TABLES)

    assert index.query(q) == [Match(10, 0), Match(30, 1), Match(20, 2), Match(40, 2)]
    assert index.query(q, radius=1) == [Match(10, 0), Match(30, 1)]
    ids, distances = index.query_arrays(q)
    assert ids.tolist() == [10, 30, 20, 40]
    assert distances.tolist() == [0, 1, 2, 2]
    [(batch_ids, batch_distances)] = index.query_batch_arrays(q[None, :])
    assert batch_ids.tolist() == [10, 30, 20, 40]
    assert batch_distances.tolist() == [0, 1, 2, 2]


def test_empty_index_and_bad_radius() -> None:
    index = HammingIndex()

    assert index.query("0" * 64) == []
    assert [a.size for a in index.query_arrays("0" * 64)] == [0, 0]
    assert index.query_batch(np.zeros((2, 4), dtype=np.uint64)) == [[], []]
    assert len(index) == 0
    with pytest.raises(ValueError, match="radius"):
        index.query("0" * 64, radius=-1)
    with pytest.raises(ValueError, match="radius"):
        index.query("0" * 64, radius=257)


# --- Degenerate banks ---------------------------------------------------------------------------


def clustered_bank(seed: int, centres: int, per_centre: int, max_flips: int) -> Codes:
    rng = np.random.default_rng(seed)
    centre_codes = random_codes(rng, centres)
    bits = np.unpackbits(centre_codes.astype(">u8").view(np.uint8), axis=1)
    members = np.repeat(bits, per_centre, axis=0)
    flips = rng.integers(0, max_flips + 1, size=members.shape[0])
    noise = rng.random(members.shape).argsort(axis=1) < flips[:, None]
    packed = np.packbits(members ^ noise, axis=1)
    return as_codes(packed)


def test_clustered_bank_falls_back_to_scan_and_stays_exact() -> None:
    bank = clustered_bank(11, centres=8, per_centre=5_000, max_flips=40)
    rng = np.random.default_rng(12)
    near = np.array(
        [
            flip(bank[i], [int(p) for p in rng.choice(256, 20, replace=False)])
            for i in range(0, bank.shape[0], 5_000)
        ]
    )
    far = random_codes(rng, 4)
    index = HammingIndex.build(bank)

    assert index.layouts[0] is not None
    for q in near:
        assert index.query(q) == brute_force(bank, q)
    assert index.stats.scanned == len(near)
    for q in far:
        assert index.query(q) == []
    assert index.stats.probed == len(far)
    assert index.query_batch(np.vstack([near, far])) == [
        brute_force(bank, q) for q in np.vstack([near, far])
    ]


@pytest.mark.parametrize(
    "cost",
    [
        CostModel(),
        # Every query heavy, and scanning never cheaper: the candidate bitmap answers all.
        CostModel(candidate_ns=1e6, scan_ns=1e9, query_overhead_ns=0.0),
        # Everything is scanned.
        CostModel(scan_ns=1e-9),
    ],
    ids=["default", "bitmap", "scan"],
)
def test_every_strategy_is_exact_on_a_clustered_bank(cost: CostModel) -> None:
    bank = clustered_bank(13, centres=4, per_centre=3_000, max_flips=48)
    rng = np.random.default_rng(14)
    queries = np.vstack(
        [
            [flip(bank[i], [int(p) for p in rng.choice(256, d, replace=False)])]
            for i, d in zip(range(0, 12_000, 1_000), range(0, 48, 4), strict=True)
        ]
        + [random_codes(rng, 3)]
    )
    index = HammingIndex.build(bank, layout=ChunkLayout.even(16), cost=cost)

    for radius in (31, 40):
        expected = [brute_force(bank, q, radius) for q in queries]
        assert [index.query(q, radius) for q in queries] == expected
        assert index.query_batch(queries, radius) == expected
    assert index.stats.probed + index.stats.scanned == 4 * len(queries)
    if cost.scan_ns == 1e9:
        assert index.stats.scanned == 0


def test_identical_entries() -> None:
    code = random_codes(np.random.default_rng(1), 1)
    bank = np.repeat(code, 3_000, axis=0)
    index = HammingIndex.build(bank, layout=ChunkLayout.even(16), cost=FORCE_TABLES)

    assert [m.distance for m in index.query(code[0])] == [0] * 3_000
    assert index.query(flip(code[0], list(range(32)))) == []


def test_tiny_bank_is_scanned_without_tables() -> None:
    bank = random_codes(np.random.default_rng(2), 50)
    index = HammingIndex.build(bank)

    assert index.layouts == (None,)
    assert index.query(bank[4]) == [Match(4, 0)]
    assert index.stats.scanned == 1


# --- Incremental adds ---------------------------------------------------------------------------


@settings(PURE, max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    batches=st.lists(st.integers(1, 400), min_size=1, max_size=12),
    delta_limit=st.sampled_from([1, 64, 300, 4096]),
    merge_factor=st.integers(2, 5),
    force=st.booleans(),
)
def test_incremental_adds_equal_a_fresh_build(
    seed: int, batches: list[int], delta_limit: int, merge_factor: int, force: bool
) -> None:
    rng = np.random.default_rng(seed)
    layout = ChunkLayout.for_size(1_000)
    cost = FORCE_TABLES if force else CostModel()
    bank, queries = planted_bank(seed, layout, spread_random, 31, queries=2, background=0)
    bank = np.vstack([bank, random_codes(rng, sum(batches))])
    index = HammingIndex(delta_limit=delta_limit, merge_factor=merge_factor, cost=cost)
    start = 0
    for size in [bank.shape[0] - sum(batches), *batches]:
        index.add(bank[start : start + size])
        start += size

    fresh = HammingIndex.build(bank, cost=cost)
    assert len(index) == bank.shape[0] == sum(index.segment_sizes)
    for radius in (31, 40):
        assert index.query_batch(queries, radius) == fresh.query_batch(queries, radius)
        assert [index.query(q, radius) for q in queries] == fresh.query_batch(queries, radius)
    index.compact()
    assert index.segment_sizes == (bank.shape[0], 0)
    assert index.query_batch(queries) == fresh.query_batch(queries)


def test_adds_keep_caller_ids_and_number_the_rest() -> None:
    rng = np.random.default_rng(9)
    a, b, c = random_codes(rng, 3), random_codes(rng, 2), random_codes(rng, 2)
    index = HammingIndex.build(a, cost=FORCE_TABLES, delta_limit=2)
    index.add(b, ids=[100, 50])
    index.add(c)

    assert [index.query(x)[0].entry_id for x in (*a, *b, *c)] == [0, 1, 2, 100, 50, 101, 102]


def test_queries_run_while_entries_are_added() -> None:
    rng = np.random.default_rng(4)
    base = random_codes(rng, 2_000)
    extra = random_codes(rng, 2_000)
    index = HammingIndex.build(base, cost=FORCE_TABLES, delta_limit=100, merge_factor=2)
    errors: list[BaseException] = []

    def query_loop() -> None:
        try:
            for i in range(300):
                assert index.query(base[i % 2_000])[0] == Match(i % 2_000, 0)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=query_loop)
    thread.start()
    for start in range(0, 2_000, 50):
        index.add(extra[start : start + 50])
    thread.join()

    assert errors == []
    assert index.query(extra[-1]) == [Match(3_999, 0)]


# --- Snapshots ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mmap", [True, False])
def test_snapshot_round_trip_gives_identical_answers(tmp_path: Path, mmap: bool) -> None:
    layout = ChunkLayout.even(16)
    bank, queries = planted_bank(21, layout, spread_even, 31, queries=4, background=3_000)
    index = HammingIndex.build(bank[:3_000], ids=np.arange(3_000) * 7, cost=FORCE_TABLES)
    index.add(bank[3_000:3_100])  # Lands in the delta, saved as a table-less segment.
    index.add(bank[3_100:], ids=np.arange(bank.shape[0] - 3_100) + 50_000)
    expected = [index.query_batch(queries, r) for r in (0, 31, 40)]

    index.save(tmp_path / "snap")
    loaded = HammingIndex.load(tmp_path / "snap", mmap=mmap, cost=FORCE_TABLES)

    assert [loaded.query_batch(queries, r) for r in (0, 31, 40)] == expected
    assert [[loaded.query(q, 31) for q in queries]] == [expected[1]]
    assert len(loaded) == len(index)
    codes = loaded._state.segments[0].codes
    assert isinstance(codes, np.memmap) == mmap
    # A loaded index keeps growing and numbering where the saved one stopped.
    loaded.add(bank[:1])
    assert loaded.query(bank[0], 0)[-1].entry_id == 50_000 + bank.shape[0] - 3_100


def test_snapshot_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    bank = random_codes(np.random.default_rng(1), 100)
    HammingIndex.build(bank).save(tmp_path / "snap")

    with pytest.raises(FileExistsError):
        HammingIndex.build(bank[:10]).save(tmp_path / "snap")
    HammingIndex.build(bank[:10]).save(tmp_path / "snap", overwrite=True)

    assert len(HammingIndex.load(tmp_path / "snap")) == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


def test_snapshot_of_an_empty_index(tmp_path: Path) -> None:
    HammingIndex().save(tmp_path / "empty")

    assert HammingIndex.load(tmp_path / "empty").query("f" * 64) == []


def test_damaged_snapshots_are_refused(tmp_path: Path) -> None:
    bank = random_codes(np.random.default_rng(1), 500)
    HammingIndex.build(bank, cost=FORCE_TABLES).save(tmp_path / "snap")
    meta_path = tmp_path / "snap" / "meta.json"
    meta = json.loads(meta_path.read_text())

    with pytest.raises(SnapshotError, match="metadata"):
        HammingIndex.load(tmp_path / "missing")
    meta_path.write_text(json.dumps({**meta, "version": 99}))
    with pytest.raises(SnapshotError, match="version"):
        HammingIndex.load(tmp_path / "snap")
    meta_path.write_text(json.dumps(meta))
    offsets = tmp_path / "snap" / "segment-0000" / "offsets.npy"
    np.save(offsets, np.zeros(3, dtype=np.uint32))
    with pytest.raises(SnapshotError, match=r"offsets\.npy"):
        HammingIndex.load(tmp_path / "snap")


# --- Hash conversions and PDQ end to end --------------------------------------------------------


def test_hex_conversions_round_trip() -> None:
    codes = random_codes(np.random.default_rng(8), 20)
    hexes = [code_to_hex(c) for c in codes]

    assert np.array_equal(codes_from_hex(hexes), codes)
    assert np.array_equal(as_codes(codes_from_hex(hexes).astype(">u8").view(np.uint8)), codes)
    assert hexes[0] == codes[0].astype(">u8").tobytes().hex()
    with pytest.raises(ValueError, match="hash 1: expected 64"):
        codes_from_hex([hexes[0], hexes[1][:-1]])
    with pytest.raises(ValueError, match="hash 2: not hexadecimal"):
        codes_from_hex([hexes[0], hexes[1], "g" * 64])
    # bytes.fromhex alone would accept this and shift every later hash by a byte.
    with pytest.raises(ValueError, match="hash 1: not hexadecimal"):
        codes_from_hex([hexes[0], hexes[1][:62] + "  ", hexes[2]])
    with pytest.raises(ValueError, match="expected"):
        as_codes(np.zeros((2, 3), dtype=np.uint64))


def test_index_distance_agrees_with_pdq_distance() -> None:
    codes = random_codes(np.random.default_rng(6), 50)
    hexes = [code_to_hex(c) for c in codes]

    got = hamming_distances(codes, codes[0]).tolist()

    assert got == [PDQ.distance(hexes[0], h) for h in hexes]


def test_pdq_hashes_of_edited_images_are_found() -> None:
    def picture(seed: int) -> Image.Image:
        rng = np.random.default_rng(seed)
        image = Image.new("RGB", (200, 160), tuple(int(v) for v in rng.integers(0, 255, 3)))
        draw = ImageDraw.Draw(image)
        for _ in range(6):
            x, y = (int(v) for v in rng.integers(0, 160, 2))
            draw.ellipse(
                (x, y, x + 40, y + 30), fill=tuple(int(v) for v in rng.integers(0, 255, 3))
            )
        return image

    def pdq(image: Image.Image) -> str:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
        return PDQ.hash_bytes(out.getvalue()).hash

    originals = [pdq(picture(seed)) for seed in range(40)]
    index = HammingIndex.build(codes_from_hex(originals), cost=FORCE_TABLES)
    edited = picture(13).resize((180, 144))

    matches = index.query(pdq(edited))

    assert [m.entry_id for m in matches] == [13]
    assert matches[0].distance == PDQ.distance(pdq(edited), originals[13])
    assert index.query(pdq(picture(99))) == []


def test_default_radius_is_pdq_threshold() -> None:
    assert PDQ.default_threshold == DEFAULT_RADIUS
