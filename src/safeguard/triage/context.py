"""The typed context a triage policy's rules are evaluated over, built from an escalation in the
intake contract's JSON. Every field is documented in docs/triage-policy.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from safeguard.intake.enums import Category, Channel, ContentKind, LERequestType, SubjectRole
from safeguard.intake.hooks import HashMatchSummary
from safeguard.signals.indicators import Family, SignalResult, analyze, default_families

__all__ = [
    "ADULT_AGE",
    "CelValue",
    "ContextError",
    "FamilySignal",
    "HashMatchSummary",
    "TextIndicator",
    "TriageContext",
    "build_context",
    "sample_contexts",
]

# The age from which a stated age no longer counts as a minor's.
ADULT_AGE: Final = 18

# What the CEL activation may hold: the JSON-like values the CEL library converts natively.
CelValue: TypeAlias = "str | bool | int | float | list[CelValue] | dict[str, CelValue]"


class ContextError(ValueError):
    """The escalation payload cannot be read as the intake contract; names the field."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        self.message = message
        super().__init__(f"{field_name}: {message}")


@dataclass(frozen=True, slots=True)
class FamilySignal:
    """One indicator family's result over all the escalation's texts."""

    score: float
    triggered: bool


@dataclass(frozen=True, slots=True)
class TextIndicator:
    """An indicator phrase found in one of the escalation's texts, kept for highlighting.

    `source` is "summary" or "content:<platform_id>"; start and end index that text.
    """

    source: str
    family: str
    group: str
    phrase_id: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class TriageContext:
    """The facts rules may use. `to_cel()` is exactly what a rule's CEL condition sees."""

    channel: str
    category: str
    le_request_type: str
    minor_involved: bool
    victim_min_age: int
    suspect_is_minor: bool
    live: bool
    content_kinds: tuple[str, ...]
    signals: Mapping[str, FamilySignal]
    hash_match: HashMatchSummary
    case_escalations: int
    prior_decisions: tuple[str, ...]
    # What the case already holds: the categories of its earlier escalations and the signal
    # families that triggered in them, so a rule can see, e.g., self-harm in a sextortion case.
    case_categories: tuple[str, ...] = ()
    case_signals: tuple[str, ...] = ()
    # Spans stay out of the CEL activation: rules decide on scores, people read the spans.
    indicators: tuple[TextIndicator, ...] = field(default=(), compare=False)

    def to_cel(self) -> dict[str, CelValue]:
        """The CEL activation: plain values, a fresh copy on every call."""
        signals: dict[str, CelValue] = {
            name: {"score": float(signal.score), "triggered": signal.triggered}
            for name, signal in self.signals.items()
        }
        return {
            "channel": self.channel,
            "category": self.category,
            "le_request_type": self.le_request_type,
            "minor_involved": self.minor_involved,
            "victim_min_age": self.victim_min_age,
            "suspect_is_minor": self.suspect_is_minor,
            "live": self.live,
            "content_kinds": list(self.content_kinds),
            "signals": signals,
            "hash_match": {
                "verified": self.hash_match.verified,
                "count": self.hash_match.count,
                "min_distance": self.hash_match.min_distance,
            },
            "case_escalations": self.case_escalations,
            "prior_decisions": list(self.prior_decisions),
            "case_categories": list(self.case_categories),
            "case_signals": list(self.case_signals),
        }


def _require(payload: Mapping[str, Any], key: str, where: str = "") -> Any:
    if key not in payload:
        raise ContextError(f"{where}{key}", "is missing")
    return payload[key]


def _enum_value(enum: type[Any], value: object, field_name: str) -> str:
    try:
        return str(enum(value).value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ContextError(field_name, f"{value!r} is not one of {allowed}") from None


def _list_of_mappings(payload: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = payload.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise ContextError(key, "must be a list of objects")
    return value


def _age(subject: Mapping[str, Any], index: int) -> int | None:
    age = subject.get("age")
    # bool is an int subclass; an age of `true` is a malformed payload, not the age 1.
    if age is None:
        return None
    if isinstance(age, bool) or not isinstance(age, int) or age < 0:
        raise ContextError(
            f"subjects[{index}].age", f"must be a whole number of years, got {age!r}"
        )
    return int(age)


def _texts(payload: Mapping[str, Any], content: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    summary = _require(payload, "summary")
    if not isinstance(summary, str):
        raise ContextError("summary", "must be a string")
    texts = [("summary", summary)]
    for index, item in enumerate(content):
        text = item.get("text")
        if text is None:
            continue
        if not isinstance(text, str):
            raise ContextError(f"content[{index}].text", "must be a string")
        texts.append((f"content:{item.get('platform_id', index)}", text))
    return texts


def _signals(
    texts: Sequence[tuple[str, str]], families: Sequence[Family]
) -> tuple[dict[str, FamilySignal], tuple[TextIndicator, ...]]:
    # Each text is analysed on its own so spans index the text they came from, and a phrase can
    # never be stitched together across two unrelated texts. A family's score is its highest
    # score in any one text, so a combination family (threat + demand) needs both in one text.
    best: dict[str, FamilySignal] = {
        f.name: FamilySignal(score=0.0, triggered=False) for f in families
    }
    indicators: list[TextIndicator] = []
    for source, text in texts:
        if not text.strip():
            continue
        result: SignalResult = analyze(text, families)
        for entry in result.scores:
            current = best[entry.family]
            best[entry.family] = FamilySignal(
                score=max(current.score, entry.score),
                triggered=current.triggered or entry.triggered,
            )
        indicators.extend(
            TextIndicator(
                source=source,
                family=ind.family,
                group=ind.group,
                phrase_id=ind.phrase_id,
                text=ind.text,
                start=ind.start,
                end=ind.end,
            )
            for ind in result.indicators
        )
    return best, tuple(indicators)


def build_context(
    payload: Mapping[str, Any],
    *,
    case_escalations: int = 1,
    prior_decisions: Sequence[str] = (),
    hash_match: HashMatchSummary | None = None,
    families: Sequence[Family] | None = None,
    case_categories: Sequence[str] = (),
    case_signals: Sequence[str] = (),
) -> TriageContext:
    """Build the context from an escalation as `EscalationIn.model_dump(mode="json")` gives it.

    `case_escalations` counts the escalations in the case including this one; `prior_decisions`
    are the labels of earlier decisions about the suspects; `case_categories` and
    `case_signals` describe the case's earlier escalations; `families` defaults to the shipped
    indicator families. Raises ContextError for a payload that is not the intake contract.
    """
    if case_escalations < 1:
        raise ValueError("case_escalations counts this escalation too, so it is at least 1")
    channel = _enum_value(Channel, _require(payload, "channel"), "channel")
    category = _enum_value(Category, _require(payload, "category"), "category")

    le_request_type = ""
    if channel == Channel.LAW_ENFORCEMENT:
        block = _require(payload, "law_enforcement")
        if not isinstance(block, Mapping):
            raise ContextError("law_enforcement", "must be an object")
        le_request_type = _enum_value(
            LERequestType,
            _require(block, "request_type", "law_enforcement."),
            "law_enforcement.request_type",
        )

    subjects = _list_of_mappings(payload, "subjects")
    victim_ages: list[int] = []
    minor_involved = False
    suspect_is_minor = False
    for index, subject in enumerate(subjects):
        role = _enum_value(
            SubjectRole, _require(subject, "role", f"subjects[{index}]."), f"subjects[{index}].role"
        )
        age = _age(subject, index)
        if age is None:
            continue
        if role == SubjectRole.VICTIM:
            victim_ages.append(age)
        if age < ADULT_AGE:
            if role in (SubjectRole.VICTIM, SubjectRole.REPORTER):
                minor_involved = True
            elif role == SubjectRole.SUSPECT:
                suspect_is_minor = True

    content = _list_of_mappings(payload, "content")
    kinds: set[str] = set()
    live = False
    for index, item in enumerate(content):
        kind = _enum_value(
            ContentKind, _require(item, "kind", f"content[{index}]."), f"content[{index}].kind"
        )
        kinds.add(kind)
        if item.get("live") is True or kind == ContentKind.LIVESTREAM:
            live = True

    chosen = tuple(default_families() if families is None else families)
    signals, indicators = _signals(_texts(payload, content), chosen)
    return TriageContext(
        channel=channel,
        category=category,
        le_request_type=le_request_type,
        minor_involved=minor_involved,
        victim_min_age=min(victim_ages) if victim_ages else -1,
        suspect_is_minor=suspect_is_minor,
        live=live,
        content_kinds=tuple(sorted(kinds)),
        signals=MappingProxyType(signals),
        hash_match=hash_match if hash_match is not None else HashMatchSummary(),
        case_escalations=case_escalations,
        prior_decisions=tuple(prior_decisions),
        case_categories=tuple(sorted(set(case_categories))),
        case_signals=tuple(sorted(set(case_signals))),
        indicators=indicators,
    )


def sample_contexts(family_names: Sequence[str]) -> tuple[TriageContext, TriageContext]:
    """Two fully populated contexts of opposite values, used to try every rule at compile time.

    Lists are never empty and numbers are never zero in either, so a rule that fails on them
    fails because it is wrong, not because the sample was thin.
    """
    every_kind = tuple(sorted(kind.value for kind in ContentKind))
    alarming = TriageContext(
        channel=Channel.LAW_ENFORCEMENT.value,
        category=Category.IMMINENT_DANGER.value,
        le_request_type=LERequestType.EMERGENCY_DISCLOSURE.value,
        minor_involved=True,
        victim_min_age=13,
        suspect_is_minor=True,
        live=True,
        content_kinds=every_kind,
        signals=MappingProxyType(
            {name: FamilySignal(score=0.9, triggered=True) for name in family_names}
        ),
        hash_match=HashMatchSummary(verified=True, count=2, min_distance=4),
        case_escalations=3,
        prior_decisions=("grooming", "sextortion"),
        case_categories=(Category.SEXTORTION.value, Category.GROOMING.value),
        case_signals=tuple(family_names),
    )
    quiet = TriageContext(
        channel=Channel.USER_REPORT.value,
        category=Category.OTHER.value,
        le_request_type="",
        minor_involved=False,
        victim_min_age=30,
        suspect_is_minor=False,
        live=False,
        content_kinds=(ContentKind.PROFILE.value,),
        signals=MappingProxyType(
            {name: FamilySignal(score=0.1, triggered=False) for name in family_names}
        ),
        hash_match=HashMatchSummary(),
        case_escalations=1,
        prior_decisions=("no_violation",),
        case_categories=(Category.OTHER.value,),
        case_signals=(family_names[0],) if family_names else ("none",),
    )
    return alarming, quiet
