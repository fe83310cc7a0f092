"""Triage policies as data: load and check a YAML policy of CEL rules, then evaluate it over a
TriageContext to get a priority, deadlines, a queue and an explanation a person can read.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from types import MappingProxyType
from typing import Any, Final, NamedTuple

import cel

from safeguard.cases.workflow import Priority
from safeguard.core.errors import Invalid
from safeguard.core.invisible import describe, first_invisible
from safeguard.signals.indicators import default_families
from safeguard.signals.safe_yaml import YamlRefused, load_untrusted_yaml
from safeguard.triage.cel_check import (
    CEL_ERRORS,
    COMPREHENSIONS,
    GLOBAL_FUNCTIONS,
    METHOD_FUNCTIONS,
    TYPE_NAMES,
    sample_problem,
    static_problems,
)
from safeguard.triage.context import CelValue, TriageContext, sample_contexts

__all__ = [
    "CEL_ERRORS",
    "COMPREHENSIONS",
    "DEFAULT_SLA",
    "DEFAULT_WARN_AT",
    "GLOBAL_FUNCTIONS",
    "MAX_POLICY_BYTES",
    "METHOD_FUNCTIONS",
    "TYPE_NAMES",
    "Policy",
    "PolicyError",
    "PolicyProblem",
    "Rule",
    "RuleError",
    "TriageResult",
    "compile_policy",
    "default_policy",
    "default_policy_text",
    "parse_duration",
]

DEFAULT_SLA: Final[Mapping[Priority, timedelta]] = MappingProxyType(
    {
        Priority.P0: timedelta(minutes=15),
        Priority.P1: timedelta(hours=1),
        Priority.P2: timedelta(hours=24),
        Priority.P3: timedelta(hours=72),
    }
)
DEFAULT_WARN_AT: Final = 0.75
DEFAULT_PRIORITY: Final = Priority.P3
DEFAULT_QUEUE: Final = "general"
DEFAULT_EXPLAIN: Final = "no triage rule matched"


_TOP_KEYS: Final = ("version", "sla", "warn_at", "default", "rules")
_DEFAULT_KEYS: Final = ("priority", "queue", "explain")
_RULE_KEYS: Final = ("name", "when", "priority", "queue", "tags", "explain")
_RULE_REQUIRED: Final = ("name", "when", "priority", "explain")
_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
_QUEUE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TAG: Final = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")
_DURATION: Final = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_MAX_WHEN: Final = 4000
_MAX_EXPLAIN: Final = 200
# An uploaded policy is read whole before it is checked; the shipped one is under 6 KiB.
MAX_POLICY_BYTES: Final = 256 * 1024
_PRIORITIES: Final = ", ".join(p.value for p in Priority)


# --- Errors ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One thing wrong with a policy: the rule (if any), the field, and what is wrong."""

    rule: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"rule {self.rule!r}: {self.field}" if self.rule is not None else self.field
        return f"{where}: {self.message}"


class PolicyError(Invalid, ValueError):
    """A policy cannot be used; lists every problem found, each naming its rule and field."""

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        if not problems:
            raise ValueError("a PolicyError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @property
    def rule(self) -> str | None:
        """The rule of the first problem, or None when it is not about a rule."""
        return self.problems[0].rule


def _problem(field_name: str, message: str, rule: str | None = None) -> PolicyError:
    return PolicyError([PolicyProblem(rule=rule, field=field_name, message=message)])


# --- Durations ---------------------------------------------------------------------------------


def parse_duration(text: object) -> timedelta:
    """Parse "15m", "1h", "24h", "1h30m", "2d" (units d, h, m, s); positive and whole units only."""
    if not isinstance(text, str):
        raise ValueError(f"must be a duration string such as 15m, 1h or 24h, got {text!r}")
    match = _DURATION.fullmatch(text.strip())
    if match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration such as 15m, 1h, 24h or 1h30m")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero")
    return duration


def _format_duration(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


# --- The policy --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: str
    priority: Priority
    queue: str | None
    tags: tuple[str, ...]
    explain: str
    program: cel.Program = field(repr=False, compare=False)


class RuleError(NamedTuple):
    """A rule that failed while being evaluated; it counted as not matched."""

    rule: str
    error: str


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class TriageResult:
    """What triage decided and why. `deadlines` has the keys "first_action" and "warn"."""

    priority: Priority
    queue: str
    tags: tuple[str, ...]
    rules_matched: tuple[str, ...]
    explanation: str
    deadlines: Mapping[str, datetime]
    policy_version: str
    rule_errors: tuple[RuleError, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON object `safeguard triage explain` prints, keys in this order."""
        return {
            "priority": self.priority.value,
            "queue": self.queue,
            "deadlines": {name: _iso(moment) for name, moment in self.deadlines.items()},
            "explanation": self.explanation,
            "rules_matched": list(self.rules_matched),
            "policy_version": self.policy_version,
            "tags": list(self.tags),
        }


def _unique(items: Iterator[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    sla: Mapping[Priority, timedelta]
    warn_at: float
    default_priority: Priority
    default_queue: str
    default_explain: str
    rules: tuple[Rule, ...]
    # SHA-256 of the YAML text, so two uploads with the same version but different text differ.
    digest: str

    def evaluate(self, context: TriageContext, *, now: datetime) -> TriageResult:
        """Evaluate every rule; a rule that errors counts as not matched and is reported."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be an aware datetime (UTC)")
        now = now.astimezone(UTC)
        activation = cel.Context(variables=dict(context.to_cel()))
        matched: list[Rule] = []
        errors: list[RuleError] = []
        for rule in self.rules:
            try:
                value = rule.program.execute(activation)
            except CEL_ERRORS as exc:
                errors.append(RuleError(rule=rule.name, error=f"{type(exc).__name__}: {exc}"))
                continue
            if value is True:
                matched.append(rule)
            elif value is not False:
                errors.append(
                    RuleError(
                        rule=rule.name,
                        error=f"gave {type(value).__name__} {value!r}, not true or false",
                    )
                )

        priority = min(
            [self.default_priority, *(rule.priority for rule in matched)],
            key=lambda p: list(Priority).index(p),
        )
        queue = next(
            (r.queue for r in matched if r.priority == priority and r.queue is not None),
            next((r.queue for r in matched if r.queue is not None), self.default_queue),
        )
        tags = tuple(sorted({tag for rule in matched for tag in rule.tags}))
        sla = self.sla[priority]
        deadlines = MappingProxyType({"first_action": now + sla, "warn": now + sla * self.warn_at})
        return TriageResult(
            priority=priority,
            queue=queue,
            tags=tags,
            rules_matched=tuple(rule.name for rule in matched),
            explanation=self._explain(priority, matched, errors),
            deadlines=deadlines,
            policy_version=self.version,
            rule_errors=tuple(errors),
        )

    def _explain(
        self, priority: Priority, matched: Sequence[Rule], errors: Sequence[RuleError]
    ) -> str:
        order = list(Priority)
        leading = _unique(r.explain for r in matched if r.priority == priority)
        # When the default outranks every matched rule, the default is the reason.
        if not leading:
            leading = [self.default_explain]
        others = sorted(
            (r for r in matched if r.priority != priority),
            key=lambda r: order.index(r.priority),
        )
        also = [e for e in _unique(r.explain for r in others) if e not in leading]
        text = f"{priority.value} because: {'; '.join(leading)}"
        if also:
            text += f" (also: {'; '.join(also)})"
        if errors:
            # A reader must know the priority may be understated because a rule could not run.
            text += f" [rules that could not be evaluated: {', '.join(e.rule for e in errors)}]"
        return text


# --- Loading -----------------------------------------------------------------------------------


def _load_yaml(text: str) -> Any:
    try:
        return load_untrusted_yaml(text, max_bytes=MAX_POLICY_BYTES)
    except YamlRefused as exc:
        raise _problem(exc.field, exc.detail) from None


def _check_keys(
    data: Mapping[Any, Any], allowed: Sequence[str], where: str, rule: str | None = None
) -> list[PolicyProblem]:
    return [
        PolicyProblem(
            rule=rule,
            field=f"{where}{key}",
            message=f"unknown key; allowed keys are {', '.join(allowed)}",
        )
        for key in data
        if key not in allowed
    ]


def _priority(value: object) -> Priority:
    if isinstance(value, str) and value in Priority.__members__:
        return Priority(value)
    raise ValueError(f"{value!r} is not a priority; use one of {_PRIORITIES}")


def _text(value: object, *, limit: int, one_line: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    value = value.strip()
    if one_line and "\n" in value:
        raise ValueError("must be one line")
    if len(value) > limit:
        raise ValueError(f"must be at most {limit} characters")
    return value


def _identifier(value: object, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ValueError(
            f"{what} must be lower-case letters, digits, '-' or '_' (starting with a letter or "
            f"digit), got {value!r}"
        )
    return value


def _parse_sla(data: object) -> dict[Priority, timedelta]:
    sla = dict(DEFAULT_SLA)
    if data is None:
        return sla
    if not isinstance(data, Mapping):
        raise _problem("sla", f"must map priorities ({_PRIORITIES}) to durations such as 15m")
    problems = [
        PolicyProblem(None, f"sla.{key}", f"is not a priority; use one of {_PRIORITIES}")
        for key in data
        if key not in Priority.__members__
    ]
    for key, value in data.items():
        if key in Priority.__members__:
            try:
                sla[Priority(key)] = parse_duration(value)
            except ValueError as exc:
                problems.append(PolicyProblem(None, f"sla.{key}", str(exc)))
    if problems:
        raise PolicyError(problems)
    order = list(Priority)
    for urgent, later in itertools.pairwise(order):
        if sla[urgent] > sla[later]:
            raise _problem(
                f"sla.{urgent.value}",
                f"({_format_duration(sla[urgent])}) must not be longer than "
                f"{later.value} ({_format_duration(sla[later])})",
            )
    return sla


def _parse_warn_at(value: object) -> float:
    # YAML reads "yes" as a boolean, and bool is an int subclass, so exclude it explicitly.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise _problem("warn_at", f"must be a number between 0 and 1 (exclusive), got {value!r}")
    return float(value)


def _parse_default(data: object) -> tuple[Priority, str, str]:
    if data is None:
        return DEFAULT_PRIORITY, DEFAULT_QUEUE, DEFAULT_EXPLAIN
    if not isinstance(data, Mapping):
        raise _problem("default", "must be a mapping with priority, queue and explain")
    problems = _check_keys(data, _DEFAULT_KEYS, "default.")
    values: dict[str, Any] = {}
    checks = (
        ("priority", DEFAULT_PRIORITY, _priority),
        ("queue", DEFAULT_QUEUE, lambda v: _identifier(v, _QUEUE, "a queue name")),
        ("explain", DEFAULT_EXPLAIN, lambda v: _text(v, limit=_MAX_EXPLAIN, one_line=True)),
    )
    for key, fallback, check in checks:
        try:
            values[key] = check(data[key]) if key in data else fallback
        except ValueError as exc:
            problems.append(PolicyProblem(None, f"default.{key}", str(exc)))
    if problems:
        raise PolicyError(problems)
    return values["priority"], values["queue"], values["explain"]


def _parse_rule(
    data: object,
    index: int,
    schema: Mapping[str, CelValue],
    samples: Sequence[Mapping[str, CelValue]],
) -> tuple[Rule | None, list[PolicyProblem]]:
    label = f"rules[{index}]"
    if not isinstance(data, Mapping):
        return None, [PolicyProblem(None, label, "must be a mapping with name, when, priority…")]
    try:
        name = _identifier(data.get("name"), _NAME, "a rule name")
    except ValueError as exc:
        return None, [PolicyProblem(None, f"{label}.name", str(exc))]
    problems = _check_keys(data, _RULE_KEYS, "", name)
    problems += [
        PolicyProblem(name, key, "is missing") for key in _RULE_REQUIRED if key not in data
    ]
    if problems:
        return None, problems

    def attempt(key: str, check: Any) -> Any:
        try:
            return check(data[key])
        except ValueError as exc:
            problems.append(PolicyProblem(name, key, str(exc)))
            return None

    priority = attempt("priority", _priority)
    explain = attempt("explain", lambda v: _text(v, limit=_MAX_EXPLAIN, one_line=True))
    queue = (
        attempt("queue", lambda v: _identifier(v, _QUEUE, "a queue name"))
        if data.get("queue") is not None
        else None
    )
    tags: tuple[str, ...] = ()
    raw_tags = data.get("tags", [])
    if not isinstance(raw_tags, list):
        problems.append(PolicyProblem(name, "tags", "must be a list of tags"))
    else:
        try:
            tags = tuple(_unique(_identifier(t, _TAG, "a tag") for t in raw_tags))
        except ValueError as exc:
            problems.append(PolicyProblem(name, "tags", str(exc)))

    when = attempt("when", lambda v: _text(v, limit=_MAX_WHEN, one_line=False))
    program: cel.Program | None = None
    if when is not None:
        try:
            program = cel.compile(when)
        except ValueError as exc:
            problems.append(PolicyProblem(name, "when", f"syntax error: {exc}"))
    if program is not None and when is not None:
        static = static_problems(when, program, schema)
        problems += [PolicyProblem(name, "when", message) for message in static]
        # Evaluating a condition that names unknown fields would only repeat the same problem.
        if not static:
            sample = sample_problem(program, samples)
            if sample is not None:
                problems.append(PolicyProblem(name, "when", sample))
    if problems or program is None or priority is None or explain is None or when is None:
        return None, problems
    rule = Rule(
        name=name,
        when=when,
        priority=priority,
        queue=queue,
        tags=tags,
        explain=explain,
        program=program,
    )
    return rule, []


def compile_policy(yaml_text: str, *, families: Sequence[str] | None = None) -> Policy:
    """Check and compile a whole policy; raise PolicyError listing every problem found.

    Every rule is compiled and checked against the context before anything is returned, so a
    policy with one bad rule is rejected as a whole. `families` names the indicator families
    the context will carry (by default the shipped ones).
    """
    data = _load_yaml(yaml_text)
    if not isinstance(data, Mapping):
        raise _problem("<document>", "must be a mapping with version, sla, warn_at, default, rules")
    top = _check_keys(data, _TOP_KEYS, "")
    top += [
        PolicyProblem(None, key, "is missing") for key in ("version", "rules") if key not in data
    ]
    if top:
        raise PolicyError(top)
    version = data["version"]
    if not isinstance(version, str) or not version.strip() or len(version) > 100:
        raise _problem("version", f"must be a non-empty string (quote numbers), got {version!r}")
    hidden = first_invisible(version)
    if hidden is not None:
        # The version names the policy in the audit log and the console; it must read as stored.
        raise _problem("version", f"contains {describe(hidden[1])}, which a version may not")
    sla = _parse_sla(data.get("sla"))
    warn_at = _parse_warn_at(data.get("warn_at", DEFAULT_WARN_AT))
    default_priority, default_queue, default_explain = _parse_default(data.get("default"))
    raw_rules = data["rules"]
    if not isinstance(raw_rules, list):
        raise _problem("rules", "must be a list of rules")

    names = list(families) if families is not None else [f.name for f in default_families()]
    samples = tuple(context.to_cel() for context in sample_contexts(names))
    schema = samples[0]
    rules: list[Rule] = []
    problems: list[PolicyProblem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_rules):
        rule, rule_problems = _parse_rule(raw, index, schema, samples)
        problems += rule_problems
        name = raw.get("name") if isinstance(raw, Mapping) else None
        if isinstance(name, str):
            if name in seen:
                problems.append(
                    PolicyProblem(name, "name", f"duplicate: rules[{seen[name]}] has the same name")
                )
            else:
                seen[name] = index
        if rule is not None:
            rules.append(rule)
    if problems:
        raise PolicyError(problems)
    return Policy(
        version=version.strip(),
        sla=MappingProxyType(sla),
        warn_at=warn_at,
        default_priority=default_priority,
        default_queue=default_queue,
        default_explain=default_explain,
        rules=tuple(rules),
        digest=hashlib.sha256(yaml_text.encode("utf-8")).hexdigest(),
    )


def default_policy_text() -> str:
    """The YAML of the policy shipped with Safeguard (safeguard/triage/default_policy.yaml)."""
    resource = importlib.resources.files("safeguard.triage").joinpath("default_policy.yaml")
    return resource.read_text(encoding="utf-8")


@cache
def default_policy() -> Policy:
    """The shipped policy, compiled once per process."""
    return compile_policy(default_policy_text())
