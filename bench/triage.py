"""Benchmark triage without HTTP: everything triage does for one escalation, on generated ones.

    .venv/bin/python bench/triage.py [--n 5000] [--seed 1]

Per escalation: language detection, time expressions read against each message's own time,
the indicator families of the text's language, the context (sources, classifiers), the live
policy, and a shadow policy evaluated over the same context, as intake does. Prints one JSON
object: {"p99_ms" (all of it, shadow included), "p99_ms_live_only", "goal_p99_ms": 5, ...}.
Embedded default only (no database is touched: the suspect history is a few indexed queries
measured by the intake benchmark). All text is generated from benign word lists in several
languages plus a few indicator phrases at the level of public online-safety guidance.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from safeguard.intake.sources import source_of_json
from safeguard.triage.context import SourceFacts, build_context
from safeguard.triage.policy import compile_policy, default_policy, default_policy_text

GOAL_P99_MS = 5.0

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
    "meet me at the station 2nite, come alone",
    "i will end it all tonight, goodbye everyone",
    "pay by midnight or everyone sees",
]
# Other languages the families cover, and one they do not (French), benign and not.
OTHER = {
    "es": "mañana vamos al colegio y después jugamos al fútbol con mis primos en el parque",
    "pt": "hoje à noite vou estudar matemática e depois jogar videogame com meu irmão",
    "id": "besok pagi aku ke sekolah lalu sore main bola sama teman teman di lapangan",
    "zh": "明天下午我们去图书馆做作业然后一起吃晚饭",
    "fr": "demain nous allons au marché puis nous jouons aux cartes chez ma grand-mère",
}
OTHER_INDICATORS = {
    "es": "vamos a vernos esta noche en la estación, no le digas a nadie",
    "pt": "vamos nos encontrar hoje à noite na estação, não conta pra ninguém",
    "id": "ketemuan nanti malam di stasiun ya, jangan bilang siapa siapa",
    "zh": "今晚在车站见面 不要告诉任何人",
    "fr": "on se voit ce soir à la gare",
}


def _messages(rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    language = rng.choice(["en", "en", "en", "es", "pt", "id", "zh", "fr"])
    count = rng.randint(1, 12)
    out = []
    for k in range(count):
        if language == "en":
            text = " ".join(rng.choices(BENIGN, k=rng.randint(5, 40)))
            if rng.random() < 0.15:
                text += " " + rng.choice(INDICATORS)
        else:
            text = OTHER[language]
            if rng.random() < 0.15:
                text += " " + OTHER_INDICATORS[language]
        sent = now - timedelta(minutes=5 * (count - k) + rng.randint(0, 600))
        stamp = sent.isoformat().replace("+00:00", "Z")
        out.append({"sent_at": stamp, "author": f"user:a{k % 2}", "text": text})
    return out


def escalation(rng: random.Random, n: int, now: datetime) -> dict[str, Any]:
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
            },
            {"platform_id": f"m:{n}", "kind": "message_thread", "messages": _messages(rng, now)},
        ],
    }
    if rng.random() < 0.3:
        body["classifiers"] = [
            {"model": "vendor-x", "version": "2", "label": label, "score": rng.random()}
            for label in rng.sample(["grooming", "self_harm", "csam", "nudity"], 2)
        ]
    if channel == "user_report" and rng.random() < 0.2:
        body["reporter"] = {"kind": "trusted_flagger", "name": "Example Flagger (fictional)"}
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
    now = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    escalations = [escalation(rng, i, now) for i in range(args.n)]
    policy = default_policy()
    # A candidate in shadow: the default with the trusted-flagger raise off.
    shadow = compile_policy(
        default_policy_text()
        .replace('version: "default-2"', 'version: "shadow-bench"')
        .replace("    raise: 1\n", "    raise: 0\n")
    )

    def context(body: dict[str, Any]) -> Any:
        kind, verified = source_of_json(body, le_partner=False)
        return build_context(
            body,
            now=now,
            source=SourceFacts(kind=kind.value, verified=verified),
            ignored_models=policy.ignored_models,
        )

    for body in escalations[:50]:  # warm the caches (compiled patterns, families, detector)
        policy.evaluate(context(body), now=now)
    timings = []
    live_only = []
    priorities: dict[str, int] = {}
    disagree = 0
    started = time.perf_counter()
    for body in escalations:
        t0 = time.perf_counter()
        built = context(body)
        result = policy.evaluate(built, now=now)
        t1 = time.perf_counter()
        shadowed = shadow.evaluate(built, now=now)
        t2 = time.perf_counter()
        timings.append((t2 - t0) * 1000)
        live_only.append((t1 - t0) * 1000)
        disagree += shadowed.priority != result.priority
        priorities[result.priority.value] = priorities.get(result.priority.value, 0) + 1
    elapsed = time.perf_counter() - started
    timings.sort()
    live_only.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(
        json.dumps(
            {
                "escalations_per_s": round(args.n / elapsed, 1),
                "p50_ms": round(statistics.median(timings), 3),
                "p99_ms": round(p99, 3),
                "p99_ms_live_only": round(live_only[int(len(live_only) * 0.99) - 1], 3),
                "goal_p99_ms": GOAL_P99_MS,
                "goal_met": p99 < GOAL_P99_MS,
                "shadow_disagreements": disagree,
                "n": args.n,
                "mean_text_words": round(
                    statistics.mean(
                        len(b["content"][0]["text"].split())
                        + sum(len(m["text"].split()) for m in b["content"][1]["messages"])
                        for b in escalations
                    ),
                    1,
                ),
                "priorities": dict(sorted(priorities.items())),
                "setup": "embedded default (no database); one process, one core",
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
