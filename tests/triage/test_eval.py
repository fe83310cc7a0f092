"""The triage evaluation set (tests/triage/eval/): its shape, its coverage, and the goals the
default policy must meet on it (docs/triage-eval.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from safeguard.cases.workflow import Priority
from safeguard.intake.enums import Category, Channel
from safeguard.triage.evaluation import (
    CaseOutcome,
    EvalCase,
    EvalSetError,
    load_cases,
    measure,
    run_cases,
)

ROOT = Path(__file__).resolve().parents[2]
EVAL_DIR = ROOT / "tests" / "triage" / "eval"
BENCH = ROOT / "bench" / "triage_eval.py"
# Cases in a language with indicator files start with its code; "xx-" marks a language with
# none; every other case is English.
SUPPORTED = ("es", "pt", "id", "ms", "zh")


def language(case: EvalCase) -> str:
    prefix = case.id.split("-", 1)[0]
    return prefix if prefix in (*SUPPORTED, "xx") else "en"


@pytest.fixture(scope="module")
def cases() -> list[EvalCase]:
    return load_cases(EVAL_DIR)


@pytest.fixture(scope="module")
def outcomes(cases: list[EvalCase]) -> list[CaseOutcome]:
    return run_cases(cases)


def test_the_set_is_large_and_a_third_benign(cases: list[EvalCase]) -> None:
    assert len(cases) >= 150
    assert sum(c.benign for c in cases) * 3 >= len(cases)
    assert len({c.id for c in cases}) == len(cases)


def test_every_channel_and_category_is_covered(cases: list[EvalCase]) -> None:
    channels = {c.escalation["channel"] for c in cases}
    categories = {c.escalation["category"] for c in cases}
    assert channels == {ch.value for ch in Channel}
    assert categories == {cat.value for cat in Category}


@pytest.mark.parametrize("code", ["en", *SUPPORTED])
def test_each_supported_language_has_p0_and_benign_cases(cases: list[EvalCase], code: str) -> None:
    mine = [c for c in cases if language(c) == code]
    assert any(c.expected is Priority.P0 for c in mine), code
    assert sum(c.benign for c in mine) >= 3, code


def test_unassessed_languages_are_never_accepted_at_p3(cases: list[EvalCase]) -> None:
    unassessed = [c for c in cases if language(c) == "xx"]
    assert len(unassessed) >= 8
    assert all(Priority.P3 not in c.accept for c in unassessed)
    assert any(c.benign for c in unassessed)
    assert any(c.expected is Priority.P0 for c in unassessed)


def test_hard_families_are_present_in_variations(cases: list[EvalCase]) -> None:
    by_prefix = Counter(c.id.split("-", 1)[0] for c in cases)
    assert by_prefix["meet"] >= 12
    assert by_prefix["sh"] >= 12
    assert by_prefix["sx"] >= 8
    threads = [
        c for c in cases if any("messages" in item for item in c.escalation.get("content", []))
    ]
    assert len(threads) >= 30
    assert any(c.suspect is not None and c.suspect.distinct_minors >= 5 for c in cases)
    assert any(c.escalation.get("classifiers") for c in cases)
    assert any(c.le_partner for c in cases)
    reporters = {c.escalation.get("reporter", {}).get("kind") for c in cases}
    assert {"anonymous", "user", "trusted_flagger"} <= reporters


def test_the_default_policy_meets_the_goals(outcomes: list[CaseOutcome]) -> None:
    report = measure(outcomes)
    p0 = report["per_priority"]["P0"]
    missed = [m["id"] for m in report["misses"] if m["accept"][0] == "P0"]
    assert p0["recall"] == 1.0, f"P0 cases not at P0: {missed}"
    assert p0["precision"] >= 0.9, report["confusion"]
    assert report["benign_at_p0"] == []
    assert report["goals"]["met"] is True


def _case(case_id: str, accept: tuple[Priority, ...], benign: bool = False) -> EvalCase:
    return EvalCase(
        id=case_id,
        file="t.yaml",
        note="n",
        now=datetime(2026, 11, 20, tzinfo=UTC),
        accept=accept,
        benign=benign,
        escalation={},
    )


def test_measure_counts_by_the_lead_preferred_priority() -> None:
    p0, p1, p2, p3 = Priority
    outcomes = [
        CaseOutcome(_case("a", (p0,)), p0, "x"),
        CaseOutcome(_case("b", (p0, p1)), p1, "x"),  # accepted, though not the preferred
        CaseOutcome(_case("c", (p0,)), p2, "x"),  # a missed P0
        CaseOutcome(_case("d", (p3, p2), benign=True), p0, "x"),  # a benign false alarm
        CaseOutcome(_case("e", (p3,), benign=True), p3, "x"),
    ]
    report = measure(outcomes)
    assert report["per_priority"]["P0"] == {
        "expected": 3,
        "predicted": 2,
        "recall": round(2 / 3, 4),
        "precision": 0.5,
    }
    assert report["per_priority"]["P1"] == {
        "expected": 0,
        "predicted": 1,
        "recall": None,
        "precision": 1.0,
    }
    assert report["confusion"]["P0"] == {"P0": 1, "P1": 1, "P2": 1, "P3": 0}
    assert report["confusion"]["P3"] == {"P0": 1, "P1": 0, "P2": 0, "P3": 1}
    assert [m["id"] for m in report["misses"]] == ["c", "d"]
    assert report["benign_at_p0"] == ["d"]
    assert report["goals"]["met"] is False


_GOOD = """
- id: ok-01
  note: a fine case
  now: "2026-11-20T16:00:00Z"
  accept: [P3]
  benign: true
  escalation: {channel: internal, external_id: e-1, category: other, summary: "spam"}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, "utf-8")
    return tmp_path


def test_a_good_case_loads(tmp_path: Path) -> None:
    [case] = load_cases(_write(tmp_path, "a.yaml", _GOOD))
    assert (case.id, case.accept, case.benign, case.platform_zone) == (
        "ok-01",
        (Priority.P3,),
        True,
        "UTC",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_GOOD.replace("accept: [P3]", "accept: [P0]"), "ok-01: a benign look-alike may never"),
        (_GOOD.replace("category: other", "category: nonsense"), "ok-01: escalation does not"),
        (_GOOD.replace("accept: [P3]", "accept: [P5]"), "ok-01: ['P5']: use P0"),
        (_GOOD.replace('now: "2026-11-20T16:00:00Z"', "now: 2026-11-20"), "ok-01: must be a"),
        (_GOOD.replace("note: a fine case", "nate: typo"), "ok-01: missing ['note']"),
        (_GOOD.replace("id: ok-01", "id: Bad_Id"), "id 'Bad_Id' must be"),
    ],
)
def test_a_bad_case_is_refused_naming_it(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(EvalSetError) as caught:
        load_cases(_write(tmp_path, "a.yaml", text))
    assert expected in str(caught.value)
    assert str(caught.value).startswith("a.yaml: ")


def test_an_id_used_in_two_files_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", _GOOD)
    _write(tmp_path, "b.yaml", _GOOD.replace("e-1", "e-2"))
    with pytest.raises(EvalSetError, match=r"b.yaml: ok-01: id already used in a.yaml"):
        load_cases(tmp_path)


def test_the_benchmark_prints_the_report_as_json(tmp_path: Path) -> None:
    # A small set of its own keeps this test about the script, not about the policy.
    directory = _write(tmp_path, "a.yaml", _GOOD)
    done = subprocess.run(
        [sys.executable, str(BENCH), "--json", "--dir", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["cases"] == 1
    assert set(report) >= {"cases", "per_priority", "confusion", "misses", "goals"}
    assert set(report["goals"]) == {"p0_recall", "p0_precision", "met"}
    # No P0 case in the set, so recall is undefined and the goal is not met: exit status 1.
    assert report["goals"]["met"] is False
    assert done.returncode == 1
    human = subprocess.run(
        [sys.executable, str(BENCH), "--dir", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert "confusion (rows: expected = accept[0]; columns: predicted)" in human.stdout


HOLDOUT_DIR = ROOT / "tests" / "triage" / "eval_holdout"


def test_the_held_out_set_loads_and_does_not_regress(cases: list[EvalCase]) -> None:
    """90 cases written by someone who had seen neither the policy nor the set above, measured
    before the policy was tuned on them (docs/triage-eval.md has the figures). The floors are
    what it reached; a change that drops below them is a regression in generalising."""
    held_out = load_cases(HOLDOUT_DIR)
    assert len(held_out) >= 90
    assert not {c.id for c in held_out} & {c.id for c in cases}
    report = measure(run_cases(held_out))
    p0 = report["per_priority"]["P0"]
    assert p0["recall"] >= 0.8, report["misses"]
    assert p0["precision"] >= 0.9, report["confusion"]
    assert len(report["benign_at_p0"]) <= 1, report["benign_at_p0"]
