"""Benchmark the audit log: append throughput, sequencing lag and proofs at scale.

    .venv/bin/python bench/audit.py [--databases sqlite,postgres] [--events 100000]
        [--writers 1,2,4] [--seconds 10] [--lag-seconds 30] [--lag-rate 30]
        [--intervals 1.0] [--before /tmp/before/src] [--parts append,lag,proofs]

- append: events/s with 1, 2 and 4 concurrent writers, each doing small transactions of
  `--per-tx` `audit_record` calls, for `--seconds`. SQLite writers are threads of one process
  (the embedded default is one waitress process); PostgreSQL writers are processes. With
  `--before SRC` the same runs are repeated with the code at SRC first on PYTHONPATH (the old
  hash chain with its head lock, commit d8fb523).
- lag: a real `safeguard worker --interval I` runs beside a writer committing `--lag-rate`
  transactions/s for `--lag-seconds`; another connection polls every 20 ms for leaf indices and
  the lag of each event is from its commit to the poll that first sees its leaf.
- proofs: `--events` events bulk-inserted unsequenced, `audit_sequence()` timed over them, then
  `--proofs` proofs of random events generated and checked.

Every database is fresh: a temporary var dir for SQLite, a `bench_audit_<pid>_<n>` database on
127.0.0.1:5432 for PostgreSQL, dropped afterwards. Prints one JSON object. Synthetic data only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
_counter = 0


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@contextlib.contextmanager
def database(kind: str, src: str | None = None) -> Iterator[dict[str, str]]:
    """A fresh, migrated database and the environment that points Safeguard at it."""
    global _counter
    _counter += 1
    with tempfile.TemporaryDirectory() as var:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SAFEGUARD_") and k not in {"DATABASE_URL", "PYTHONPATH"}
        }
        env.update({"SAFEGUARD_ENV": "development", "SAFEGUARD_VAR_DIR": var})
        if src:
            env["PYTHONPATH"] = src
        name = None
        if kind == "postgres":
            import psycopg

            name = f"bench_audit_{os.getpid()}_{_counter}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"
        try:
            safeguard(env, "migrate", "--verbosity", "0")
            yield env
        finally:
            if name is not None:
                import psycopg

                with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def safeguard(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run one `safeguard` command to completion; its output, stripped."""
    done = subprocess.run(
        [sys.executable, "-m", "safeguard.config.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    )
    return done.stdout.strip()


def role(env: dict[str, str], name: str, **options: Any) -> subprocess.Popen[str]:
    """Run this script as a child in `env` (its own Django setup) playing one part."""
    argv = [sys.executable, str(HERE), "--role", name]
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)


def result(child: subprocess.Popen[str], timeout: float = 3600) -> dict[str, Any]:
    out, _ = child.communicate(timeout=timeout)
    if child.returncode != 0:
        raise RuntimeError(f"child failed ({child.returncode}): {out[-2000:]}")
    return dict(json.loads(out.strip().splitlines()[-1]))


# --- the parts, run in children -------------------------------------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safeguard.config.settings")
    import django

    django.setup()


def _record(n: int, per_tx: int) -> Any:
    from safeguard.audit.events import AuditEventType, AuditSource
    from safeguard.audit.services import audit_record

    event = None
    for k in range(per_tx):
        event = audit_record(
            event_type=AuditEventType.CASE_TRIAGED,
            actor=None,
            source=AuditSource.TASK,
            target_type="case",
            target_id=n,
            data={"priority": "P2", "rule": f"rule-{k}", "policy": "default-1"},
        )
    return event


def role_writer(args: argparse.Namespace) -> None:
    """`--threads` writers, each committing transactions of `--per-tx` events from `--start`
    to `--end` (wall clock, so that every process runs over the same window)."""
    _django()
    from django.db import connection, transaction

    counts: list[int] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def write(seed: int) -> None:
        n, mine = 0, []
        while time.time() < args.start:
            time.sleep(0.001)
        while time.time() < args.end:
            t0 = time.perf_counter()
            with transaction.atomic():
                _record(seed * 10_000_000 + n, args.per_tx)
            mine.append(time.perf_counter() - t0)
            n += 1
        connection.close()
        with lock:
            counts.append(n)
            latencies.extend(mine)

    # Warm the connection and imports before the window opens.
    with transaction.atomic():
        _record(0, 1)
    connection.close()
    threads = [threading.Thread(target=write, args=(i,)) for i in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    from safeguard.audit import services

    out = {"transactions": sum(counts), "latencies_ms": [x * 1000 for x in latencies]}
    print(json.dumps({**out, "code": services.__file__}))


def _poll(until: float, done_file: Path) -> dict[int, float]:
    """Note (wall clock) when each event's leaf index first appears, polling every 20 ms,
    until the writer has said how many it wrote and all of them are seen, or `until`."""
    from django.db import connection

    from safeguard.audit.models import AuditEvent

    seen: dict[int, float] = {}
    last = 0
    while time.time() < until:
        # One writer commits in id order and the sequencer takes committed events in id
        # order, so the sequenced events are always a prefix of the ids.
        rows = AuditEvent.objects.filter(id__gt=last, leaf_index__isnull=False).values_list(
            "id", flat=True
        )
        now = time.time()
        for event_id in rows:
            seen.setdefault(event_id, now)
            last = max(last, event_id)
        if done_file.exists() and len(seen) >= int(done_file.read_text() or -1):
            break
        time.sleep(0.02)
    connection.close()
    return seen


def role_poll(args: argparse.Namespace) -> None:
    _django()
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    seen = _poll(args.end, Path(args.done_file))
    tasks = DBTaskResult.objects.filter(task_path__endswith="audit_sequence_task")
    by_status = dict(tasks.values_list("status").annotate(n=Count("id")))
    empty = tasks.filter(return_value="sequenced 0 events").count()
    print(json.dumps({"seen": seen, "by_status": by_status, "found_nothing": empty}))


def role_lag(args: argparse.Namespace) -> None:
    """Commit `--rate` transactions/s for `--seconds`, noting each commit's wall-clock time.
    The poller is another process (`--poller process`) or a thread of this one."""
    _django()
    from django.db import connection, transaction

    done_file = Path(args.done_file)
    seen: dict[int, float] = {}
    poller = None
    if args.poller == "thread":
        poller = threading.Thread(
            target=lambda: seen.update(_poll(args.end, done_file)), daemon=True
        )
        poller.start()
    committed: dict[int, float] = {}
    period = 1.0 / args.rate
    start = time.time()
    n = 0
    while time.time() - start < args.seconds:
        stamp: list[float] = []
        with transaction.atomic():
            # Registered first, so it runs right after the commit, before the enqueue.
            transaction.on_commit(lambda stamp=stamp: stamp.append(time.time()))
            event = _record(n, 1)
        committed[event.pk] = stamp[0]
        n += 1
        time.sleep(max(0.0, start + n * period - time.time()))
    rate = n / (time.time() - start)
    connection.close()
    done_file.write_text(str(n))
    if poller is not None:
        poller.join()
    print(json.dumps({"committed": committed, "seen": seen, "rate_per_s": round(rate, 1)}))


def role_proofs(args: argparse.Namespace) -> None:
    """Bulk-insert `--events` unsequenced events, sequence them, then time proofs."""
    _django()
    from datetime import UTC, datetime, timedelta

    from django.conf import settings
    from django.db import connection, transaction

    from safeguard.audit import leaves
    from safeguard.audit.events import AuditEventType, AuditSource
    from safeguard.audit.models import AuditCheckpoint, AuditEvent, AuditNode
    from safeguard.audit.proofs import check_proof
    from safeguard.audit.selectors import audit_event_proof, audit_log_verify
    from safeguard.audit.services import SYSTEM_LABEL, audit_sequence, public_key

    rng = random.Random(12)
    base = datetime(2026, 11, 1, tzinfo=UTC)
    types = [t.value for t in AuditEventType]
    t0 = time.perf_counter()
    batch = 5000
    for start in range(0, args.events, batch):
        rows = []
        for i in range(start, min(args.events, start + batch)):
            data = {"priority": f"P{i % 4}", "case": i // 5, "rule": f"rule-{i % 21}"}
            rows.append(
                AuditEvent(
                    created_at=base + timedelta(microseconds=i * 997),
                    event_type=types[i % len(types)],
                    actor=None,
                    actor_label=SYSTEM_LABEL,
                    source=AuditSource.TASK.value,
                    target_type="case",
                    target_id=str(i // 5),
                    data=data,
                    payload_sha256=leaves.payload_sha256(
                        leaves.payload(actor_label=SYSTEM_LABEL, data=data)
                    ),
                )
            )
        with transaction.atomic():
            AuditEvent.objects.bulk_create(rows, batch_size=1000)
    insert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sequenced = audit_sequence()
    sequence_s = time.perf_counter() - t0
    # Checkpoints are spaced (SAFEGUARD_AUDIT_CHECKPOINT_SECONDS): the one over the whole tree
    # is signed by a later sequencer run, as the task scheduled for then would.
    time.sleep(settings.SAFEGUARD_AUDIT_CHECKPOINT_SECONDS + 0.1)
    audit_sequence()
    checkpoints = AuditCheckpoint.objects.count()
    nodes = AuditNode.objects.count()
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    vkey = public_key()
    prove, check, sizes, hashes = [], [], [], []
    for event_id in rng.sample(ids, min(args.proofs, len(ids))):
        t0 = time.perf_counter()
        doc = audit_event_proof(event_id=event_id)
        prove.append((time.perf_counter() - t0) * 1000)
        text = json.dumps(doc)
        sizes.append(len(text.encode()))
        hashes.append(len(doc["inclusion_proof"]))
        t0 = time.perf_counter()
        checked = check_proof(json.loads(text), vkey)
        check.append((time.perf_counter() - t0) * 1000)
        assert checked.event_id == event_id
    out: dict[str, Any] = {
        "events": args.events,
        "bulk_insert_s": round(insert_s, 1),
        "sequenced": sequenced,
        "sequence_s": round(sequence_s, 1),
        "sequenced_per_s": round(sequenced / sequence_s),
        "nodes": nodes,
        "checkpoints": checkpoints,
        "proofs": len(prove),
        "proof_bytes_p50": int(statistics.median(sizes)),
        "proof_bytes_max": max(sizes),
        "proof_hashes_p50": int(statistics.median(hashes)),
        "proof_hashes_max": max(hashes),
        "prove_p50_ms": round(statistics.median(prove), 3),
        "prove_p99_ms": round(quantile(prove, 0.99), 3),
        "check_p50_ms": round(statistics.median(check), 3),
        "check_p99_ms": round(quantile(check, 0.99), 3),
    }
    # `safeguard audit verify` over the whole log: one streaming pass, every leaf and node.
    t0 = time.perf_counter()
    verified = audit_log_verify()
    out["verify_s"] = round(time.perf_counter() - t0, 1)
    out["verify_ok"] = verified.ok
    out["verified_per_s"] = round(verified.checked / max(out["verify_s"], 0.001))
    if connection.vendor == "sqlite":
        out["sqlite_mb"] = round(Path(connection.settings_dict["NAME"]).stat().st_size / 1e6, 1)
    print(json.dumps(out))


# --- the orchestration ----------------------------------------------------------------------


def append(kind: str, writers: int, args: argparse.Namespace, src: str | None) -> dict[str, Any]:
    with database(kind, src) as env:
        start = time.time() + 8  # every child set up and warm before the window opens
        end = start + args.seconds
        window = {"start": start, "end": end, "per_tx": args.per_tx}
        if kind == "sqlite":
            children = [role(env, "writer", threads=writers, **window)]
        else:
            children = [role(env, "writer", threads=1, **window) for _ in range(writers)]
        outs = [result(child) for child in children]
    transactions = sum(o["transactions"] for o in outs)
    latencies = [x for o in outs for x in o["latencies_ms"]]
    return {
        "code": str(Path(outs[0]["code"]).parents[2]),
        "writers": writers,
        "as": "threads" if kind == "sqlite" else "processes",
        "events_per_s": round(transactions * args.per_tx / args.seconds, 1),
        "tx_p50_ms": round(statistics.median(latencies), 2),
        "tx_p99_ms": round(quantile(latencies, 0.99), 2),
    }


def lag(kind: str, interval: float, args: argparse.Namespace) -> dict[str, Any]:
    with database(kind) as env:
        worker = subprocess.Popen(
            [sys.executable, "-m", "safeguard.config.cli", "worker", "--interval", str(interval)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(3)  # started, past its random start-up delay
            done_file = Path(env["SAFEGUARD_VAR_DIR"]) / "bench-lag-done"
            until = time.time() + args.lag_seconds + 30
            common = {"end": until, "done_file": done_file}
            poller = role(env, "poll", **common) if args.poller == "process" else None
            writer = role(
                env,
                "lag",
                rate=args.lag_rate,
                seconds=args.lag_seconds,
                poller=args.poller,
                **common,
            )
            out = result(writer)
            if poller is not None:
                polled = result(poller)
                out["seen"] = polled.pop("seen")
                out["tasks"] = polled
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        integrity = None
        if kind == "sqlite":
            import sqlite3

            path = Path(env["SAFEGUARD_VAR_DIR"]) / "safeguard.sqlite3"
            try:
                with contextlib.closing(sqlite3.connect(path)) as db:
                    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
            except sqlite3.DatabaseError as error:
                integrity = str(error)
    seen = {int(k): v for k, v in out["seen"].items()}
    lags = [(seen[int(i)] - t) * 1000 for i, t in out["committed"].items() if int(i) in seen]
    return {
        "worker_interval_s": interval,
        "poller": args.poller,
        "transactions": len(out["committed"]),
        "rate_per_s": out["rate_per_s"],
        "never_seen_sequenced": len(out["committed"]) - len(lags),
        "lag_p50_ms": round(statistics.median(lags), 1) if lags else None,
        "lag_p99_ms": round(quantile(lags, 0.99), 1) if lags else None,
        "lag_max_ms": round(max(lags), 1) if lags else None,
        "poll_ms": 20,
        "integrity_check": integrity,
        "sequencer_tasks": out.get("tasks"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["writer", "lag", "poll", "proofs"])
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--parts", default="append,lag,proofs")
    parser.add_argument("--writers", default="1,2,4")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--per-tx", type=int, default=1)
    parser.add_argument("--before", default=None, help="old src dir to compare append with")
    parser.add_argument("--lag-seconds", type=float, default=30)
    parser.add_argument("--lag-rate", type=float, default=30)
    parser.add_argument("--intervals", default="0.2")
    parser.add_argument(
        "--poller",
        choices=["process", "thread"],
        default="process",
        help="poll from another process, or from a thread beside the writer (SQLite: see README)",
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--proofs", type=int, default=1000)
    # Children only.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--start", type=float, default=0)
    parser.add_argument("--end", type=float, default=0)
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--done-file", default="")
    args = parser.parse_args()
    if args.role:
        {"writer": role_writer, "lag": role_lag, "poll": role_poll, "proofs": role_proofs}[
            args.role
        ](args)
        return
    kinds = args.databases.split(",")
    parts = args.parts.split(",")
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "seconds_per_append_run": args.seconds,
        "events_per_transaction": args.per_tx,
    }
    for kind in kinds:
        section: dict[str, Any] = {}
        if "append" in parts:
            counts = [int(w) for w in args.writers.split(",")]
            section["append"] = [append(kind, w, args, None) for w in counts]
            if args.before:
                section["append_before"] = [append(kind, w, args, args.before) for w in counts]
        if "lag" in parts:
            section["lag"] = [lag(kind, float(i), args) for i in args.intervals.split(",")]
        if "proofs" in parts:
            with database(kind) as env:
                section["proofs"] = result(
                    role(env, "proofs", events=args.events, proofs=args.proofs)
                )
        report[kind] = section
    print(json.dumps(report))


if __name__ == "__main__":
    main()
