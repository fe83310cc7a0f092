"""Measure triage against the labelled evaluation set (tests/triage/eval/, docs/triage-eval.md).

    .venv/bin/python bench/triage_eval.py            # a table, the confusion matrix, the misses
    .venv/bin/python bench/triage_eval.py --json     # one JSON object on stdout

A prediction is correct when it is one of the priorities the lead would accept for the case;
the expected priority is the lead's preferred one (the first accepted). Exits 1 when the goals
(P0 recall 1.0, P0 precision at least 0.9, no benign case at P0) are not met.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from safeguard.triage.evaluation import load_cases, measure, run_cases

EVAL_DIR = Path(__file__).resolve().parents[1] / "tests" / "triage" / "eval"


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value * 100:5.1f}%"


def render(report: dict[str, Any]) -> str:
    """The human-readable form of `measure`'s report."""
    lines = [
        f"{report['cases']} cases ({report['benign']} benign look-alikes), "
        f"accepted {_pct(report['accuracy'])}, {report['seconds']:.2f} s",
        "",
        "priority  expected  predicted  recall  precision",
    ]
    for name, row in report["per_priority"].items():
        lines.append(
            f"{name:<8}  {row['expected']:>8}  {row['predicted']:>9}  "
            f"{_pct(row['recall'])}  {_pct(row['precision'])}"
        )
    names = list(report["confusion"])
    lines += ["", "confusion (rows: expected = accept[0]; columns: predicted)"]
    lines.append("          " + "".join(f"{n:>6}" for n in names))
    for expected, row in report["confusion"].items():
        lines.append(f"{expected:<10}" + "".join(f"{row[n]:>6}" for n in names))
    lines += ["", f"misses ({len(report['misses'])}):"]
    for miss in report["misses"]:
        accept = "/".join(miss["accept"])
        lines.append(f"  {miss['id']:<36} accept {accept:<11} got {miss['predicted']}")
        lines.append(f"      {miss['explanation'][:160]}")
    goals = report["goals"]
    lines += [
        "",
        f"goals: P0 recall >= {goals['p0_recall']}, P0 precision >= {goals['p0_precision']}, "
        f"no benign case at P0 -> {'met' if goals['met'] else 'NOT met'}",
    ]
    if report["benign_at_p0"]:
        lines.append(f"benign cases at P0: {', '.join(report['benign_at_p0'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--dir", type=Path, default=EVAL_DIR, help="the directory of *.yaml")
    args = parser.parse_args(argv)
    cases = load_cases(args.dir)
    started = time.perf_counter()
    outcomes = run_cases(cases)
    report = measure(outcomes)
    report["seconds"] = round(time.perf_counter() - started, 3)
    if args.json:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(render(report))
    return 0 if report["goals"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
