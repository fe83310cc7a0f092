"""Benchmark the HTTP intake path: the embedded default (SQLite WAL, one waitress process) or
PostgreSQL with several web processes.

    .venv/bin/python bench/intake.py [--n 1000] [--clients 4]
        [--database sqlite|postgres] [--web-processes 1] [--sample-locks] [--worker]

Starts `--web-processes` `safeguard serve` processes on free loopback ports with a fresh
database (SQLite in a temporary directory, or a `bench_audit_<pid>_<n>` PostgreSQL database on
127.0.0.1:5432, dropped afterwards), creates a service account and token, then sends N
generated escalations from `--clients` concurrent clients, round-robin over the processes (each
POST is accepted, triaged and audited before its 201). `--worker` runs a `safeguard worker`
beside them. `--sample-locks` (PostgreSQL) samples `pg_locks` every 50 ms during the run and
counts the samples in which a backend waits for a lock, and those in which it waits on an
audit table. Prints one JSON object: {"escalations_per_s", "p50_ms", "p99_ms", ...}. Traffic
goes only to 127.0.0.1 and the run is bounded by N. The code measured is whatever `safeguard`
PYTHONPATH resolves to (kept for the servers), so an older tree can be measured the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit import database, safeguard
from triage import escalation

# Every lock a backend of the bench database waits for, with the relation (if the lock is on
# one) and what the waiting backend is running: a wait for a row lock is a wait on the holder's
# transaction id, with no relation, so the waiter's query says which table it was.
WAITS_SQL = """
SELECT l.pid, l.locktype, l.mode, c.relname, left(a.query, 120)
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
LEFT JOIN pg_class c ON c.oid = l.relation
WHERE NOT l.granted AND a.datname = current_database()
"""


class LockSampler(threading.Thread):
    """Samples lock waits on the bench database every `period` s until stopped."""

    def __init__(self, dsn: str, period: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.dsn, self.period = dsn, period
        self.stop = threading.Event()
        self.samples = self.waiting = self.audit_relation = self.audit_query = 0
        self.max_waiters = self.max_audit_waiters = 0
        self.kinds: Counter[str] = Counter()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as db:
            while not self.stop.is_set():
                rows = db.execute(WAITS_SQL).fetchall()
                self.samples += 1
                audit = [
                    r for r in rows if (r[3] or "").startswith("audit_") or "audit_" in (r[4] or "")
                ]
                if rows:
                    self.waiting += 1
                    self.max_waiters = max(self.max_waiters, len({r[0] for r in rows}))
                if any((r[3] or "").startswith("audit_") for r in rows):
                    self.audit_relation += 1
                if audit:
                    self.audit_query += 1
                    self.max_audit_waiters = max(self.max_audit_waiters, len({r[0] for r in audit}))
                for _pid, locktype, mode, relname, query in rows:
                    self.kinds[f"{locktype} {mode} {relname or (query or '')[:60]}"] += 1
                time.sleep(self.period)

    def report(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "period_ms": int(self.period * 1000),
            "samples_with_a_lock_wait": self.waiting,
            "samples_with_a_wait_on_an_audit_relation": self.audit_relation,
            "samples_with_a_wait_by_a_query_on_audit_tables": self.audit_query,
            "max_simultaneous_waiters": self.max_waiters,
            "max_simultaneous_audit_waiters": self.max_audit_waiters,
            "waits": dict(self.kinds.most_common(8)),
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--web-processes", type=int, default=1)
    parser.add_argument("--sample-locks", action="store_true", help="PostgreSQL only")
    parser.add_argument("--worker", action="store_true", help="run `safeguard worker` too")
    parser.add_argument("--worker-interval", type=float, default=1.0)
    args = parser.parse_args()
    if args.sample_locks and args.database != "postgres":
        parser.error("--sample-locks needs --database postgres")
    sampler = None
    with database(args.database, os.environ.get("PYTHONPATH")) as env:
        safeguard(env, "users", "create", "bench-platform", "--role", "service")
        token = safeguard(env, "tokens", "create", "bench-platform", "--name", "bench")
        code = safeguard(
            env, "shell", "-c", "import safeguard.audit.services as s; print(s.__file__)"
        )
        ports = [free_port() for _ in range(args.web_processes)]
        # The servers' and worker's output, shown if a request fails.
        log_path = Path(env["SAFEGUARD_VAR_DIR"]) / "bench-servers.log"
        log = log_path.open("w")
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "safeguard.config.cli", "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for port in ports
        ]
        if args.worker:
            worker = ["worker", "--interval", str(args.worker_interval)]
            children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "safeguard.config.cli", *worker],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        urls = [f"http://127.0.0.1:{port}/api/v1/escalations" for port in ports]
        try:
            for port in ports:
                for _ in range(100):
                    try:
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                        break
                    except OSError:
                        time.sleep(0.1)
            rng = random.Random(7)
            now = datetime.now(UTC)
            bodies = [json.dumps(escalation(rng, i, now)).encode() for i in range(args.n)]

            def post(item: tuple[int, bytes]) -> float:
                number, body = item
                request = urllib.request.Request(  # noqa: S310
                    urls[number % len(urls)],
                    data=body,
                    method="POST",
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                )
                t0 = time.perf_counter()
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    assert response.status == 201, response.status
                return (time.perf_counter() - t0) * 1000

            for number, body in enumerate(bodies[:20]):
                post((number, body.replace(b'"bench-', b'"warm-')))
            if args.sample_locks:
                sampler = LockSampler(env["DATABASE_URL"])
                sampler.start()
            started = time.perf_counter()
            try:
                with ThreadPoolExecutor(max_workers=args.clients) as pool:
                    timings = sorted(pool.map(post, enumerate(bodies)))
            except urllib.error.HTTPError:
                log.flush()
                print(log_path.read_text()[-6000:], file=sys.stderr)
                raise
            elapsed = time.perf_counter() - started
            if sampler is not None:
                sampler.stop.set()
                sampler.join()
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=30)
            log.close()
    if args.database == "sqlite":
        setup = "embedded default: SQLite WAL, waitress 8 threads per process, loopback"
    else:
        setup = "PostgreSQL 15 on 127.0.0.1, waitress 8 threads per process, loopback"
    out: dict[str, Any] = {
        "escalations_per_s": round(args.n / elapsed, 1),
        "p50_ms": round(statistics.median(timings), 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
        "n": args.n,
        "clients": args.clients,
        "database": args.database,
        "web_processes": args.web_processes,
        "worker": args.worker,
        "code": str(Path(code.splitlines()[-1]).parents[2]),
        "setup": setup,
        "python": platform.python_version(),
    }
    if sampler is not None:
        out["locks"] = sampler.report()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
