"""Indicator families loaded from YAML data files, and analysis of a text against them:
matched phrases with spans into the original text, and a score per family.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final, TypedDict

from safeguard.signals.normalize import normalize, word_key, word_pattern
from safeguard.signals.safe_yaml import YamlRefused, load_untrusted_yaml

__all__ = [
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
    "parse_family",
]

# Names become keys in the triage context (signals.<family>.score), so they must be identifiers.
_NAME: Final = re.compile(r"[a-z][a-z0-9_]*")
_FAMILY_KEYS: Final = frozenset({"name", "description", "threshold", "groups", "requires_all"})
_FAMILY_REQUIRED: Final = ("name", "description", "threshold", "groups")
_GROUP_KEYS: Final = frozenset({"name", "weight", "phrases"})
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
    _check_keys(data, _GROUP_KEYS, ("name", "weight", "phrases"), source, at)
    name = _check_name(data["name"], source, f"{at}.name")
    weight = _check_fraction(data["weight"], source, f"{at}.weight")
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
    return PhraseGroup(name=name, weight=weight, phrases=tuple(phrases))


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
    requires_all: tuple[str, ...] = ()
    if "requires_all" in data:
        raw_required = data["requires_all"]
        if not isinstance(raw_required, list) or not raw_required:
            raise FamilyFileError(source, "requires_all", "must be a non-empty list of group names")
        names = {g.name for g in groups}
        for k, required in enumerate(raw_required):
            if required not in names:
                raise FamilyFileError(source, f"requires_all[{k}]", f"no group named {required!r}")
        if len(set(raw_required)) != len(raw_required):
            raise FamilyFileError(source, "requires_all", "lists a group more than once")
        requires_all = tuple(raw_required)
    return Family(
        name=name,
        description=description.strip(),
        threshold=threshold,
        groups=tuple(groups),
        requires_all=requires_all,
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


@cache
def default_families() -> tuple[Family, ...]:
    """The families shipped in safeguard/signals/families, loaded and compiled once."""
    root = importlib.resources.files("safeguard.signals").joinpath("families")
    entries = sorted(
        (entry for entry in root.iterdir() if entry.name.endswith(".yaml")),
        key=lambda entry: entry.name,
    )
    return _check_unique(
        [
            _load_bytes(
                entry.read_bytes(),
                source=f"safeguard/signals/families/{entry.name}",
                stem=entry.name.removesuffix(".yaml"),
            )
            for entry in entries
        ]
    )


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
    if family.requires_all and not all(name in matched for name in family.requires_all):
        # A combination family (a threat and a demand) is reported but cannot trigger on one part.
        score = min(score, family.threshold / 2)
    # Rounding keeps a single group of weight equal to the threshold from missing it by 1e-16.
    return round(score, 6)


def analyze(text: str, families: Sequence[Family] | None = None) -> SignalResult:
    """Find indicator phrases in text and score each family; default families if none given."""
    chosen = default_families() if families is None else _check_unique(list(families))
    normalised = normalize(text)
    # The trailing space lets every compiled word end with a space, including the last one.
    haystack = normalised.text + " "
    keys = set(word_key(normalised.text).split(" "))
    indicators: list[Indicator] = []
    scores: list[FamilyScore] = []
    for family in chosen:
        matched: list[str] = []
        for group in family.groups:
            for phrase in group.phrases:
                if not phrase.may_match(keys):
                    continue
                for match in phrase.matcher.finditer(haystack):
                    start, end = normalised.original_span(match.start(), match.end() - 1)
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
