"""Policies against stored escalations: `safeguard triage backtest POLICY.yaml` replays them
through a candidate beside the live policy, and `safeguard triage diff --shadow` compares the
shadow policy's stored results with the live ones. Both only read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from safeguard.cases.workflow import Priority
from safeguard.core.textfile import Unreadable, read_text
from safeguard.intake.models import Escalation
from safeguard.triage.context import ContextError, TriageContext
from safeguard.triage.history import context_for
from safeguard.triage.lifecycle import policy_shadow_current
from safeguard.triage.models import TriageKind, TriageRecord
from safeguard.triage.policy import (
    MAX_POLICY_BYTES,
    Policy,
    PolicyError,
    TriageResult,
    compile_policy,
    parse_duration,
)
from safeguard.triage.services import policy_active

__all__ = [
    "Backtest",
    "Move",
    "ShadowDiff",
    "backtest_main",
    "diff_main",
    "policy_backtest",
    "shadow_diff",
]

PRIORITIES = [p.value for p in Priority]
# How a shadow record that could not be evaluated is counted (its priority is "").
FAILED = "failed"


class ReplayError(Exception):
    """A command-line refusal: the message is printed and the command exits 2."""


@dataclass(frozen=True, slots=True)
class Move:
    """One escalation the two policies rank or route differently."""

    case: str
    escalation: str
    received_at: datetime
    before: tuple[str, str]  # (priority, queue) of the live policy
    after: tuple[str, str]  # of the candidate, or the shadow
    rules: tuple[str, ...]  # the candidate's (or shadow's) matched rules

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "escalation": self.escalation,
            "received_at": self.received_at.isoformat(),
            "from": {"priority": self.before[0], "queue": self.before[1]},
            "to": {"priority": self.after[0], "queue": self.after[1]},
            "rules": list(self.rules),
        }

    def line(self) -> str:
        return (
            f"  case {self.case}  escalation {self.escalation}  "
            f"{self.before[0]} {self.before[1]} -> {self.after[0] or FAILED} {self.after[1]}  "
            f"rules: {', '.join(self.rules) or '-'}"
        )


@dataclass(slots=True)
class Backtest:
    candidate: str
    live: str
    since: datetime
    escalations: int = 0
    before: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)
    moved: list[Move] = field(default_factory=list)
    # Escalations whose stored payload cannot be read as a context any more: (id, why).
    unreplayable: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "live": self.live,
            "since": self.since.isoformat(),
            "escalations": self.escalations,
            "distribution": {
                "live": {p: self.before[p] for p in PRIORITIES},
                "candidate": {p: self.after[p] for p in PRIORITIES},
            },
            "moved": [m.to_json() for m in self.moved],
            "unreplayable": [{"escalation": e, "error": why} for e, why in self.unreplayable],
        }


@dataclass(slots=True)
class ShadowDiff:
    shadow: str
    since: datetime
    compared: int = 0
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    disagreements: list[Move] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "shadow": self.shadow,
            "since": self.since.isoformat(),
            "compared": self.compared,
            "disagree": len(self.disagreements),
            "pairs": [
                {"live": live, "shadow": shadow, "count": count}
                for (live, shadow), count in sorted(self.pairs.items())
            ],
            "disagreements": [m.to_json() for m in self.disagreements],
        }


def policy_backtest(candidate: Policy, *, since: datetime) -> Backtest:
    """Replay every escalation received since `since` through `candidate` and the live policy,
    each context built as triage built it at the escalation's arrival (`context_for` at
    `received_at`, without the hash-match summary, which intake does not store).

    Nothing is written: the replay runs in a transaction that is always rolled back, so even a
    read with a side effect somewhere below cannot leave a trace.
    """
    live = policy_active()
    report = Backtest(candidate=candidate.version, live=live.version, since=since)
    with transaction.atomic():
        escalations = (
            Escalation.objects.filter(received_at__gte=since, case_link__isnull=False)
            .select_related("case_link__case")
            .order_by("received_at", "pk")
        )
        for escalation in escalations:
            case = escalation.case_link.case
            contexts: dict[tuple[str, ...], TriageContext] = {}

            def build(ignored: tuple[str, ...], case: Any = case, esc: Any = escalation) -> Any:
                return context_for(case, esc, now=esc.received_at, ignored_models=ignored)

            try:
                before: TriageResult = _replay(live, contexts, build, escalation.received_at)
                after: TriageResult = _replay(candidate, contexts, build, escalation.received_at)
            except ContextError as exc:
                report.unreplayable.append((str(escalation.pk), str(exc)))
                continue
            report.escalations += 1
            report.before[before.priority.value] += 1
            report.after[after.priority.value] += 1
            if (before.priority, before.queue) != (after.priority, after.queue):
                report.moved.append(
                    Move(
                        case=str(case.pk),
                        escalation=str(escalation.pk),
                        received_at=escalation.received_at,
                        before=(before.priority.value, before.queue),
                        after=(after.priority.value, after.queue),
                        rules=after.rules_matched,
                    )
                )
        transaction.set_rollback(True)
    return report


def _replay(
    policy: Policy,
    contexts: dict[tuple[str, ...], TriageContext],
    build: Any,
    now: datetime,
) -> TriageResult:
    """The policy's result on the context built with its own ignored classifier models; the
    two policies share one context whenever they ignore the same models."""
    key = tuple(policy.ignored_models)
    if key not in contexts:
        contexts[key] = build(key)
    return policy.evaluate(contexts[key], now=now)


def shadow_diff(*, since: datetime) -> ShadowDiff:
    """Compare the shadow policy's stored results since `since` with the live results of the
    same triage (same escalation, same moment). Raises ReplayError when there is no shadow."""
    shadow = policy_shadow_current()
    if shadow is None:
        raise ReplayError(
            "there is no shadow policy; upload one with PUT /api/v1/triage/policy "
            '{"source": ..., "status": "shadow"}'
        )
    version = shadow[0]
    report = ShadowDiff(shadow=version, since=since)
    shadows = TriageRecord.objects.filter(
        kind=TriageKind.SHADOW, policy_version=version, computed_at__gte=since
    ).select_related("escalation")
    by_moment = {(r.escalation_id, r.computed_at): r for r in shadows}
    lives = TriageRecord.objects.filter(
        kind=TriageKind.AUTOMATIC,
        escalation_id__in={escalation for escalation, _ in by_moment},
        computed_at__gte=since,
    ).order_by("computed_at", "id")
    for live in lives:
        record = by_moment.get((live.escalation_id, live.computed_at))
        if record is None or record.escalation is None:
            continue
        report.compared += 1
        report.pairs[(live.priority, record.priority or FAILED)] += 1
        if (live.priority, live.queue) != (record.priority, record.queue):
            report.disagreements.append(
                Move(
                    case=str(live.case_id),
                    escalation=str(live.escalation_id),
                    received_at=record.escalation.received_at,
                    before=(live.priority, live.queue),
                    after=(record.priority, record.queue),
                    rules=tuple(record.rules_matched),
                )
            )
    return report


# --- The command line -------------------------------------------------------------------------


class Window(NamedTuple):
    """`--since` as written (for the heading) and as a length."""

    text: str
    length: timedelta


def _since(text: str) -> Window:
    try:
        return Window(text, parse_duration(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _read_policy(name: str) -> Policy:
    try:
        text = read_text(name, max_bytes=MAX_POLICY_BYTES)
    except Unreadable as exc:
        raise ReplayError(str(exc)) from None
    try:
        return compile_policy(text)
    except PolicyError as exc:
        raise ReplayError(f"{name} does not compile:\n{exc}") from None


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]


def _backtest_text(report: Backtest, window: str) -> str:
    lines = [
        f"backtest of {report.candidate} against the live policy {report.live}: "
        f"{report.escalations} escalations received in the last {window} "
        f"(since {report.since.isoformat()})",
        "",
    ]
    rows = [("priority", "live", "candidate", "change")]
    for p in PRIORITIES:
        change = report.after[p] - report.before[p]
        rows.append((p, str(report.before[p]), str(report.after[p]), f"{change:+d}"))
    lines += _table(rows)
    lines += ["", f"cases that move: {len(report.moved)}"]
    lines += [m.line() for m in report.moved]
    if report.unreplayable:
        lines += ["", f"not replayed: {len(report.unreplayable)}"]
        lines += [f"  escalation {e}: {why}" for e, why in report.unreplayable]
    return "\n".join(lines) + "\n"


def _diff_text(report: ShadowDiff, window: str) -> str:
    lines = [
        f"shadow policy {report.shadow} against live: {report.compared} escalations triaged by "
        f"both in the last {window}, {len(report.disagreements)} disagree",
    ]
    if report.pairs:
        lines.append("")
        rows = [("live", "shadow", "count")]
        rows += [(live, shadow, str(n)) for (live, shadow), n in sorted(report.pairs.items())]
        lines += _table(rows)
    if report.disagreements:
        lines += ["", "where they disagree (live -> shadow):"]
        lines += [m.line() for m in report.disagreements]
    return "\n".join(lines) + "\n"


def _run(prog: str, argv: Sequence[str], parser: argparse.ArgumentParser, run: Any) -> int:
    args = parser.parse_args(argv)
    try:
        text, data = run(args, timezone.now() - args.since.length)
    except ReplayError as exc:
        sys.stderr.write(f"{prog}: {exc}\n")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(text)
    return 0


def backtest_main(argv: Sequence[str]) -> int:
    prog = "safeguard triage backtest"
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Replay stored escalations through a candidate policy beside the live one; "
        "nothing is written.",
    )
    parser.add_argument("policy", help="the candidate policy YAML file")
    parser.add_argument(
        "--since", type=_since, default="30d", help="window, e.g. 30d (the default) or 12h"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")

    def run(args: argparse.Namespace, since: datetime) -> tuple[str, dict[str, Any]]:
        report = policy_backtest(_read_policy(args.policy), since=since)
        return _backtest_text(report, window=args.since.text), report.to_json()

    return _run(prog, argv, parser, run)


def diff_main(argv: Sequence[str]) -> int:
    prog = "safeguard triage diff"
    parser = argparse.ArgumentParser(
        prog=prog, description="Where the shadow policy's stored results differ from the live ones."
    )
    parser.add_argument(
        "--shadow", action="store_true", required=True, help="compare the shadow policy"
    )
    parser.add_argument(
        "--since", type=_since, default="7d", help="window, e.g. 7d (the default) or 12h"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")

    def run(args: argparse.Namespace, since: datetime) -> tuple[str, dict[str, Any]]:
        report = shadow_diff(since=since)
        return _diff_text(report, window=args.since.text), report.to_json()

    return _run(prog, argv, parser, run)
