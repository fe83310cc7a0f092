"""The typed context a triage policy's rules are evaluated over, built from an escalation in the
intake contract's JSON. Every field is documented in docs/triage-policy.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from types import MappingProxyType
from typing import Any, Final, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytz

from safeguard.intake.enums import (
    Category,
    Channel,
    ContentKind,
    LERequestType,
    SourceKind,
    SubjectRole,
)
from safeguard.intake.hooks import HashMatchSummary
from safeguard.intake.sources import source_of_json
from safeguard.signals.assess import TextAssessment, TimedText, assess_text
from safeguard.signals.indicators import Family, default_families

__all__ = [
    "ADULT_AGE",
    "CLASSIFIER_LABELS",
    "HARM_FAMILIES",
    "NOT_IMMINENT",
    "CelValue",
    "ClassifierSignal",
    "ContextError",
    "FamilySignal",
    "HashMatchSummary",
    "Imminence",
    "SourceFacts",
    "SuspectFacts",
    "TextIndicator",
    "TriageContext",
    "build_context",
    "reference_zone",
    "sample_contexts",
]

# The age from which a stated age no longer counts as a minor's.
ADULT_AGE: Final = 18
# What imminence.hours_until holds when no harm time is known: never within any window.
NOT_IMMINENT: Final = 1_000_000.0
# The families whose texts name a harm that a time can belong to: a meeting, a self-harm plan,
# a sextortion deadline. A time in a text without one of them is not a harm time.
HARM_FAMILIES: Final = frozenset(
    {"meeting_arrangement", "self_harm_intent", "self_harm_plan", "sextortion"}
)
# A harm time this far in the past may still be happening or have just happened.
RECENT_PAST: Final = timedelta(hours=12)
# Classifier labels always present in the context (score 0 when no model sent them), so a rule
# about them never meets a missing key; other labels appear when a model sends them.
CLASSIFIER_LABELS: Final = tuple(sorted(c.value for c in Category if c is not Category.OTHER))
# tzdata lists some countries' zones in an order whose first is not where most people live.
_COUNTRY_ZONE: Final[Mapping[str, str]] = MappingProxyType(
    {
        "AU": "Australia/Sydney",
        "BR": "America/Sao_Paulo",
        "CA": "America/Toronto",
        "CL": "America/Santiago",
        "CN": "Asia/Shanghai",
        "ES": "Europe/Madrid",
        "MX": "America/Mexico_City",
        "MY": "Asia/Kuala_Lumpur",
        "PT": "Europe/Lisbon",
        "RU": "Europe/Moscow",
        "US": "America/New_York",
    }
)

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
class SourceFacts:
    """Where the escalation came from, as intake recorded it (intake.sources.source_of)."""

    kind: str = SourceKind.ANONYMOUS.value
    verified: bool = False


@dataclass(frozen=True, slots=True)
class SuspectFacts:
    """The suspects' history across every escalation naming them, this one included.

    distinct_minors: different children (victims under 18, or of unstated age in a grooming,
    sextortion or CSAM report) the suspects were reported for; age_probed_minors: of those, the
    ones in escalations where age probing was found; migration_escalations: escalations with a
    push to another app; prior_labels: labels of decisions about the suspects in other cases.
    """

    distinct_minors: int = 0
    prior_labels: tuple[str, ...] = ()
    escalations: int = 0
    age_probed_minors: int = 0
    migration_escalations: int = 0


@dataclass(frozen=True, slots=True)
class ClassifierSignal:
    """The highest score any licensed model gave one label; scores only ever prioritise."""

    score: float = 0.0
    model: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class Imminence:
    """When the harm a text describes may happen: the soonest harm time not long past.

    `zone` is the reference zone the expression was read in and `zone_reason` why that one
    (the victim's country, or the platform's zone). `source`, `start`, `end` locate the words.
    """

    known: bool = False
    hours_until: float = NOT_IMMINENT
    expression: str = ""
    at: datetime | None = None
    harm: str = ""
    zone: str = "UTC"
    zone_reason: str = "the platform's time zone"
    source: str = ""
    start: int = 0
    end: int = 0

    def describe(self) -> str:
        """'for "tonight" (≈ 5 h, Europe/Madrid: the victim's country ES)', '' when unknown."""
        if not self.known:
            return ""
        hours = self.hours_until
        if hours < 0:
            when = f"{-hours:.0f} h ago" if hours <= -1 else "now"
        elif hours < 1:
            when = f"≈ {max(1, round(hours * 60))} min"
        else:
            when = f"≈ {hours:.0f} h"
        return f'for "{self.expression}" ({when}, {self.zone}: {self.zone_reason})'


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
    # The matched groups per family, e.g. meeting_arrangement: (intent, place, exclusivity).
    signal_groups: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    imminence: Imminence = field(default_factory=Imminence)
    source: SourceFacts = field(default_factory=SourceFacts)
    suspect: SuspectFacts = field(default_factory=SuspectFacts)
    classifiers: Mapping[str, ClassifierSignal] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Languages detected in the texts, and those of them with no indicator files.
    languages: tuple[str, ...] = ()
    unassessed_languages: tuple[str, ...] = ()
    # "family.group" of the indicators found in thread messages a victim wrote themselves, e.g.
    # self_harm_plan.method: the child, not a parent reminding them of their medicine.
    victim_wrote: tuple[str, ...] = ()
    # Spans stay out of the CEL activation: rules decide on scores, people read the spans.
    indicators: tuple[TextIndicator, ...] = field(default=(), compare=False)

    def to_cel(self) -> dict[str, CelValue]:
        """The CEL activation: plain values, a fresh copy on every call."""
        signals: dict[str, CelValue] = {
            name: {
                "score": float(signal.score),
                "triggered": signal.triggered,
                "groups": list(self.signal_groups.get(name, ())),
            }
            for name, signal in self.signals.items()
        }
        classifiers: dict[str, CelValue] = {
            label: {"score": float(c.score), "model": c.model, "version": c.version}
            for label, c in self.classifiers.items()
        }
        for label in CLASSIFIER_LABELS:
            classifiers.setdefault(label, {"score": 0.0, "model": "", "version": ""})
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
            "imminence": {
                "known": self.imminence.known,
                "hours_until": float(self.imminence.hours_until),
                "expression": self.imminence.expression,
                "harm": self.imminence.harm,
                "zone": self.imminence.zone,
            },
            "source": {"kind": self.source.kind, "verified": self.source.verified},
            "suspect": {
                "distinct_minors": self.suspect.distinct_minors,
                "prior_labels": list(self.suspect.prior_labels),
                "escalations": self.suspect.escalations,
                "age_probed_minors": self.suspect.age_probed_minors,
                "migration_escalations": self.suspect.migration_escalations,
            },
            "classifiers": classifiers,
            "languages": list(self.languages),
            "unassessed_languages": list(self.unassessed_languages),
            "victim_wrote": list(self.victim_wrote),
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


@dataclass(frozen=True, slots=True)
class _Text:
    source: str
    text: str
    sent_at: datetime
    # A thread's messages joined into `text`, with their sources and their own times.
    parts: tuple[TimedText, ...] = ()
    part_sources: tuple[str, ...] = ()
    part_authors: tuple[str, ...] = ()


def _sent_at(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise ContextError(where, "must be an ISO-8601 timestamp with a time zone")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ContextError(where, f"{value!r} is not an ISO-8601 timestamp") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ContextError(where, "must carry a time zone offset")
    return moment.astimezone(UTC)


def _thread(item: Mapping[str, Any], index: int, source: str) -> _Text | None:
    messages = item.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    texts: list[str] = []
    parts: list[TimedText] = []
    sources: list[str] = []
    authors: list[str] = []
    offset = 0
    for k, message in enumerate(messages):
        where = f"content[{index}].messages[{k}]"
        if not isinstance(message, Mapping):
            raise ContextError(where, "must be an object with sent_at, author and text")
        text = _require(message, "text", f"{where}.")
        if not isinstance(text, str):
            raise ContextError(f"{where}.text", "must be a string")
        sent_at = _sent_at(_require(message, "sent_at", f"{where}."), f"{where}.sent_at")
        parts.append(TimedText(text=text, sent_at=sent_at, offset=offset))
        sources.append(f"{source}/messages[{k}]")
        author = message.get("author")
        authors.append(author if isinstance(author, str) else "")
        texts.append(text)
        # A line break between messages: a phrase is never read across two senders' words
        # more than it would be across two lines of one message.
        offset += len(text) + 1
    return _Text(
        source=source,
        text="\n".join(texts),
        sent_at=parts[0].sent_at,
        parts=tuple(parts),
        part_sources=tuple(sources),
        part_authors=tuple(authors),
    )


def _texts(
    payload: Mapping[str, Any], content: list[Mapping[str, Any]], written_at: datetime
) -> list[_Text]:
    summary = _require(payload, "summary")
    if not isinstance(summary, str):
        raise ContextError("summary", "must be a string")
    texts = [_Text(source="summary", text=summary, sent_at=written_at)]
    for index, item in enumerate(content):
        source = f"content:{item.get('platform_id', index)}"
        text = item.get("text")
        if text is not None:
            if not isinstance(text, str):
                raise ContextError(f"content[{index}].text", "must be a string")
            texts.append(_Text(source=source, text=text, sent_at=written_at))
        thread = _thread(item, index, source)
        if thread is not None:
            texts.append(thread)
    return texts


def _author_at(text: _Text, start: int) -> str:
    """Who wrote the message of a thread that position `start` falls in ('' when unknown)."""
    for part, author in zip(reversed(text.parts), reversed(text.part_authors), strict=True):
        if start >= part.offset:
            return author
    return ""


def _locate(text: _Text, start: int, end: int) -> tuple[str, int, int]:
    """The source and span of [start, end) of a text: a thread's message, or the text itself."""
    for part, source in zip(reversed(text.parts), reversed(text.part_sources), strict=True):
        if start >= part.offset:
            return source, start - part.offset, min(end, part.offset + len(part.text)) - part.offset
    return text.source, start, end


@dataclass(slots=True)
class _Analysis:
    signals: dict[str, FamilySignal]
    groups: dict[str, list[str]]
    indicators: list[TextIndicator]
    languages: list[str]
    unassessed: list[str]
    imminence: Imminence
    victim_wrote: list[str]


def _harm_in(assessment: TextAssessment) -> str:
    """The harm a text names that a time in it belongs to, or '' when it names none."""
    found = [
        entry.family
        for entry in assessment.result.scores
        if entry.family in HARM_FAMILIES and entry.triggered
    ]
    if not found:
        found = [
            ind.family
            for ind in assessment.result.indicators
            if ind.family in HARM_FAMILIES and ind.group != "time"
        ]
    return found[0] if found else ""


def _analyse(
    texts: Sequence[_Text],
    families: Sequence[Family] | None,
    *,
    now: datetime,
    zone: tzinfo,
    zone_name: str,
    zone_reason: str,
    victims: frozenset[str] = frozenset(),
) -> _Analysis:
    # Each text is analysed on its own so spans index the text they came from, and a phrase can
    # never be stitched together across two unrelated texts. A family's score is its highest
    # score in any one text, so a combination family (threat + demand) needs both in one text.
    names = [f.name for f in (default_families() if families is None else families)]
    out = _Analysis(
        signals={name: FamilySignal(score=0.0, triggered=False) for name in names},
        groups={name: [] for name in names},
        indicators=[],
        languages=[],
        unassessed=[],
        imminence=Imminence(zone=zone_name, zone_reason=zone_reason),
        victim_wrote=[],
    )
    for text in texts:
        if not text.text.strip():
            continue
        assessment = assess_text(
            text.text,
            sent_at=text.sent_at,
            zone=zone,
            parts=text.parts,
            families=families,
            times_for=HARM_FAMILIES,
        )
        language = assessment.language
        if language is not None and language not in out.languages:
            out.languages.append(language)
        if not assessment.assessed and language is not None and language not in out.unassessed:
            out.unassessed.append(language)
        for entry in assessment.result.scores:
            current = out.signals.setdefault(entry.family, FamilySignal(0.0, False))
            out.signals[entry.family] = FamilySignal(
                score=max(current.score, entry.score),
                triggered=current.triggered or entry.triggered,
            )
            groups = out.groups.setdefault(entry.family, [])
            groups.extend(g for g in entry.groups if g not in groups)
        for ind in assessment.result.indicators:
            source, start, end = _locate(text, ind.start, ind.end)
            if victims and text.parts and _author_at(text, ind.start) in victims:
                written = f"{ind.family}.{ind.group}"
                if written not in out.victim_wrote:
                    out.victim_wrote.append(written)
            out.indicators.append(
                TextIndicator(
                    source=source,
                    family=ind.family,
                    group=ind.group,
                    phrase_id=ind.phrase_id,
                    text=ind.text,
                    start=start,
                    end=end,
                )
            )
        harm = _harm_in(assessment)
        if not harm:
            continue
        for found in assessment.times:
            if found.at < now - RECENT_PAST:
                continue
            best = out.imminence
            if best.known and best.at is not None and best.at <= found.at:
                continue
            source, start, end = _locate(text, found.start, found.end)
            out.imminence = Imminence(
                known=True,
                hours_until=round((found.at - now).total_seconds() / 3600, 2),
                expression=found.text,
                at=found.at,
                harm=harm,
                zone=zone_name,
                zone_reason=zone_reason,
                source=source,
                start=start,
                end=end,
            )
    return out


def _payload_source(payload: Mapping[str, Any]) -> SourceFacts:
    """The source as the payload alone tells it (no caller known: law enforcement unverified)."""
    kind, verified = source_of_json(payload, le_partner=False)
    return SourceFacts(kind=kind.value, verified=verified)


@cache
def _zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def reference_zone(
    subjects: Sequence[Mapping[str, Any]], platform_zone: str
) -> tuple[tzinfo, str, str]:
    """The zone a text's "tonight" is read in: the victim's country's where one is stated (the
    first victim with a country), else the platform's. Returns (zone, name, reason)."""
    for subject in subjects:
        country = subject.get("country")
        if subject.get("role") != SubjectRole.VICTIM.value or not isinstance(country, str):
            continue
        code = country.upper()
        name = _COUNTRY_ZONE.get(code) or next(iter(pytz.country_timezones.get(code, ())), None)
        if name is None:
            continue
        try:
            return _zone(name), name, f"the victim's country {code}"
        except ZoneInfoNotFoundError:
            continue
    try:
        return _zone(platform_zone), platform_zone, "the platform's time zone"
    except (ZoneInfoNotFoundError, ValueError):
        return UTC, "UTC", "the platform's time zone is unknown, so UTC"


def _classifiers(
    payload: Mapping[str, Any], ignored_models: Sequence[str]
) -> dict[str, ClassifierSignal]:
    raw = payload.get("classifiers") or []
    if not isinstance(raw, list):
        raise ContextError("classifiers", "must be a list of {model, version, label, score}")
    best: dict[str, ClassifierSignal] = {}
    for index, entry in enumerate(raw):
        where = f"classifiers[{index}]"
        if not isinstance(entry, Mapping):
            raise ContextError(where, "must be an object with model, version, label, score")
        model, version, label = (
            _require(entry, key, f"{where}.") for key in ("model", "version", "label")
        )
        score = _require(entry, "score", f"{where}.")
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            raise ContextError(f"{where}.score", f"must be a number from 0 to 1, got {score!r}")
        if not all(isinstance(v, str) and v for v in (model, version, label)):
            raise ContextError(where, "model, version and label must be non-empty strings")
        if model in ignored_models:
            continue
        current = best.get(label)
        if current is None or score > current.score:
            best[label] = ClassifierSignal(score=float(score), model=model, version=version)
    return best


def build_context(
    payload: Mapping[str, Any],
    *,
    case_escalations: int = 1,
    prior_decisions: Sequence[str] = (),
    hash_match: HashMatchSummary | None = None,
    families: Sequence[Family] | None = None,
    case_categories: Sequence[str] = (),
    case_signals: Sequence[str] = (),
    now: datetime | None = None,
    source: SourceFacts | None = None,
    suspect: SuspectFacts | None = None,
    platform_zone: str = "UTC",
    ignored_models: Sequence[str] = (),
) -> TriageContext:
    """Build the context from an escalation as `EscalationIn.model_dump(mode="json")` gives it.

    `case_escalations` counts the escalations in the case including this one; `prior_decisions`
    are the labels of earlier decisions about the suspects; `case_categories` and
    `case_signals` describe the case's earlier escalations; `families` overrides the shipped
    indicator families of each text's language. `now` is the moment of triage (harm times are
    counted from it), `source` what intake recorded of the sender, `suspect` the suspects'
    history, `platform_zone` the zone times are read in when no victim's country is known, and
    `ignored_models` the classifier models whose licence forbids their use.
    Raises ContextError for a payload that is not the intake contract.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
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

    occurred = payload.get("occurred_at")
    written_at = _sent_at(occurred, "occurred_at") if occurred is not None else now
    zone, zone_name, zone_reason = reference_zone(subjects, platform_zone)
    analysis = _analyse(
        _texts(payload, content, min(written_at, now)),
        None if families is None else tuple(families),
        now=now,
        zone=zone,
        zone_name=zone_name,
        zone_reason=zone_reason,
        victims=frozenset(
            str(s.get("platform_id"))
            for s in subjects
            if s.get("role") == SubjectRole.VICTIM.value and s.get("platform_id")
        ),
    )
    return TriageContext(
        channel=channel,
        category=category,
        le_request_type=le_request_type,
        minor_involved=minor_involved,
        victim_min_age=min(victim_ages) if victim_ages else -1,
        suspect_is_minor=suspect_is_minor,
        live=live,
        content_kinds=tuple(sorted(kinds)),
        signals=MappingProxyType(analysis.signals),
        hash_match=hash_match if hash_match is not None else HashMatchSummary(),
        case_escalations=case_escalations,
        prior_decisions=tuple(prior_decisions),
        case_categories=tuple(sorted(set(case_categories))),
        case_signals=tuple(sorted(set(case_signals))),
        signal_groups=MappingProxyType({k: tuple(v) for k, v in analysis.groups.items()}),
        imminence=analysis.imminence,
        source=source if source is not None else _payload_source(payload),
        suspect=suspect if suspect is not None else SuspectFacts(),
        classifiers=MappingProxyType(_classifiers(payload, ignored_models)),
        languages=tuple(analysis.languages),
        unassessed_languages=tuple(analysis.unassessed),
        victim_wrote=tuple(analysis.victim_wrote),
        indicators=tuple(analysis.indicators),
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
        signal_groups=MappingProxyType({name: ("intent", "time") for name in family_names}),
        imminence=Imminence(
            known=True, hours_until=3.5, expression="tonight", harm="self_harm_plan"
        ),
        source=SourceFacts(kind=SourceKind.HOTLINE.value, verified=True),
        suspect=SuspectFacts(
            distinct_minors=4,
            prior_labels=("grooming",),
            escalations=5,
            age_probed_minors=3,
            migration_escalations=2,
        ),
        classifiers=MappingProxyType(
            {label: ClassifierSignal(0.95, "model-a", "1") for label in CLASSIFIER_LABELS}
        ),
        languages=("es", "en"),
        unassessed_languages=("ar",),
        victim_wrote=("self_harm_plan.method",),
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
        signal_groups=MappingProxyType({name: ("place",) for name in family_names}),
        imminence=Imminence(known=False, hours_until=NOT_IMMINENT, expression="later"),
        source=SourceFacts(kind=SourceKind.ANONYMOUS.value, verified=False),
        suspect=SuspectFacts(
            distinct_minors=1,
            prior_labels=("no_violation",),
            escalations=1,
            age_probed_minors=1,
            migration_escalations=1,
        ),
        classifiers=MappingProxyType(
            {label: ClassifierSignal(0.05, "model-b", "2") for label in CLASSIFIER_LABELS}
        ),
        languages=("en",),
        unassessed_languages=("fr",),
        victim_wrote=("secrecy.secret_talk",),
    )
    return alarming, quiet
