"""Indicator families loaded from YAML data files, and analysis of a text against them:
matched phrases with spans into the original text, and a score per family.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Final, TypedDict

from safeguard.signals.normalize import normalize, word_key, word_pattern
from safeguard.signals.safe_yaml import YamlRefused, load_untrusted_yaml

__all__ = [
    "TIME_PHRASE",
    "Family",
    "FamilyFileError",
    "FamilyScore",
    "Indicator",
    "Phrase",
    "PhraseGroup",
    "PhraseSyntaxError",
    "SignalResult",
    "analyze",
    "compile_phrase",
    "default_families",
    "load_families",
    "load_family_file",
    "merge_families",
    "packaged_language_families",
    "packaged_languages",
    "parse_family",
    "with_times",
]

# Names become keys in the triage context (signals.<family>.score), so they must be identifiers.
_NAME: Final = re.compile(r"[a-z][a-z0-9_]*")
_FAMILY_KEYS: Final = frozenset(
    {"name", "description", "threshold", "groups", "requires_all", "requires_any"}
)
_FAMILY_REQUIRED: Final = ("name", "description", "threshold", "groups")
_GROUP_KEYS: Final = frozenset({"name", "weight", "phrases", "time", "unless"})
_GROUP_REQUIRED: Final = ("name", "weight", "phrases")
# A language directory under families/ is named by its ISO 639-1 code.
_LANGUAGE_DIR: Final = re.compile(r"[a-z]{2}")
# A family file is a few kilobytes of phrases; a larger one is a mistake or an attack.
MAX_FAMILY_BYTES: Final = 256 * 1024
# "..." in a phrase stands for up to this many arbitrary words.
GAP_WORDS: Final = 3


class PhraseSyntaxError(ValueError):
    """A phrase pattern does not follow the pattern language in docs/signals.md."""


class FamilyFileError(ValueError):
    """A family file is unreadable or invalid; names the file and the offending field."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        super().__init__(f"{source}: {field}: {message}")


# --- The phrase pattern language -------------------------------------------------------------

_LEXEME: Final = re.compile(r"\.\.\.|[()\[\]|]|[^\s()\[\]|]+?(?=\.\.\.|[\s()\[\]|]|$)")
_CLOSERS: Final = {"(": ")", "[": "]"}
_GAP: Final = rf"(?:\S+ ){{0,{GAP_WORDS}}}"


# A compiled fragment: its regex, and the words it needs. Each entry of `needs` is a set of word
# keys of which at least one must occur in the text for the fragment to match.
_Fragment = tuple[str, list[frozenset[str]]]


class _PhraseParser:
    """Recursive descent over a phrase; every word's regex ends with one space (see compile)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.lexemes: list[str] = _LEXEME.findall(pattern)
        self.pos = 0

    def error(self, message: str) -> PhraseSyntaxError:
        return PhraseSyntaxError(f"{message} in phrase {self.pattern!r}")

    def parse(self) -> _Fragment:
        fragment = self.sequence(closer=None)
        if self.pos < len(self.lexemes):
            raise self.error(f"unexpected {self.lexemes[self.pos]!r}")
        return fragment

    def sequence(self, closer: str | None) -> _Fragment:
        regex: list[str] = []
        needs: list[frozenset[str]] = []
        words: list[str] = []
        # Each item is "word", "group" or "gap"; gaps must sit between two other items.
        kinds: list[str] = []

        def flush() -> None:
            if words:
                part, part_needs = self.literal(words)
                regex.append(part)
                needs.extend(part_needs)
                words.clear()

        while self.pos < len(self.lexemes):
            lexeme = self.lexemes[self.pos]
            if lexeme in (")", "]", "|"):
                if closer is None:
                    raise self.error(f"unexpected {lexeme!r}")
                break
            self.pos += 1
            if lexeme in _CLOSERS:
                flush()
                part, part_needs = self.group(opener=lexeme)
                regex.append(part)
                needs.extend(part_needs)
                kinds.append("group")
            elif lexeme == "...":
                if closer is not None:
                    raise self.error("'...' is not allowed inside ( ) or [ ]")
                if not kinds or kinds[-1] == "gap":
                    raise self.error("'...' must sit between two words")
                flush()
                regex.append(_GAP)
                kinds.append("gap")
            else:
                words.append(lexeme)
                kinds.append("word")
        if kinds and kinds[-1] == "gap":
            raise self.error("'...' must sit between two words")
        flush()
        return "".join(regex), needs

    def group(self, opener: str) -> _Fragment:
        closer = _CLOSERS[opener]
        options: list[_Fragment] = []
        while True:
            option = self.sequence(closer=closer)
            if not option[0]:
                raise self.error(f"empty alternative inside {opener} {closer}")
            options.append(option)
            if self.pos >= len(self.lexemes):
                raise self.error(f"{opener!r} is never closed")
            lexeme = self.lexemes[self.pos]
            self.pos += 1
            if lexeme == "|":
                continue
            if lexeme != closer:
                raise self.error(f"{opener!r} closed by {lexeme!r}")
            break
        regex = "(?:" + "|".join(option for option, _ in options) + ")"
        if opener == "[":
            return regex + "?", []
        # Whichever option matches, its first needed word occurs; an option that needs nothing
        # (all optional) means the group as a whole needs nothing.
        if any(not option_needs for _, option_needs in options):
            return regex, []
        return regex, [frozenset().union(*(option_needs[0] for _, option_needs in options))]

    def literal(self, words: list[str]) -> _Fragment:
        """Normalise a run of literal words the way message text is normalised."""
        literal = " ".join(words)
        normalised = normalize(literal).text
        if not normalised:
            raise self.error(f"{literal!r} has no letters or digits after normalisation")
        split = normalised.split(" ")
        regex = "".join(word_pattern(word) + " " for word in split)
        return regex, [frozenset({word_key(word)}) for word in split]


def _compile(pattern: str) -> _Fragment:
    if not isinstance(pattern, str) or not pattern.strip():
        raise PhraseSyntaxError("a phrase must be a non-empty string")
    regex, needs = _PhraseParser(pattern).parse()
    if re.fullmatch(regex, "") is not None:
        raise PhraseSyntaxError(f"phrase {pattern!r} has no required word (all optional)")
    return regex, needs


def compile_phrase(pattern: str) -> str:
    """Compile a phrase pattern to a regex over normalised text followed by one space.

    Matching is done against the normalised text with a space appended, so every word in the
    regex is followed by exactly one space, and a match starts at the start or after a space.
    """
    return _compile(pattern)[0]


# --- Families ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phrase:
    id: str
    pattern: str
    matcher: re.Pattern[str] = field(repr=False)
    # Sets of word keys (see normalize.word_key); the phrase can only match a text that has at
    # least one word from every set, which lets analysis skip most phrases without a regex.
    needs: tuple[frozenset[str], ...] = field(repr=False)

    def may_match(self, keys: AbstractSet[str]) -> bool:
        return all(not need.isdisjoint(keys) for need in self.needs)


@dataclass(frozen=True, slots=True)
class PhraseGroup:
    name: str
    weight: float
    phrases: tuple[Phrase, ...]
    # A time group has no phrases: it matches when the caller found a time expression in the
    # text (analyze's time_spans), and each expression becomes one of its indicators.
    time: bool = False
    # An "unless" group names figures of speech ("this homework makes me want to die"): its
    # phrases score nothing, and an indicator of the family that they overlap is dropped.
    unless: bool = False


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    description: str
    threshold: float
    groups: tuple[PhraseGroup, ...]
    requires_all: tuple[str, ...]
    source: str
    # SHA-256 of the family file, so a triage result can record which version produced it.
    digest: str
    # At least one of these groups must match for the family to trigger (besides requires_all).
    requires_any: tuple[str, ...] = ()


def _check_keys(
    data: Mapping[Any, Any], allowed: frozenset[str], required: Iterable[str], source: str, at: str
) -> None:
    for key in data:
        if key not in allowed:
            where = f"{at}.{key}" if at else str(key)
            raise FamilyFileError(
                source, where, f"unknown key; allowed keys are {', '.join(sorted(allowed))}"
            )
    for key in required:
        if key not in data:
            raise FamilyFileError(source, f"{at}.{key}" if at else key, "missing required key")


def _check_name(value: object, source: str, at: str) -> str:
    if not isinstance(value, str) or _NAME.fullmatch(value) is None:
        raise FamilyFileError(
            source, at, f"must be a lower-case identifier (letters, digits, _), got {value!r}"
        )
    return value


def _check_fraction(value: object, source: str, at: str) -> float:
    # YAML reads "yes" as a boolean, and bool is an int subclass, so exclude it explicitly.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise FamilyFileError(
            source, at, f"must be a number greater than 0 and at most 1, got {value!r}"
        )
    return float(value)


def _parse_group(
    data: object, family: str, index: int, source: str, seen: dict[str, str]
) -> PhraseGroup:
    at = f"groups[{index}]"
    if not isinstance(data, dict):
        raise FamilyFileError(source, at, "must be a mapping with name, weight and phrases")
    is_time = "time" in data
    is_unless = "unless" in data
    required = ("name", "weight") if is_time else ("name", "phrases") if is_unless else None
    _check_keys(data, _GROUP_KEYS, required or _GROUP_REQUIRED, source, at)
    name = _check_name(data["name"], source, f"{at}.name")
    if is_unless:
        if data["unless"] is not True:
            raise FamilyFileError(source, f"{at}.unless", f"must be true, got {data['unless']!r}")
        if is_time or "weight" in data:
            raise FamilyFileError(
                source, at, "an unless group only drops indicators: no weight, no time"
            )
    weight = 0.0 if is_unless else _check_fraction(data["weight"], source, f"{at}.weight")
    if is_time:
        if data["time"] is not True:
            raise FamilyFileError(source, f"{at}.time", f"must be true, got {data['time']!r}")
        if "phrases" in data:
            raise FamilyFileError(
                source, f"{at}.phrases", "a time group matches time expressions, not phrases"
            )
        return PhraseGroup(name=name, weight=weight, phrases=(), time=True)
    raw_phrases = data["phrases"]
    if not isinstance(raw_phrases, list) or not raw_phrases:
        raise FamilyFileError(source, f"{at}.phrases", "must be a non-empty list of phrases")
    phrases: list[Phrase] = []
    for k, pattern in enumerate(raw_phrases):
        where = f"{at}.phrases[{k}]"
        if not isinstance(pattern, str) or not pattern.strip():
            raise FamilyFileError(source, where, f"must be a non-empty string, got {pattern!r}")
        try:
            regex, needs = _compile(pattern)
        except PhraseSyntaxError as exc:
            raise FamilyFileError(source, where, str(exc)) from exc
        if regex in seen:
            raise FamilyFileError(source, where, f"duplicate of {seen[regex]} after normalisation")
        seen[regex] = where
        phrases.append(
            Phrase(
                id=f"{family}.{name}.{k + 1}",
                pattern=pattern,
                matcher=re.compile(r"(?<!\S)" + regex),
                needs=tuple(needs),
            )
        )
    return PhraseGroup(name=name, weight=weight, phrases=tuple(phrases), unless=is_unless)


def _group_list(
    data: Mapping[Any, Any], key: str, names: AbstractSet[str], source: str
) -> tuple[str, ...]:
    if key not in data:
        return ()
    raw = data[key]
    if not isinstance(raw, list) or not raw:
        raise FamilyFileError(source, key, "must be a non-empty list of group names")
    for k, required in enumerate(raw):
        if required not in names:
            raise FamilyFileError(source, f"{key}[{k}]", f"no group named {required!r}")
    if len(set(raw)) != len(raw):
        raise FamilyFileError(source, key, "lists a group more than once")
    return tuple(raw)


def parse_family(
    data: object, *, source: str, expected_name: str | None = None, digest: str = ""
) -> Family:
    """Validate one family document (already loaded from YAML) and compile its phrases."""
    if not isinstance(data, dict):
        raise FamilyFileError(
            source, "<document>", "must be a mapping of name, description, threshold, groups"
        )
    _check_keys(data, _FAMILY_KEYS, _FAMILY_REQUIRED, source, "")
    name = _check_name(data["name"], source, "name")
    if expected_name is not None and name != expected_name:
        raise FamilyFileError(
            source, "name", f"must match the file name {expected_name!r}, got {name!r}"
        )
    description = data["description"]
    if not isinstance(description, str) or not description.strip():
        raise FamilyFileError(source, "description", "must be a non-empty string")
    threshold = _check_fraction(data["threshold"], source, "threshold")
    raw_groups = data["groups"]
    if not isinstance(raw_groups, list) or not raw_groups:
        raise FamilyFileError(source, "groups", "must be a non-empty list of phrase groups")
    seen: dict[str, str] = {}
    groups: list[PhraseGroup] = []
    for index, raw in enumerate(raw_groups):
        group = _parse_group(raw, name, index, source, seen)
        if any(g.name == group.name for g in groups):
            raise FamilyFileError(
                source, f"groups[{index}].name", f"duplicate group name {group.name!r}"
            )
        groups.append(group)
    names = {g.name for g in groups}
    requires_all = _group_list(data, "requires_all", names, source)
    requires_any = _group_list(data, "requires_any", names, source)
    return Family(
        name=name,
        description=description.strip(),
        threshold=threshold,
        groups=tuple(groups),
        requires_all=requires_all,
        requires_any=requires_any,
        source=source,
        digest=digest,
    )


def _load_bytes(raw: bytes, *, source: str, stem: str) -> Family:
    try:
        data = load_untrusted_yaml(raw.decode("utf-8"), max_bytes=MAX_FAMILY_BYTES)
    except UnicodeDecodeError as exc:
        raise FamilyFileError(source, "<file>", f"is not UTF-8 text ({exc.reason})") from exc
    except YamlRefused as exc:
        raise FamilyFileError(source, exc.field, exc.detail) from exc
    return parse_family(
        data, source=source, expected_name=stem, digest=hashlib.sha256(raw).hexdigest()
    )


def load_family_file(path: str | Path) -> Family:
    """Load and validate one family file; its `name` must equal the file name without .yaml."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FamilyFileError(str(path), "<file>", f"cannot be read ({exc.strerror})") from exc
    return _load_bytes(raw, source=str(path), stem=path.stem)


def _check_unique(families: Sequence[Family]) -> tuple[Family, ...]:
    seen: dict[str, str] = {}
    for family in families:
        if family.name in seen:
            raise FamilyFileError(
                family.source, "name", f"family {family.name!r} also in {seen[family.name]}"
            )
        seen[family.name] = family.source
    return tuple(families)


def load_families(directory: str | Path, *, extend_defaults: bool = False) -> tuple[Family, ...]:
    """Load every *.yaml family in a directory, in file-name order.

    With extend_defaults, the result is the default families with any family of the same name
    replaced by the directory's version, followed by the directory's new families.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FamilyFileError(str(directory), "<directory>", "is not a directory")
    files = sorted(p for p in directory.iterdir() if p.suffix == ".yaml" and p.is_file())
    if not files:
        raise FamilyFileError(str(directory), "<directory>", "contains no *.yaml family files")
    loaded = _check_unique([load_family_file(p) for p in files])
    if not extend_defaults:
        return loaded
    overrides = {f.name: f for f in loaded}
    merged = [overrides.pop(f.name, f) for f in default_families()]
    return tuple(merged + list(overrides.values()))


def _packaged(*parts: str) -> tuple[Family, ...]:
    root = importlib.resources.files("safeguard.signals").joinpath("families", *parts)
    entries = sorted(
        (entry for entry in root.iterdir() if entry.name.endswith(".yaml") and entry.is_file()),
        key=lambda entry: entry.name,
    )
    prefix = "/".join(("safeguard/signals/families", *parts))
    return _check_unique(
        [
            _load_bytes(
                entry.read_bytes(),
                source=f"{prefix}/{entry.name}",
                stem=entry.name.removesuffix(".yaml"),
            )
            for entry in entries
        ]
    )


@cache
def default_families() -> tuple[Family, ...]:
    """The families shipped in safeguard/signals/families, loaded and compiled once."""
    return _packaged()


@cache
def packaged_languages() -> frozenset[str]:
    """Languages with a directory of families shipped beside the English ones."""
    root = importlib.resources.files("safeguard.signals").joinpath("families")
    return frozenset(
        entry.name
        for entry in root.iterdir()
        if entry.is_dir() and _LANGUAGE_DIR.fullmatch(entry.name) is not None
    )


@cache
def packaged_language_families(language: str) -> tuple[Family, ...]:
    """The families shipped in safeguard/signals/families/<language>, on their own (not merged)."""
    if language not in packaged_languages():
        raise KeyError(language)
    return _packaged(language)


def _merge_one(base: Family, extra: Family, tag: str) -> Family:
    # The language file repeats the English structure so it stays loadable and testable on its
    # own; a difference would make the merged family behave unlike either file, so refuse it.
    for key in ("threshold", "requires_all", "requires_any"):
        want, got = getattr(base, key), getattr(extra, key)
        if got != want:
            raise FamilyFileError(
                extra.source, key, f"must equal {want!r} as in {base.source}, got {got!r}"
            )
    extra_groups = {group.name: group for group in extra.groups}
    groups: list[PhraseGroup] = []
    for group in base.groups:
        more = extra_groups.pop(group.name, None)
        if more is None:
            groups.append(group)
            continue
        if (more.weight, more.time, more.unless) != (group.weight, group.time, group.unless):
            raise FamilyFileError(
                extra.source,
                f"groups.{group.name}",
                f"must have the weight and kind of the group in {base.source}",
            )
        known = {phrase.matcher.pattern: phrase.id for phrase in group.phrases}
        added: list[Phrase] = []
        for phrase in more.phrases:
            if phrase.matcher.pattern in known:
                raise FamilyFileError(
                    extra.source,
                    phrase.id,
                    f"duplicate of {known[phrase.matcher.pattern]} after normalisation",
                )
            position = phrase.id.rsplit(".", 1)[1]
            added.append(replace(phrase, id=f"{base.name}.{group.name}.{tag}.{position}"))
        groups.append(replace(group, phrases=group.phrases + tuple(added)))
    for group in extra_groups.values():
        groups.append(
            replace(
                group,
                phrases=tuple(
                    replace(p, id=f"{base.name}.{group.name}.{tag}.{p.id.rsplit('.', 1)[1]}")
                    for p in group.phrases
                ),
            )
        )
    digest = hashlib.sha256(f"{base.digest}+{extra.digest}".encode()).hexdigest()
    return replace(
        base, groups=tuple(groups), source=f"{base.source} + {extra.source}", digest=digest
    )


def merge_families(
    base: Sequence[Family], extra: Sequence[Family], *, tag: str
) -> tuple[Family, ...]:
    """Base families with another set's merged in: a family of the same name gains the other's
    phrases (groups matched by name, new groups appended), and new families are appended.

    Merged phrases get the id `<family>.<group>.<tag>.<position>`, so the ids of the base
    stay as they are and a language's ids stay stable when English phrases are added.
    """
    by_name = {family.name: family for family in _check_unique(list(extra))}
    merged = [
        _merge_one(family, by_name.pop(family.name), tag) if family.name in by_name else family
        for family in _check_unique(list(base))
    ]
    return tuple(merged + list(by_name.values()))


# --- Analysis --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Indicator:
    """One phrase found in the text; start and end index the original text (end exclusive)."""

    family: str
    group: str
    phrase_id: str
    phrase: str
    text: str
    start: int
    end: int

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


@dataclass(frozen=True, slots=True)
class FamilyScore:
    family: str
    score: float
    threshold: float
    triggered: bool
    groups: tuple[str, ...]
    digest: str


class IndicatorDict(TypedDict):
    group: str
    phrase_id: str
    phrase: str
    text: str
    start: int
    end: int


class FamilyDict(TypedDict):
    score: float
    threshold: float
    triggered: bool
    groups: list[str]
    digest: str
    indicators: list[IndicatorDict]


@dataclass(frozen=True, slots=True)
class SignalResult:
    indicators: tuple[Indicator, ...]
    scores: tuple[FamilyScore, ...]

    def score(self, family: str) -> FamilyScore:
        for entry in self.scores:
            if entry.family == family:
                return entry
        raise KeyError(family)

    @property
    def triggered(self) -> tuple[str, ...]:
        """Names of the families whose score reached their threshold."""
        return tuple(entry.family for entry in self.scores if entry.triggered)

    def to_dict(self) -> dict[str, FamilyDict]:
        """JSON-serialisable form keyed by family, so a policy can read signals.<family>.score.

        Every analysed family is present, matched or not, so policy expressions never meet a
        missing key.
        """
        out: dict[str, FamilyDict] = {}
        for entry in self.scores:
            out[entry.family] = {
                "score": entry.score,
                "threshold": entry.threshold,
                "triggered": entry.triggered,
                "groups": list(entry.groups),
                "digest": entry.digest,
                "indicators": [
                    {
                        "group": ind.group,
                        "phrase_id": ind.phrase_id,
                        "phrase": ind.phrase,
                        "text": ind.text,
                        "start": ind.start,
                        "end": ind.end,
                    }
                    for ind in self.indicators
                    if ind.family == entry.family
                ],
            }
        return out


def _family_score(family: Family, matched: Sequence[str]) -> float:
    # Noisy-or: each matched group independently raises the score, and a group counts once
    # however many of its phrases occur, so repeating one phrase cannot inflate the score.
    remaining = 1.0
    for group in family.groups:
        if group.name in matched:
            remaining *= 1.0 - group.weight
    score = 1.0 - remaining
    missing_all = family.requires_all and not all(name in matched for name in family.requires_all)
    missing_any = family.requires_any and not any(name in matched for name in family.requires_any)
    if missing_all or missing_any:
        # A combination family (a threat and a demand, an intent and a place or a time) is
        # reported but cannot trigger on one part.
        score = min(score, family.threshold / 2)
    # Rounding keeps a single group of weight equal to the threshold from missing it by 1e-16.
    return round(score, 6)


TIME_PHRASE: Final = "<time expression>"


def _time_indicators(
    family: Family, group: PhraseGroup, text: str, spans: Sequence[tuple[int, int]]
) -> list[Indicator]:
    """One indicator of a time group per time expression found in the text."""
    return [
        Indicator(
            family=family.name,
            group=group.name,
            phrase_id=f"{family.name}.{group.name}.time",
            phrase=TIME_PHRASE,
            text=text[start:end],
            start=start,
            end=end,
        )
        for start, end in spans
    ]


def with_times(
    result: SignalResult,
    text: str,
    families: Sequence[Family],
    time_spans: Sequence[tuple[int, int]],
) -> SignalResult:
    """`result` (of analyze(text, families) without times) as analyze would give it with these
    time spans, without matching the phrases again: only the time groups change."""
    spans = _check_spans(text, time_spans)
    if not spans:
        return result
    by_name = {family.name: family for family in families}
    added: list[Indicator] = []
    scores: list[FamilyScore] = []
    for entry in result.scores:
        family = by_name.get(entry.family)
        timed = [group for group in family.groups if group.time] if family is not None else []
        if family is None or not timed:
            scores.append(entry)
            continue
        matched = list(entry.groups)
        for group in timed:
            added.extend(_time_indicators(family, group, text, spans))
            if group.name not in matched:
                matched.append(group.name)
        # Groups in file order, as analyze reports them.
        order = [group.name for group in family.groups if group.name in matched]
        score = _family_score(family, order)
        scores.append(
            replace(entry, score=score, triggered=score >= family.threshold, groups=tuple(order))
        )
    indicators = sorted(
        [*result.indicators, *added], key=lambda ind: (ind.start, ind.end, ind.family, ind.group)
    )
    return SignalResult(indicators=tuple(indicators), scores=tuple(scores))


def _check_spans(text: str, spans: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    for start, end in spans:
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"time span ({start}, {end}) is empty or outside a text of {len(text)}"
            )
    return tuple(sorted(set(spans)))


def analyze(
    text: str,
    families: Sequence[Family] | None = None,
    *,
    time_spans: Sequence[tuple[int, int]] = (),
) -> SignalResult:
    """Find indicator phrases in text and score each family; default families if none given.

    `time_spans` are the (start, end) spans of the time expressions found in text (see
    safeguard.signals.temporal); a family's time group matches when there is at least one, and
    each becomes an indicator of that group.
    """
    chosen = default_families() if families is None else _check_unique(list(families))
    spans = _check_spans(text, time_spans)
    normalised = normalize(text)
    # The trailing space lets every compiled word end with a space, including the last one.
    haystack = normalised.text + " "
    keys = set(word_key(normalised.text).split(" "))
    # The phrases whose first needed word occurs in the text, by (family, group) position.
    indicators: list[Indicator] = []
    scores: list[FamilyScore] = []
    for family in chosen:
        matched: list[str] = []
        first = len(indicators)
        unless: list[tuple[int, int]] = []
        for group in family.groups:
            if group.time:
                indicators.extend(_time_indicators(family, group, text, spans))
                if spans:
                    matched.append(group.name)
                continue
            for phrase in group.phrases:
                # Phrase.may_match, inlined: this loop runs for every phrase of every family,
                # and most phrases already miss their first word.
                needs = phrase.needs
                if (needs and needs[0].isdisjoint(keys)) or not phrase.may_match(keys):
                    continue
                for match in phrase.matcher.finditer(haystack):
                    start, end = normalised.original_span(match.start(), match.end() - 1)
                    if group.unless:
                        unless.append((start, end))
                        continue
                    indicators.append(
                        Indicator(
                            family=family.name,
                            group=group.name,
                            phrase_id=phrase.id,
                            phrase=phrase.pattern,
                            text=text[start:end],
                            start=start,
                            end=end,
                        )
                    )
                    if group.name not in matched:
                        matched.append(group.name)
        if unless:
            kept = [
                ind
                for ind in indicators[first:]
                if ind.phrase == TIME_PHRASE
                or not any(ind.start < end and start < ind.end for start, end in unless)
            ]
            indicators[first:] = kept
            found = {ind.group for ind in kept}
            matched = [name for name in matched if name in found]
        score = _family_score(family, matched)
        scores.append(
            FamilyScore(
                family=family.name,
                score=score,
                threshold=family.threshold,
                triggered=score >= family.threshold,
                groups=tuple(matched),
                digest=family.digest,
            )
        )
    indicators.sort(key=lambda ind: (ind.start, ind.end, ind.family, ind.group))
    return SignalResult(indicators=tuple(indicators), scores=tuple(scores))
