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
    "LICENCES",
    "MAX_POLICY_BYTES",
    "METHOD_FUNCTIONS",
    "PLACEHOLDERS",
    "SOURCE_WORDS",
    "TYPE_NAMES",
    "Policy",
    "PolicyError",
    "PolicyProblem",
    "Rule",
    "RuleError",
    "SourceRule",
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


_TOP_KEYS: Final = (
    "version",
    "sla",
    "warn_at",
    "harm_margin",
    "retriage_within",
    "sources",
    "languages",
    "classifiers",
    "default",
    "rules",
)
_SOURCE_KEYS: Final = ("floor", "raise", "raise_limit")
_LANGUAGE_KEYS: Final = ("unassessed_floor", "queues")
_CLASSIFIER_KEYS: Final = ("licences",)
# What a platform's model may be used for. Every model is "prioritise_only" unless the policy
# says "ignore": no licence lets a score act on its own (docs/triage-policy.md).
LICENCES: Final = ("prioritise_only", "ignore")
DEFAULT_HARM_MARGIN: Final = timedelta(hours=1)
DEFAULT_RETRIAGE_WITHIN: Final = timedelta(hours=24)
_LANGUAGE_CODE: Final = re.compile(r"[a-z]{2,3}")
_MODEL: Final = re.compile(r"[^\s]{1,100}")
# Placeholders an explanation may name; each is filled from the context (see _fill).
PLACEHOLDERS: Final = ("imminence", "source", "suspect", "languages")
_PLACEHOLDER: Final = re.compile(r"\{([^{}]*)\}")
# How a source kind reads in an explanation.
SOURCE_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "hotline": "a hotline",
        "trusted_flagger": "a trusted flagger (DSA Art. 22)",
        "law_enforcement": "verified law enforcement",
        "law_enforcement_unverified": "law enforcement, not verified",
        "classifier": "the platform's classifier",
        "internal": "an internal team",
        "user": "a user",
        "anonymous": "an anonymous user",
    }
)
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


@dataclass(frozen=True, slots=True)
class SourceRule:
    """What a source kind does to the priority the rules gave: raise it `raise_by` levels, but
    never above `raise_limit` by raising, and never leave it below `floor`."""

    floor: Priority | None = None
    raise_by: int = 0
    raise_limit: Priority = Priority.P1


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
    # The facts behind the priority a person reads beside the rules: when the harm may happen,
    # who sent it and how far that is trusted, the suspects' history, languages not assessed.
    reasons: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

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
            "reasons": dict(self.reasons),
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
    harm_margin: timedelta = DEFAULT_HARM_MARGIN
    retriage_within: timedelta = DEFAULT_RETRIAGE_WITHIN
    sources: Mapping[str, SourceRule] = field(default_factory=lambda: MappingProxyType({}))
    unassessed_floor: Priority | None = Priority.P2
    language_queues: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    licences: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def ignored_models(self) -> tuple[str, ...]:
        """Classifier models whose results the context must leave out (licence "ignore")."""
        return tuple(sorted(m for m, licence in self.licences.items() if licence == "ignore"))

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

        order = list(Priority)
        ruled = min([self.default_priority, *(rule.priority for rule in matched)], key=order.index)
        queue = next(
            (r.queue for r in matched if r.priority == ruled and r.queue is not None),
            next((r.queue for r in matched if r.queue is not None), self.default_queue),
        )
        priority, adjustments = self._adjust(ruled, context)
        for language in context.unassessed_languages:
            if language in self.language_queues:
                queue = self.language_queues[language]
                adjustments.append(f"routed to {queue} for language {language}")
                break
        tags = tuple(sorted({tag for rule in matched for tag in rule.tags}))
        explanation = self._explain(ruled, matched, errors, context)
        if priority != ruled or adjustments:
            if priority != ruled:
                explanation = f"{priority.value} " + explanation.removeprefix(ruled.value + " ")
            explanation += " [" + "; ".join(adjustments) + "]"
        return TriageResult(
            priority=priority,
            queue=queue,
            tags=tags,
            rules_matched=tuple(rule.name for rule in matched),
            explanation=explanation,
            deadlines=self._deadlines(priority, context, now),
            policy_version=self.version,
            rule_errors=tuple(errors),
            reasons=MappingProxyType(_reasons(context)),
        )

    def _adjust(self, ruled: Priority, context: TriageContext) -> tuple[Priority, list[str]]:
        """The rules' priority after the source's raise and floor and the language floor."""
        order = list(Priority)
        priority = ruled
        notes: list[str] = []
        words = SOURCE_WORDS.get(context.source.kind, context.source.kind)
        rule = self.sources.get(context.source.kind)
        if rule is not None and rule.raise_by:
            raised = order[max(0, order.index(priority) - rule.raise_by)]
            if order.index(raised) < order.index(rule.raise_limit):
                raised = min(priority, rule.raise_limit, key=order.index)
            if raised != priority:
                notes.append(f"raised from {priority.value}: sent by {words}")
                priority = raised
        if (
            rule is not None
            and rule.floor is not None
            and order.index(priority) > order.index(rule.floor)
        ):
            notes.append(f"at least {rule.floor.value}: sent by {words}")
            priority = rule.floor
        if context.unassessed_languages:
            names = ", ".join(context.unassessed_languages)
            note = f"not assessed: language {names}"
            floor = self.unassessed_floor
            if floor is not None and order.index(priority) > order.index(floor):
                note += f", so at least {floor.value}"
                priority = floor
            notes.append(note)
        return priority, notes

    def _deadlines(
        self, priority: Priority, context: TriageContext, now: datetime
    ) -> Mapping[str, datetime]:
        """First action due after the priority's window, but never later than the predicted
        harm time less the margin (and not before now); a re-triage when the harm time is far."""
        sla = self.sla[priority]
        first = now + sla
        warn = now + sla * self.warn_at
        deadlines: dict[str, datetime] = {}
        harm_at = context.imminence.at if context.imminence.known else None
        if harm_at is not None and harm_at > now:
            first = min(first, max(now, harm_at - self.harm_margin))
            warn = min(warn, first)
            deadlines["harm"] = harm_at
            if harm_at - self.retriage_within > now:
                deadlines["retriage"] = harm_at - self.retriage_within
        return MappingProxyType({"first_action": first, "warn": warn, **deadlines})

    def _explain(
        self,
        priority: Priority,
        matched: Sequence[Rule],
        errors: Sequence[RuleError],
        context: TriageContext,
    ) -> str:
        order = list(Priority)
        leading = _unique(_fill(r.explain, context) for r in matched if r.priority == priority)
        # When the default outranks every matched rule, the default is the reason.
        if not leading:
            leading = [self.default_explain]
        others = sorted(
            (r for r in matched if r.priority != priority),
            key=lambda r: order.index(r.priority),
        )
        also = [e for e in _unique(_fill(r.explain, context) for r in others) if e not in leading]
        text = f"{priority.value} because: {'; '.join(leading)}"
        if also:
            text += f" (also: {'; '.join(also)})"
        if errors:
            # A reader must know the priority may be understated because a rule could not run.
            text += f" [rules that could not be evaluated: {', '.join(e.rule for e in errors)}]"
        return text


def _suspect_words(context: TriageContext) -> str:
    facts = context.suspect
    parts = []
    if facts.distinct_minors:
        parts.append(
            "reported with 1 child"
            if facts.distinct_minors == 1
            else f"reported with {facts.distinct_minors} different children"
        )
    if facts.age_probed_minors:
        parts.append(f"asked {facts.age_probed_minors} of them their age")
    if facts.migration_escalations:
        parts.append(f"moved children to another app in {facts.migration_escalations} reports")
    if facts.prior_labels:
        parts.append(f"earlier decisions: {', '.join(facts.prior_labels)}")
    return "the suspect " + ", ".join(parts) if parts else "no earlier reports of the suspect"


def _fill(template: str, context: TriageContext) -> str:
    """An explanation with its placeholders ({imminence}, ...) filled from the context."""
    if "{" not in template:
        return template
    values = {
        "imminence": context.imminence.describe() or "(time not stated)",
        "source": SOURCE_WORDS.get(context.source.kind, context.source.kind),
        "suspect": _suspect_words(context),
        "languages": ", ".join(context.unassessed_languages or context.languages) or "none",
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _reasons(context: TriageContext) -> dict[str, Any]:
    imminence = context.imminence
    return {
        "imminence": {
            "known": imminence.known,
            "hours_until": imminence.hours_until if imminence.known else None,
            "expression": imminence.expression,
            "harm": imminence.harm,
            "at": _iso(imminence.at) if imminence.at is not None else None,
            "zone": imminence.zone,
            "zone_reason": imminence.zone_reason,
            "where": (
                {"source": imminence.source, "start": imminence.start, "end": imminence.end}
                if imminence.known
                else None
            ),
        },
        "source": {
            "kind": context.source.kind,
            "verified": context.source.verified,
            "reads_as": SOURCE_WORDS.get(context.source.kind, context.source.kind),
        },
        "suspect": {
            "distinct_minors": context.suspect.distinct_minors,
            "age_probed_minors": context.suspect.age_probed_minors,
            "migration_escalations": context.suspect.migration_escalations,
            "escalations": context.suspect.escalations,
            "prior_labels": list(context.suspect.prior_labels),
            "reads_as": _suspect_words(context),
        },
        "languages": {
            "detected": list(context.languages),
            "not_assessed": list(context.unassessed_languages),
        },
        "classifiers": {
            label: {"score": c.score, "model": c.model, "version": c.version}
            for label, c in sorted(context.classifiers.items())
        },
    }


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


def _parse_margin(data: Mapping[str, Any], key: str, fallback: timedelta) -> timedelta:
    if key not in data:
        return fallback
    try:
        return parse_duration(data[key])
    except ValueError as exc:
        raise _problem(key, str(exc)) from None


def _parse_sources(data: object) -> dict[str, SourceRule]:
    """`sources`: per source kind (intake.enums.SourceKind), its floor and raise."""
    if data is None:
        return {}
    kinds = tuple(SOURCE_WORDS)
    if not isinstance(data, Mapping):
        raise _problem("sources", f"must map source kinds ({', '.join(kinds)}) to floor/raise")
    problems: list[PolicyProblem] = []
    out: dict[str, SourceRule] = {}
    for kind, entry in data.items():
        where = f"sources.{kind}"
        if kind not in kinds:
            problems.append(
                PolicyProblem(None, where, f"is not a source kind; use {', '.join(kinds)}")
            )
            continue
        if entry is None:
            entry = {}
        if not isinstance(entry, Mapping):
            problems.append(
                PolicyProblem(None, where, "must be a mapping of floor, raise, raise_limit")
            )
            continue
        here = _check_keys(entry, _SOURCE_KEYS, f"{where}.")
        try:
            floor = _priority(entry["floor"]) if entry.get("floor") is not None else None
            limit = _priority(entry.get("raise_limit", Priority.P1.value))
            raise_by = entry.get("raise", 0)
            if (
                isinstance(raise_by, bool)
                or not isinstance(raise_by, int)
                or not 0 <= raise_by <= 3
            ):
                raise ValueError(
                    f"raise must be a whole number of levels from 0 to 3, got {raise_by!r}"
                )
        except ValueError as exc:
            here.append(PolicyProblem(None, where, str(exc)))
        problems += here
        if not here:
            out[kind] = SourceRule(floor=floor, raise_by=raise_by, raise_limit=limit)
    if problems:
        raise PolicyError(problems)
    return out


def _parse_languages(data: object) -> tuple[Priority | None, dict[str, str]]:
    """`languages`: the floor for text in a language with no indicator files, and the queue
    of the people who read a language, where there is one."""
    if data is None:
        return Priority.P2, {}
    if not isinstance(data, Mapping):
        raise _problem("languages", "must be a mapping with unassessed_floor and queues")
    problems = _check_keys(data, _LANGUAGE_KEYS, "languages.")
    floor: Priority | None = Priority.P2
    if "unassessed_floor" in data:
        raw = data["unassessed_floor"]
        try:
            floor = None if raw in (None, "none") else _priority(raw)
        except ValueError as exc:
            problems.append(PolicyProblem(None, "languages.unassessed_floor", str(exc)))
    queues: dict[str, str] = {}
    raw_queues = data.get("queues") or {}
    if not isinstance(raw_queues, Mapping):
        problems.append(
            PolicyProblem(None, "languages.queues", "must map language codes to queues")
        )
    else:
        for code, queue in raw_queues.items():
            where = f"languages.queues.{code}"
            if not isinstance(code, str) or _LANGUAGE_CODE.fullmatch(code) is None:
                problems.append(PolicyProblem(None, where, "is not an ISO 639 code such as ar"))
                continue
            try:
                queues[code] = _identifier(queue, _QUEUE, "a queue name")
            except ValueError as exc:
                problems.append(PolicyProblem(None, where, str(exc)))
    if problems:
        raise PolicyError(problems)
    return floor, queues


def _parse_classifiers(data: object) -> dict[str, str]:
    """`classifiers.licences`: per model name, prioritise_only (the default) or ignore."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise _problem("classifiers", "must be a mapping with licences")
    problems = _check_keys(data, _CLASSIFIER_KEYS, "classifiers.")
    licences: dict[str, str] = {}
    raw = data.get("licences") or {}
    if not isinstance(raw, Mapping):
        problems.append(
            PolicyProblem(None, "classifiers.licences", "must map model names to licences")
        )
    else:
        for model, licence in raw.items():
            where = f"classifiers.licences.{model}"
            if not isinstance(model, str) or _MODEL.fullmatch(model) is None:
                problems.append(PolicyProblem(None, where, "is not a model name"))
            elif licence not in LICENCES:
                problems.append(
                    PolicyProblem(
                        None, where, f"{licence!r} is not a licence; use {', '.join(LICENCES)}"
                    )
                )
            else:
                licences[model] = licence
    if problems:
        raise PolicyError(problems)
    return licences


def _explain_text(value: object) -> str:
    text = _text(value, limit=_MAX_EXPLAIN, one_line=True)
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) not in PLACEHOLDERS:
            names = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
            raise ValueError(f"{{{match.group(1)}}} is not a placeholder; use {names}")
    return text


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
        ("explain", DEFAULT_EXPLAIN, _explain_text),
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
    explain = attempt("explain", _explain_text)
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
    harm_margin = _parse_margin(data, "harm_margin", DEFAULT_HARM_MARGIN)
    retriage_within = _parse_margin(data, "retriage_within", DEFAULT_RETRIAGE_WITHIN)
    sources = _parse_sources(data.get("sources"))
    unassessed_floor, language_queues = _parse_languages(data.get("languages"))
    licences = _parse_classifiers(data.get("classifiers"))
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
        harm_margin=harm_margin,
        retriage_within=retriage_within,
        sources=MappingProxyType(sources),
        unassessed_floor=unassessed_floor,
        language_queues=MappingProxyType(language_queues),
        licences=MappingProxyType(licences),
    )


def default_policy_text() -> str:
    """The YAML of the policy shipped with Safeguard (safeguard/triage/default_policy.yaml)."""
    resource = importlib.resources.files("safeguard.triage").joinpath("default_policy.yaml")
    return resource.read_text(encoding="utf-8")


@cache
def default_policy() -> Policy:
    """The shipped policy, compiled once per process."""
    return compile_policy(default_policy_text())
