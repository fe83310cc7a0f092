"""Benchmark triage without HTTP: text signals plus policy evaluation on generated escalations.

    .venv/bin/python bench/triage.py [--n 5000] [--seed 1]

Prints one JSON object: {"escalations_per_s", "p50_ms", "p99_ms", ...}. Embedded default only
(no database is touched). All text is generated from benign word lists plus a few indicator
phrases at the level of public online-safety guidance.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from safeguard.triage.context import build_context
from safeguard.triage.policy import default_policy

CHANNELS = ["user_report", "internal", "automated", "hotline", "law_enforcement"]
CATEGORIES = [
    "csam",
    "grooming",
    "sextortion",
    "self_harm",
    "imminent_danger",
    "trafficking",
    "other",
]
BENIGN = [
    "the",
    "match",
    "on",
    "saturday",
    "was",
    "great",
    "and",
    "we",
    "won",
    "the",
    "cup",
    "after",
    "extra",
    "time",
    "homework",
    "for",
    "maths",
    "is",
    "due",
    "tomorrow",
    "and",
    "the",
    "science",
    "project",
    "next",
    "week",
    "it",
    "rained",
    "all",
    "day",
    "so",
    "we",
    "baked",
    "bread",
    "and",
    "played",
    "board",
    "games",
    "with",
    "my",
    "cousins",
]
INDICATORS = [
    "how old are you",
    "don't tell your parents",
    "delete this chat",
    "add me on another app",
    "let's meet at the park",
    "i want to hurt myself",
    "send me more pictures",
    "pay me or I will send your pictures to all your friends",
    "i'll buy you a gift card",
]


def escalation(rng: random.Random, n: int) -> dict[str, Any]:
    words = rng.choices(BENIGN, k=rng.randint(20, 300))
    for _ in range(rng.randint(0, 3)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(INDICATORS))
    channel = rng.choice(CHANNELS)
    body: dict[str, Any] = {
        "channel": channel,
        "external_id": f"bench-{n}",
        "category": rng.choice(CATEGORIES),
        "summary": "Generated benchmark report.",
        "subjects": [
            {"platform_id": f"user:s{n}", "role": "suspect"},
            {"platform_id": f"user:v{n}", "role": "victim", "age": rng.randint(8, 40)},
        ],
        "content": [
            {
                "platform_id": f"t:{n}",
                "kind": "message_thread",
                "text": " ".join(words),
                "live": rng.random() < 0.02,
            }
        ],
    }
    if channel == "law_enforcement":
        body["law_enforcement"] = {
            "agency": "Example Police (fictional)",
            "country": "US",
            "contact": "desk@example",
            "request_type": rng.choice(["emergency_disclosure", "preservation", "legal_process"]),
        }
    return body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    escalations = [escalation(rng, i) for i in range(args.n)]
    policy = default_policy()
    now = datetime.now(UTC)
    for body in escalations[:50]:  # warm the caches (compiled patterns, families)
        policy.evaluate(build_context(body), now=now)
    timings = []
    priorities: dict[str, int] = {}
    started = time.perf_counter()
    for body in escalations:
        t0 = time.perf_counter()
        result = policy.evaluate(build_context(body), now=now)
        timings.append((time.perf_counter() - t0) * 1000)
        priorities[result.priority.value] = priorities.get(result.priority.value, 0) + 1
    elapsed = time.perf_counter() - started
    timings.sort()
    print(
        json.dumps(
            {
                "escalations_per_s": round(args.n / elapsed, 1),
                "p50_ms": round(statistics.median(timings), 3),
                "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 3),
                "n": args.n,
                "mean_text_words": round(
                    statistics.mean(len(b["content"][0]["text"].split()) for b in escalations), 1
                ),
                "priorities": dict(sorted(priorities.items())),
                "setup": "embedded default (no database); one process, one core",
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
