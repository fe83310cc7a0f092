"""The triage evaluation set: load the labelled cases of tests/triage/eval/, run each through
build_context and a policy, and measure precision and recall per priority (docs/triage-eval.md).

Pure: no Django. A case is a synthetic escalation in the intake contract's JSON, labelled with
the priorities a child-safety lead would accept for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from safeguard.cases.workflow import Priority
from safeguard.intake.schemas import EscalationIn
from safeguard.intake.sources import source_of
from safeguard.signals.safe_yaml import YamlRefused, load_untrusted_yaml
from safeguard.triage.context import SourceFacts, SuspectFacts, build_context
from safeguard.triage.policy import Policy, default_policy

__all__ = [
    "GOAL_P0_PRECISION",
    "GOAL_P0_RECALL",
    "CaseOutcome",
    "EvalCase",
    "EvalSetError",
    "load_cases",
    "measure",
    "run_case",
    "run_cases",
]

# The goals on the set: every P0 found, and at most one P0 in ten a false alarm.
GOAL_P0_RECALL: Final = 1.0
GOAL_P0_PRECISION: Final = 0.9

_MAX_FILE_BYTES: Final = 2_000_000
_ID: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
_REQUIRED: Final = frozenset({"id", "note", "now", "accept", "escalation"})
_OPTIONAL: Final = frozenset({"platform_zone", "le_partner", "suspect", "benign"})
_SUSPECT_INTS: Final = (
    "distinct_minors",
    "escalations",
    "age_probed_minors",
    "migration_escalations",
)
_ORDER: Final = {p: i for i, p in enumerate(Priority)}


class EvalSetError(ValueError):
    """The set cannot be used as written: every problem, each naming its file and case id."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One labelled escalation. `accept[0]` is the lead's preferred priority (the expected)."""

    id: str
    file: str
    note: str
    now: datetime
    accept: tuple[Priority, ...]
    benign: bool
    escalation: Mapping[str, Any]
    platform_zone: str = "UTC"
    le_partner: bool = False
    suspect: SuspectFacts | None = None

    @property
    def expected(self) -> Priority:
        return self.accept[0]


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """What the policy gave one case, and whether the lead would accept it."""

    case: EvalCase
    predicted: Priority
    explanation: str

    @property
    def correct(self) -> bool:
        return self.predicted in self.case.accept


def _moment(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be a quoted ISO-8601 string such as '2026-11-20T16:00:00Z'")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("must include a time zone offset")
    return parsed


def _suspect(value: object) -> SuspectFacts:
    if not isinstance(value, Mapping):
        raise ValueError("must be a mapping of SuspectFacts fields")
    unknown = sorted(set(value) - {*_SUSPECT_INTS, "prior_labels"})
    if unknown:
        raise ValueError(f"unknown fields {unknown}")
    counts: dict[str, int] = {}
    for name in _SUSPECT_INTS:
        number = value.get(name, 0)
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValueError(f"{name} must be a whole number >= 0")
        counts[name] = number
    labels = value.get("prior_labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise ValueError("prior_labels must be a list of strings")
    return SuspectFacts(prior_labels=tuple(labels), **counts)


def _accept(value: object) -> tuple[Priority, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list such as [P0] or [P3, P2]")
    try:
        found = tuple(Priority(item) for item in value)
    except ValueError:
        raise ValueError(f"{value!r}: use P0, P1, P2, P3") from None
    if len(set(found)) != len(found):
        raise ValueError("lists a priority twice")
    return found


def _case(raw: object, file: str, index: int) -> EvalCase:
    if not isinstance(raw, Mapping):
        raise ValueError(f"item {index} is not a mapping")
    keys = set(raw)
    missing = sorted(_REQUIRED - keys)
    unknown = sorted(keys - _REQUIRED - _OPTIONAL)
    if missing or unknown:
        raise ValueError(f"missing {missing}, unknown {unknown}")
    case_id = raw["id"]
    if not isinstance(case_id, str) or not _ID.fullmatch(case_id):
        raise ValueError(f"id {case_id!r} must be lowercase letters, digits and dashes")
    note, zone = raw["note"], raw.get("platform_zone", "UTC")
    if not isinstance(note, str) or not note.strip():
        raise ValueError("note must be a sentence saying why the lead labels it so")
    if not isinstance(zone, str):
        raise ValueError("platform_zone must be a zone name such as Europe/Madrid")
    benign, le_partner = raw.get("benign", False), raw.get("le_partner", False)
    if not isinstance(benign, bool) or not isinstance(le_partner, bool):
        raise ValueError("benign and le_partner must be true or false")
    accept = _accept(raw["accept"])
    if benign and Priority.P0 in accept:
        raise ValueError("a benign look-alike may never accept P0")
    escalation = raw["escalation"]
    if not isinstance(escalation, Mapping):
        raise ValueError("escalation must be the intake contract's JSON object")
    try:
        EscalationIn.model_validate(escalation)
    except ValidationError as exc:
        raise ValueError(f"escalation does not validate: {exc}") from None
    return EvalCase(
        id=case_id,
        file=file,
        note=note,
        now=_moment(raw["now"]),
        accept=accept,
        benign=benign,
        escalation=escalation,
        platform_zone=zone,
        le_partner=le_partner,
        suspect=_suspect(raw["suspect"]) if raw.get("suspect") is not None else None,
    )


def load_cases(directory: Path) -> list[EvalCase]:
    """Every case of every *.yaml file in `directory`, in file then list order.

    Raises EvalSetError listing every problem (file, case id, what is wrong) at once, including
    an id used twice across files.
    """
    problems: list[str] = []
    cases: list[EvalCase] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = load_untrusted_yaml(path.read_text("utf-8"), max_bytes=_MAX_FILE_BYTES)
        except YamlRefused as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        if not isinstance(data, list):
            problems.append(f"{path.name}: must be a YAML list of cases")
            continue
        for index, raw in enumerate(data):
            label = raw.get("id", f"item {index}") if isinstance(raw, Mapping) else index
            try:
                case = _case(raw, path.name, index)
            except ValueError as exc:
                problems.append(f"{path.name}: {label}: {exc}")
                continue
            if case.id in seen:
                problems.append(f"{path.name}: {case.id}: id already used in {seen[case.id]}")
                continue
            seen[case.id] = path.name
            cases.append(case)
    if not cases and not problems:
        problems.append(f"{directory}: no cases (*.yaml)")
    if problems:
        raise EvalSetError(problems)
    return cases


def run_case(case: EvalCase, policy: Policy) -> CaseOutcome:
    """Triage one case exactly as intake does: source from the contract, context, policy."""
    model = EscalationIn.model_validate(case.escalation)
    kind, verified = source_of(model, le_partner=case.le_partner)
    context = build_context(
        model.model_dump(mode="json"),
        now=case.now,
        source=SourceFacts(kind=kind.value, verified=verified),
        suspect=case.suspect,
        platform_zone=case.platform_zone,
        ignored_models=policy.ignored_models,
    )
    result = policy.evaluate(context, now=case.now)
    return CaseOutcome(case=case, predicted=result.priority, explanation=result.explanation)


def run_cases(cases: Iterable[EvalCase], policy: Policy | None = None) -> list[CaseOutcome]:
    """Run every case through `policy` (the shipped default when none is given)."""
    chosen = policy if policy is not None else default_policy()
    return [run_case(case, chosen) for case in cases]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def measure(outcomes: Sequence[CaseOutcome]) -> dict[str, Any]:
    """Precision, recall and the confusion table (expected = accept[0]) as one JSON object.

    A prediction is correct when it is in the case's accept list. recall(P) counts the correct
    among cases whose expected is P; precision(P) the correct among cases predicted P.
    """
    names = [p.value for p in Priority]
    confusion = {e: dict.fromkeys(names, 0) for e in names}
    per: dict[str, dict[str, Any]] = {}
    for priority in Priority:
        expected = [o for o in outcomes if o.case.expected is priority]
        predicted = [o for o in outcomes if o.predicted is priority]
        per[priority.value] = {
            "expected": len(expected),
            "predicted": len(predicted),
            "recall": _ratio(sum(o.correct for o in expected), len(expected)),
            "precision": _ratio(sum(o.correct for o in predicted), len(predicted)),
        }
    for outcome in outcomes:
        confusion[outcome.case.expected.value][outcome.predicted.value] += 1
    misses = [
        {
            "id": o.case.id,
            "file": o.case.file,
            "accept": [p.value for p in o.case.accept],
            "predicted": o.predicted.value,
            "explanation": o.explanation,
        }
        for o in sorted(outcomes, key=lambda o: (_ORDER[o.case.expected], o.case.id))
        if not o.correct
    ]
    p0 = per[Priority.P0.value]
    benign_p0 = sorted(o.case.id for o in outcomes if o.case.benign and o.predicted is Priority.P0)
    met = (
        p0["recall"] is not None
        and p0["recall"] >= GOAL_P0_RECALL
        and (p0["precision"] is None or p0["precision"] >= GOAL_P0_PRECISION)
        and not benign_p0
    )
    return {
        "cases": len(outcomes),
        "benign": sum(o.case.benign for o in outcomes),
        "accuracy": _ratio(sum(o.correct for o in outcomes), len(outcomes)),
        "per_priority": per,
        "confusion": confusion,
        "misses": misses,
        "benign_at_p0": benign_p0,
        "goals": {
            "p0_recall": GOAL_P0_RECALL,
            "p0_precision": GOAL_P0_PRECISION,
            "met": met,
        },
    }
