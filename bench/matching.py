"""Benchmark Safeguard's exact PDQ index against FAISS IndexBinaryMultiHash, side by side.

Usage: python bench/matching.py --n 1000000 [--queries 1000] [--distributions uniform,...]

For each bank distribution it prints one JSON object:
{"n": ..., "distribution": ..., "safeguard": {...}, "baseline": {...}, "flat_scan": {...}}.
Each side builds, saves, loads and queries in its own subprocesses, so `rss_mb` (the peak
resident memory of the process that loads the saved index and answers every query) is measured
for that side alone. The baseline is python-threatexchange's PDQIndex configuration: 16 tables
of 16 bits, nflip=1. FAISS `range_search` keeps distances strictly below its radius, so an exact
search for <= 31 passes 32. Every figure uses one core (FAISS is set to one OpenMP thread).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

RADIUS = 31
PLANTED_DISTANCES = 41  # one neighbour at every distance 0..40 per planted query
SRC = Path(__file__).resolve().parent.parent / "src"

Codes = NDArray[np.uint64]


# --- Bank generation (synthetic, random bits only) ---------------------------------------------


def random_codes(rng: np.random.Generator, n: int) -> Codes:
    return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def flip_exact(rng: np.random.Generator, codes: Codes, distances: NDArray[np.int64]) -> Codes:
    """Each row of `codes` with exactly `distances[i]` distinct random bits inverted."""
    out = codes.copy()
    for lo in range(0, codes.shape[0], 50_000):
        hi = min(lo + 50_000, codes.shape[0])
        # The first d positions of a random permutation are d distinct random bits.
        order = rng.random((hi - lo, 256)).argsort(axis=1)
        for j in range(int(distances[lo:hi].max(initial=0))):
            rows = np.flatnonzero(distances[lo:hi] > j)
            pos = order[rows, j]
            bit = np.left_shift(np.uint64(1), (63 - pos % 64).astype(np.uint64))
            out[lo + rows, pos // 64] ^= bit
    return out


def flip_some(rng: np.random.Generator, codes: Codes, max_flips: int) -> Codes:
    """Each row with up to `max_flips` random bits inverted (repeats cancel), cheaply."""
    out = codes.copy()
    counts = rng.integers(0, max_flips + 1, size=codes.shape[0])
    rows_all = np.arange(codes.shape[0])
    for j in range(max_flips):
        rows = rows_all[counts > j]
        pos = rng.integers(0, 256, size=rows.size)
        bit = np.left_shift(np.uint64(1), (63 - pos % 64).astype(np.uint64))
        out[rows, pos // 64] ^= bit
    return out


def planted(rng: np.random.Generator, queries: Codes) -> Codes:
    """One neighbour of each query at every distance 0..40."""
    repeated = np.repeat(queries, PLANTED_DISTANCES, axis=0)
    distances = np.tile(np.arange(PLANTED_DISTANCES), queries.shape[0])
    return flip_exact(rng, repeated, distances)


def make_bank(distribution: str, n: int, n_queries: int, seed: int) -> tuple[Codes, Codes]:
    """A bank of about n hashes and the queries to ask it."""
    rng = np.random.default_rng(seed)
    if distribution == "uniform":
        queries = random_codes(rng, n_queries)
        bank = np.vstack([random_codes(rng, n), planted(rng, queries)])
    elif distribution in {"clustered", "huge_clusters"}:
        # clustered: many near-duplicates around a few thousand centres. huge_clusters: the
        # issue's hostile bank (200 centres x 50,000 at 10^7), scaled to n.
        centres = 2_000 if distribution == "clustered" else 200
        centre_codes = random_codes(rng, centres)
        members = flip_some(rng, np.repeat(centre_codes, n // centres, axis=0), max_flips=48)
        # Half the queries sit near a centre (any distance 0..40), half are random with
        # planted neighbours, as in the uniform bank.
        near = flip_exact(
            rng,
            centre_codes[rng.integers(0, centres, size=n_queries // 2)],
            rng.integers(0, 41, size=n_queries // 2),
        )
        far = random_codes(rng, n_queries - n_queries // 2)
        queries = np.vstack([near, far])
        bank = np.vstack([members, planted(rng, far)])
    else:
        raise ValueError(f"unknown distribution {distribution!r}")
    return bank[rng.permutation(bank.shape[0])], queries


def truth_pairs(bank: Codes, queries: Codes) -> list[NDArray[np.int64]]:
    """Brute force with plain NumPy popcounts (no index code): row ids within RADIUS per query."""
    out = []
    for q in queries:
        dist = np.bitwise_count(bank ^ q).sum(axis=1)
        out.append(np.flatnonzero(dist <= RADIUS).astype(np.int64))
    return out


# --- Workers (each in its own process) -------------------------------------------------------


def proc_status_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_now_mb() -> float:
    return proc_status_mb("VmRSS")


def peak_rss_mb() -> float:
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across execve, so a worker
    # would report the driver's peak (the driver holds the bank and the brute-force truth).
    return proc_status_mb("VmHWM")


def score(
    results: list[NDArray[np.int64]], truth: list[NDArray[np.int64]], bank: Codes, queries: Codes
) -> dict[str, float]:
    found_true = 0
    false_matches = 0
    duplicates = 0
    for got, expected, q in zip(results, truth, queries, strict=True):
        got_set = set(got.tolist())
        duplicates += got.size - len(got_set)
        found_true += len(got_set & set(expected.tolist()))
        extra = np.array(sorted(got_set - set(expected.tolist())), dtype=np.int64)
        if extra.size:
            if (np.bitwise_count(bank[extra] ^ q).sum(axis=1) <= RADIUS).any():
                raise AssertionError("the brute-force truth missed a match")
            false_matches += extra.size
    total = sum(t.size for t in truth)
    return {
        "recall": found_true / total if total else 1.0,
        "false_matches": false_matches,
        "duplicate_matches": duplicates,
    }


def timing(times: list[float]) -> dict[str, float]:
    ms = np.array(times) * 1e3
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "max_ms": round(float(ms.max()), 4),
    }


def worker(role: str, side: str, data: Path) -> dict[str, Any]:
    if side == "safeguard":
        return safeguard_worker(role, data)
    return faiss_worker(role, side, data)


def safeguard_worker(role: str, data: Path) -> dict[str, Any]:
    sys.path.insert(0, str(SRC))
    from safeguard.matching.index import HammingIndex

    snapshot = data / "safeguard.snapshot"
    if role == "build":
        bank = np.load(data / "bank.npy")
        start = time.perf_counter()
        index = HammingIndex.build(bank)
        build_s = time.perf_counter() - start
        index.save(snapshot, overwrite=True)
        layouts = [None if lay is None else list(lay.widths) for lay in index.layouts]
        return {"build_s": round(build_s, 3), "layouts": layouts}
    queries = np.load(data / "queries.npy")
    import_rss = rss_now_mb()
    start = time.perf_counter()
    index = HammingIndex.load(snapshot)
    load_s = time.perf_counter() - start
    # Timed through `query_arrays`, which returns arrays as FAISS's range_search does; the
    # list of Match tuples that `query` builds on top is timed separately.
    results, times = [], []
    for q in queries:
        t0 = time.perf_counter()
        ids, _ = index.query_arrays(q, RADIUS)
        times.append(time.perf_counter() - t0)
        results.append(ids)
    rss_after_single = rss_now_mb()
    list_times = []
    for q in queries:
        t0 = time.perf_counter()
        index.query(q, RADIUS)
        list_times.append(time.perf_counter() - t0)
    start = time.perf_counter()
    batch = index.query_batch_arrays(queries, RADIUS)
    batch_s = time.perf_counter() - start
    if not all(np.array_equal(ids, r) for (ids, _), r in zip(batch, results, strict=True)):
        raise AssertionError("query_batch_arrays disagrees with query_arrays")
    np.save(data / "safeguard_times.npy", np.array(times))
    stats = index.stats
    peak = peak_rss_mb()
    save_results(data / "safeguard", results)
    return {
        "figures": {
            **timing(times),
            "p50_ms_match_list": timing(list_times)["p50_ms"],
            "p99_ms_match_list": timing(list_times)["p99_ms"],
            "batch_qps": round(len(queries) / batch_s, 1),
            "load_s": round(load_s, 4),
            "rss_mb": round(peak, 1),
            "import_rss_mb": round(import_rss, 1),
            "rss_after_single_queries_mb": round(rss_after_single, 1),
            "snapshot_mb": round(dir_size(snapshot) / 2**20, 1),
            "segment_searches": {"probed": stats.probed, "scanned": stats.scanned},
        },
    }


def faiss_worker(role: str, side: str, data: Path) -> dict[str, Any]:
    import faiss

    faiss.omp_set_num_threads(1)
    path = data / "faiss.index"
    if role == "build":
        bank = np.ascontiguousarray(np.load(data / "bank.npy").astype(">u8").view(np.uint8))
        start = time.perf_counter()
        index = faiss.IndexBinaryMultiHash(256, 16, 16)
        index.nflip = 1
        index.add(bank)
        build_s = time.perf_counter() - start
        faiss.write_index_binary(index, str(path))
        return {"build_s": round(build_s, 3)}
    queries = np.ascontiguousarray(np.load(data / "queries.npy").astype(">u8").view(np.uint8))
    import_rss = rss_now_mb()
    if side == "flat":
        # The scan every index must beat: built in place, only its query times matter.
        bank = np.ascontiguousarray(np.load(data / "bank.npy").astype(">u8").view(np.uint8))
        index = faiss.IndexBinaryFlat(256)
        index.add(bank)
        load_s = float("nan")
    else:
        start = time.perf_counter()
        index = faiss.read_index_binary(str(path))
        load_s = time.perf_counter() - start
    results, times = [], []
    for i in range(queries.shape[0]):
        t0 = time.perf_counter()
        lims, _, ids = index.range_search(queries[i : i + 1], RADIUS + 1)
        times.append(time.perf_counter() - t0)
        results.append(np.asarray(ids[lims[0] : lims[1]], dtype=np.int64))
    start = time.perf_counter()
    index.range_search(queries, RADIUS + 1)
    batch_s = time.perf_counter() - start
    np.save(data / f"{side}_times.npy", np.array(times))
    peak = peak_rss_mb()
    save_results(data / side, results)
    return {
        "figures": {
            **timing(times),
            "batch_qps": round(len(queries) / batch_s, 1),
            "load_s": round(load_s, 4),
            "rss_mb": round(peak, 1),
            "import_rss_mb": round(import_rss, 1),
        },
    }


def save_results(prefix: Path, results: list[NDArray[np.int64]]) -> None:
    """Every query's ids in one array plus the offsets between queries, as FAISS returns them."""
    lims = np.concatenate([[0], np.cumsum([r.size for r in results])])
    np.save(f"{prefix}_ids.npy", np.concatenate(results) if results else np.empty(0, np.int64))
    np.save(f"{prefix}_lims.npy", lims)


def load_results(prefix: Path) -> list[NDArray[np.int64]]:
    ids = np.load(f"{prefix}_ids.npy")
    lims = np.load(f"{prefix}_lims.npy")
    return [ids[lims[i] : lims[i + 1]].astype(np.int64) for i in range(lims.size - 1)]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- Driver ---------------------------------------------------------------------------------


def run_worker(role: str, side: str, data: Path, timeout: float) -> dict[str, Any]:
    out = data / f"{side}-{role}.json"
    cmd = [sys.executable, __file__, "--worker", role, "--side", side, "--data", str(data)]
    subprocess.run(cmd, check=True, timeout=timeout, stdout=out.open("w"))
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def bench_distribution(
    distribution: str, n: int, n_queries: int, seed: int, workdir: Path, timeout: float
) -> dict[str, Any]:
    data = workdir / distribution
    data.mkdir(parents=True, exist_ok=True)
    log(f"{distribution}: generating the bank")
    bank, queries = make_bank(distribution, n, n_queries, seed)
    np.save(data / "bank.npy", bank)
    np.save(data / "queries.npy", queries)
    log(f"{distribution}: brute force truth for {len(queries)} queries over {len(bank)} hashes")
    truth = truth_pairs(bank, queries)

    report: dict[str, Any] = {"n": int(bank.shape[0]), "distribution": distribution}
    for side, key in (("safeguard", "safeguard"), ("faiss", "baseline")):
        log(f"{distribution}: {side} build")
        built = run_worker("build", side, data, timeout)
        log(f"{distribution}: {side} load and query")
        served = run_worker("serve", side, data, timeout)
        results = load_results(data / side)
        report[key] = {**score(results, truth, bank, queries), **served["figures"], **built}
    log(f"{distribution}: FAISS IndexBinaryFlat scan")
    flat = run_worker("serve", "flat", data, timeout)
    flat_results = load_results(data / "flat")
    flat_figures = flat["figures"]
    report["flat_scan"] = {
        **score(flat_results, truth, bank, queries),
        **{k: flat_figures[k] for k in ("p50_ms", "p99_ms", "max_ms")},
    }
    # The hostile-bank goal: no Safeguard query slower than a flat scan of the same bank.
    ours = np.load(data / "safeguard_times.npy")
    scan = np.load(data / "flat_times.npy")
    report["safeguard"]["queries_slower_than_flat_scan"] = int((ours > scan).sum())
    report["safeguard"]["p50_speedup_vs_baseline"] = round(
        report["baseline"]["p50_ms"] / report["safeguard"]["p50_ms"], 2
    )
    report["queries"] = int(queries.shape[0])
    report["expected_matches"] = int(sum(t.size for t in truth))
    return report


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="random or clustered hashes")
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--distributions", default="uniform,clustered,huge_clusters")
    parser.add_argument("--seed", type=int, default=20251124)
    parser.add_argument("--timeout", type=float, default=1_800, help="seconds per subprocess")
    parser.add_argument("--workdir", type=Path, help="kept when given; a temporary dir if not")
    parser.add_argument("--worker", choices=["build", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--side", choices=["safeguard", "faiss", "flat"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(worker(args.worker, args.side, args.data)))
        return

    log(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpus")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-matching-"))
    try:
        for distribution in args.distributions.split(","):
            report = bench_distribution(
                distribution, args.n, args.queries, args.seed, workdir, args.timeout
            )
            print(json.dumps(report), flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
