"""Benchmark the HTTP intake path on the embedded default (SQLite WAL, one waitress process).

    .venv/bin/python bench/intake.py [--n 1000] [--clients 4]

Starts `safeguard serve` on a free loopback port with a fresh SQLite database in a temporary
directory, creates a service account and token, then sends N generated escalations from
`--clients` concurrent clients (each POST is accepted, triaged and audited before its 201).
Prints one JSON object: {"escalations_per_s", "p50_ms", "p99_ms", ...}. Traffic goes only to
127.0.0.1 and the run is bounded by N.
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
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage import escalation


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def safeguard(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "safeguard.config.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SAFEGUARD_") and k not in {"DATABASE_URL"}
        }
        env.update({"SAFEGUARD_ENV": "development", "SAFEGUARD_VAR_DIR": var})
        safeguard(env, "migrate", "--verbosity", "0")
        safeguard(env, "users", "create", "bench-platform", "--role", "service")
        token = safeguard(env, "tokens", "create", "bench-platform", "--name", "bench")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "safeguard.config.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/api/v1/escalations"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            rng = random.Random(7)
            bodies = [json.dumps(escalation(rng, i)).encode() for i in range(args.n)]

            def post(body: bytes) -> float:
                request = urllib.request.Request(
                    url,
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

            for body in bodies[:20]:
                post(body.replace(b'"bench-', b'"warm-'))
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.clients) as pool:
                timings = sorted(pool.map(post, bodies))
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(
        json.dumps(
            {
                "escalations_per_s": round(args.n / elapsed, 1),
                "p50_ms": round(statistics.median(timings), 2),
                "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
                "n": args.n,
                "clients": args.clients,
                "setup": "embedded default: SQLite WAL, waitress 8 threads, one process, loopback",
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
