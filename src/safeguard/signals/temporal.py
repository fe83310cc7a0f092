"""Find time expressions in a message ("tonight", "b4 9", "besok jam 7", "今晚") and resolve each to
the moment it names, relative to the message's own time and a reference time zone (pure; no Django).

The words and patterns are data, one file per language in time_words/; the rules that turn them
into moments are here and in docs/decisions/temporal-expressions.md.
"""

from __future__ import annotations

import importlib
import importlib.resources
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeVar

# dateparser ships no type information and there is no stub package for it.
import dateparser  # type: ignore[import-untyped]

from safeguard.signals.normalize import normalize
from safeguard.signals.safe_yaml import YamlRefused, load_untrusted_yaml

__all__ = [
    "PRECISIONS",
    "TimeExpression",
    "TimeWordsError",
    "TimeWordsTable",
    "find_times",
    "load_time_words",
    "parse_time_words",
    "supported_time_languages",
]

PRECISIONS: Final = frozenset({"minute", "hour", "part_of_day", "day", "week"})
MAX_TIME_WORDS_BYTES: Final = 128 * 1024

# The moments that the rules in docs/decisions/temporal-expressions.md give to parts of the day.
_PART_TIMES: Final[Mapping[str, time]] = MappingProxyType(
    {"morning": time(9), "afternoon": time(15), "evening": time(20)}
)
_AFTER_SCHOOL: Final = time(15, 30)
_DAY_ONLY: Final = time(12)
_SOON: Final = timedelta(hours=2)
# A moment named for today that has already passed ("tonight" sent at 23:00) is read as soon.
_ALREADY_PAST: Final = timedelta(hours=1)
_UNIT_SECONDS: Final[Mapping[str, int]] = MappingProxyType(
    {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
)
_UNIT_PRECISION: Final[Mapping[str, str]] = MappingProxyType(
    {"minute": "minute", "hour": "hour", "day": "day", "week": "week"}
)
_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS: Final = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# Rules, and which "slots" of an expression each one fills. Parts that fill different slots
# join into one expression ("friday" + "7pm"); "now", offsets, weekends and next week stand alone.
_RULE_SLOTS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "now": frozenset({"alone"}),
        "offset": frozenset({"alone"}),
        "weekend": frozenset({"alone"}),
        "next_week": frozenset({"alone"}),
        "soon": frozenset({"soon"}),
        "day": frozenset({"day"}),
        "weekday": frozenset({"day"}),
        "date": frozenset({"day"}),
        "part": frozenset({"part"}),
        "clock": frozenset({"clock"}),
        "after_school": frozenset({"clock", "part"}),
        # Phrases that contain a time word but name no time ("desde luego", "good night").
        "ignore": frozenset({"alone"}),
    }
)
_EXPRESSION_KEYS: Final = frozenset({"rule", "patterns", "day", "part", "values", "alone"})
_VALUE_KEYS: Final = frozenset({"meridiem", "minute", "hour"})
_TABLE_KEYS: Final = frozenset(
    {
        "language",
        "word_boundaries",
        "joiners",
        "not_before",
        "numbers",
        "units",
        "hour_words",
        "meridiems",
        "weekdays",
        "months",
        "parts",
        "spellings",
        "expressions",
    }
)
_SLOT_NAMES: Final = frozenset(
    {
        "number",
        "unit",
        "hour",
        "hour12",
        "hour_word",
        "minute",
        "meridiem",
        "weekday",
        "month",
        "part",
        "day_num",
        "month_num",
        "year",
    }
)
_NUMERIC_SLOTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "hour": r"(?:2[0-3]|[01]?[0-9])(?![0-9])",
        "hour12": r"(?:1[0-2]|0?[1-9])(?![0-9])",
        "minute": r"[0-5][0-9](?![0-9])",
        "day_num": r"(?:3[01]|[12][0-9]|0?[1-9])(?![0-9])",
        "month_num": r"(?:1[0-2]|0?[1-9])(?![0-9])",
        "year": r"20[0-9]{2}(?![0-9])",
    }
)
_LANGUAGE: Final = re.compile(r"[a-z]{2,3}")
_SLOT: Final = re.compile(r"\{([a-z_][a-z_0-9]*)\}")
# Inline flags and named groups would break the slots this module adds.
_FORBIDDEN: Final = re.compile(r"\(\?(?:P|<[^=!]|[a-zA-Z])|\\[A-Z]")
_LITERAL_WORD: Final = re.compile(r"(?<![\\\w])[^\W\d_]+(?!\w)")


class TimeWordsError(ValueError):
    """A time words file is unreadable or invalid; names the file and the offending field."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        super().__init__(f"{source}: {field}: {message}")


@dataclass(frozen=True, slots=True)
class TimeExpression:
    """A time expression found in a text, resolved to the moment it names."""

    text: str  # the original text of the span, exactly as written
    start: int  # index into the ORIGINAL text (end exclusive)
    end: int
    at: datetime  # aware, UTC: the moment it names, resolved against sent_at in `zone`
    precision: str  # "minute" | "hour" | "part_of_day" | "day" | "week"
    language: str  # which language table matched ("en", "es", ...)


@dataclass(frozen=True, slots=True)
class _Template:
    regex: re.Pattern[str]
    rule: str
    day: int | None
    part: str | None
    values: Mapping[str, str | int]
    alone: bool


@dataclass(frozen=True, slots=True)
class TimeWordsTable:
    """One language's compiled time words."""

    language: str
    word_boundaries: bool
    templates: tuple[_Template, ...]
    # Where a template may start (a word start whose character begins some template), and for
    # each key (the first two characters there, or one) one regex for all templates that may
    # start so, plus those templates: most positions are rejected by a dictionary look-up.
    starts: re.Pattern[str]
    buckets: Mapping[str, tuple[str, tuple[_Template, ...]]]
    joiner: re.Pattern[str]
    numbers: Mapping[str, float]
    units: Mapping[str, str]
    hour_words: Mapping[str, int]
    meridiems: Mapping[str, str]
    weekdays: Mapping[str, int]
    months: Mapping[str, int]
    parts: Mapping[str, str]


# --- Folding ----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character, lower-cased and without accents, always exactly one character long."""
    lower = char.lower()
    if len(lower) != 1:
        lower = char
    return unicodedata.normalize("NFD", lower)[0]


def _fold(text: str) -> str:
    """Lower case without accents, keeping every index ("Mañana" -> "manana")."""
    if text.isascii():
        return text.lower()
    return "".join([_fold_char(char) for char in text])


def _key(text: str) -> str:
    """How a slot's matched text is looked up: folded, runs of spaces as one."""
    return " ".join(_fold(text).split())


# --- Loading and compiling a table --------------------------------------------------------------


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field_name: str, message: str) -> TimeWordsError:
        return TimeWordsError(self.source, field_name, message)

    def words(self, value: Any, field_name: str) -> list[str]:
        if not isinstance(value, list) or not value:
            raise self.fail(field_name, "must be a non-empty list of words")
        out: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{field_name}[{index}]", "must be a non-empty string")
            out.append(_key(item))
        return out

    def mapping(self, value: Any, field_name: str) -> dict[str, Any]:
        if not isinstance(value, dict) or not value:
            raise self.fail(field_name, "must be a non-empty mapping")
        for key in value:
            if not isinstance(key, str) or not key.strip():
                raise self.fail(field_name, f"key {key!r} must be a non-empty string")
        return value

    def closed_keys(
        self, value: dict[str, Any], field_name: str, allowed: Iterable[str]
    ) -> dict[str, list[str]]:
        allowed_set = frozenset(allowed)
        out: dict[str, list[str]] = {}
        for key, words in value.items():
            if key not in allowed_set:
                raise self.fail(f"{field_name}.{key}", f"must be one of {sorted(allowed_set)}")
            out[key] = self.words(words, f"{field_name}.{key}")
        return out


def _run_pattern(word: str) -> str:
    """Regex for one written word that also accepts a letter stretched to three or more."""
    out: list[str] = []
    index = 0
    while index < len(word):
        char = word[index]
        run = 1
        while index + run < len(word) and word[index + run] == char:
            run += 1
        escaped = re.escape(char)
        if not char.isalpha():
            out.append(escaped * run)
        elif run == 1:
            out.append(f"{escaped}(?:{escaped}{{2,}})?")
        else:
            out.append(f"{escaped}{{{run},}}")
        index += run
    return "".join(out)


def _alternation(phrases: Iterable[str], *, stretch: bool, space: str) -> str:
    parts = sorted(set(phrases), key=lambda phrase: (-len(phrase), phrase))
    rendered = [
        space.join(_run_pattern(word) if stretch else re.escape(word) for word in phrase.split())
        for phrase in parts
    ]
    return "(?:" + "|".join(rendered) + ")"


def _compile_template(
    pattern: str,
    *,
    field_name: str,
    checker: _Checker,
    slots: Mapping[str, str],
    spellings: Mapping[str, Sequence[str]],
    word_boundaries: bool,
    not_before: str,
) -> tuple[re.Pattern[str], str]:
    """The template's regex, and the same without named groups for the table's scanner."""
    if _FORBIDDEN.search(pattern):
        raise checker.fail(field_name, "must not use inline flags or named groups")
    folded = _fold(pattern)
    pieces: list[str] = []
    plain: list[str] = []
    used: dict[str, int] = {}
    pos = 0
    for match in _SLOT.finditer(folded):
        literal = _literal(folded[pos : match.start()], spellings, word_boundaries)
        pieces.append(literal)
        plain.append(literal)
        name = match.group(1)
        if name not in _SLOT_NAMES:
            raise checker.fail(field_name, f"unknown slot {{{name}}}")
        if name not in slots:
            raise checker.fail(field_name, f"slot {{{name}}} has no words in this file")
        used[name] = used.get(name, 0) + 1
        pieces.append(f"(?P<{name}_{used[name]}>{slots[name]})")
        plain.append(f"(?:{slots[name]})")
        pos = match.end()
    literal = _literal(folded[pos:], spellings, word_boundaries)
    pieces.append(literal)
    plain.append(literal)
    body = "".join(pieces)
    if word_boundaries:
        body = rf"(?<![^\W_])(?:{body})(?![^\W_]){not_before}"
    try:
        regex = re.compile(body)
    except re.error as exc:
        raise checker.fail(field_name, f"is not a valid pattern: {exc}") from None
    if regex.match(""):
        raise checker.fail(field_name, "matches the empty string")
    return regex, "".join(plain)


def _literal(chunk: str, spellings: Mapping[str, Sequence[str]], word_boundaries: bool) -> str:
    chunk = chunk.replace(" ?", r"\s*")
    chunk = chunk.replace(" ", r"\s+" if word_boundaries else r"\s*")
    if not word_boundaries:
        return chunk

    def word(match: re.Match[str]) -> str:
        text = match.group()
        return _alternation([text, *spellings.get(text, ())], stretch=True, space=r"\s+")

    return _LITERAL_WORD.sub(word, chunk)


# Python's own regex parser, to find which characters each pattern can start with (_buckets).
# It is imported by name because typeshed has no stubs for re._parser, and the public alias
# (sre_parse) warns that it is deprecated.
_sre_parser: Any = importlib.import_module("re._parser")
_Items = Sequence[tuple[Any, Any]]
# Patterns are bucketed by the first two characters they can match.
_KEY: Final = 2
# A character class wider than this counts as "any character" rather than being enumerated.
_MAX_CLASS: Final = 256
_SPACES: Final = frozenset(chr(code) for code in range(0x3001) if chr(code).isspace())


def _concat(left: frozenset[str], right: frozenset[str]) -> frozenset[str]:
    return frozenset(
        (a + b)[:_KEY] if len(a) < _KEY else a
        for a in left
        for b in (right if len(a) < _KEY else [""])
    )


def _prefixes(items: _Items) -> frozenset[str] | None:
    """The prefixes (up to _KEY characters) a parsed regex sequence can match; None: unknown.

    A prefix shorter than _KEY is a whole match. The answer may be too wide, never too narrow.
    """
    out = frozenset({""})
    for op, arg in items:
        item = _item_prefixes(str(op), arg)
        if item is None:
            return None
        out = _concat(out, item)
        if all(len(prefix) >= _KEY for prefix in out):
            break
    return out


def _class_chars(arg: Any) -> frozenset[str] | None:
    chars: set[str] = set()
    for kind, value in arg:
        name = str(kind)
        if name == "LITERAL":
            chars.add(chr(value))
        elif name == "RANGE" and value[1] - value[0] < _MAX_CLASS:
            chars.update(chr(code) for code in range(value[0], value[1] + 1))
        elif name == "CATEGORY" and str(value) == "CATEGORY_SPACE":
            chars |= _SPACES
        else:
            return None
    return frozenset(chars)


def _item_prefixes(name: str, arg: Any) -> frozenset[str] | None:
    if name == "LITERAL":
        return frozenset({chr(arg)})
    if name == "IN":
        return _class_chars(arg)
    if name == "BRANCH":
        union: set[str] = set()
        for branch in arg[1]:
            prefixes = _prefixes(branch)
            if prefixes is None:
                return None
            union |= prefixes
        return frozenset(union)
    if name == "SUBPATTERN":
        return _prefixes(arg[3])
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = arg
        inner = _prefixes(body)
        if inner is None:
            return None
        out: set[str] = set()
        current = frozenset({""})
        # Beyond _KEY + low repetitions the prefixes no longer change.
        for count in range(min(high, low + _KEY) + 1):
            if count >= low:
                out |= current
            current = _concat(current, inner)
        return frozenset(out)
    if name in ("ASSERT", "ASSERT_NOT", "AT"):
        return frozenset({""})  # Zero width: the characters come from what follows.
    return None


def _buckets(bodies: Sequence[str]) -> dict[str, list[int]]:
    """For each key (the first one or two characters at a position), the templates that may
    match there, by index. The key "" holds templates whose start could not be worked out."""
    keyed: dict[str, set[int]] = {}
    anywhere: set[int] = set()
    for index, body in enumerate(bodies):
        prefixes = _prefixes(_sre_parser.parse(body).data)
        if prefixes is None or "" in prefixes:
            anywhere.add(index)
            continue
        for prefix in prefixes:
            keyed.setdefault(prefix, set()).add(index)
    buckets = {"": sorted(anywhere)}
    for key, indices in keyed.items():
        # A two-character key also takes the templates keyed by its first character alone.
        shorter = keyed.get(key[0], set()) if len(key) == _KEY else set()
        buckets[key] = sorted(indices | shorter | anywhere)
    return buckets


def parse_time_words(data: Any, *, source: str, stem: str | None = None) -> TimeWordsTable:
    """Validate one loaded time words document and compile it; errors name the field."""
    check = _Checker(source)
    if not isinstance(data, dict):
        raise check.fail("<document>", "must be a mapping")
    unknown = sorted(str(key) for key in data if key not in _TABLE_KEYS)
    if unknown:
        raise check.fail(unknown[0], f"is not a known field (known: {sorted(_TABLE_KEYS)})")
    language = data.get("language")
    if not isinstance(language, str) or _LANGUAGE.fullmatch(language) is None:
        raise check.fail("language", "must be a lower-case language code such as 'en'")
    if stem is not None and language != stem:
        raise check.fail("language", f"must equal the file name ({stem!r})")
    boundaries = data.get("word_boundaries")
    if not isinstance(boundaries, bool):
        raise check.fail("word_boundaries", "must be true or false")
    space = r"\s+" if boundaries else r"\s*"

    def optional_mapping(name: str) -> dict[str, Any]:
        value = data.get(name)
        return {} if value is None else check.mapping(value, name)

    numbers: dict[str, float] = {}
    for key, value in optional_mapping("numbers").items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1000:
            raise check.fail(f"numbers.{key}", "must be a number above 0 and at most 1000")
        numbers[_key(key)] = float(value)
    hour_words: dict[str, int] = {}
    for key, value in optional_mapping("hour_words").items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
            raise check.fail(f"hour_words.{key}", "must be an hour from 0 to 23")
        hour_words[_key(key)] = value

    def inverted(name: str, allowed: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, words in check.closed_keys(optional_mapping(name), name, allowed).items():
            for word in words:
                if word in out and out[word] != key:
                    raise check.fail(f"{name}.{key}", f"{word!r} is also listed under {out[word]}")
                out[word] = key
        return out

    units = inverted("units", _UNIT_SECONDS)
    meridiems = inverted("meridiems", ("am", "pm"))
    weekdays = {word: _WEEKDAYS.index(day) for word, day in inverted("weekdays", _WEEKDAYS).items()}
    months = {word: _MONTHS.index(month) + 1 for word, month in inverted("months", _MONTHS).items()}
    parts = inverted("parts", _PART_TIMES)

    spellings: dict[str, list[str]] = {}
    for key, words in optional_mapping("spellings").items():
        if len(key.split()) != 1:
            raise check.fail(f"spellings.{key}", "must be a single word")
        spellings[_key(key)] = check.words(words, f"spellings.{key}")

    joiners = check.words(data.get("joiners", [","]), "joiners")
    joiner = re.compile(rf"\s*(?:{_alternation(joiners, stretch=False, space=space)}\s*)?")
    not_before = ""
    if data.get("not_before") is not None:
        words = check.words(data["not_before"], "not_before")
        not_before = rf"(?!\s*{_alternation(words, stretch=False, space=space)}(?![^\W_]))"

    slots: dict[str, str] = dict(_NUMERIC_SLOTS)
    named: dict[str, Mapping[str, object]] = {
        "number": numbers,
        "unit": units,
        "meridiem": meridiems,
        "weekday": weekdays,
        "month": months,
        "part": parts,
        "hour_word": hour_words,
    }
    for name, table in named.items():
        if table:
            slots[name] = _alternation(table, stretch=boundaries, space=space)
    if numbers:
        slots["number"] = rf"(?:[0-9]{{1,3}}(?![0-9])|{slots['number']})"
    else:
        slots["number"] = r"[0-9]{1,3}(?![0-9])"
    if hour_words:
        # Hours written in words (Chinese numerals, "seven") count wherever a digit would.
        slots["hour"] = rf"(?:{slots['hour']}|{slots['hour_word']})"
        slots["hour12"] = rf"(?:{slots['hour12']}|{slots['hour_word']})"

    expressions = data.get("expressions")
    if not isinstance(expressions, list) or not expressions:
        raise check.fail("expressions", "must be a non-empty list")
    templates: list[_Template] = []
    bodies: list[str] = []
    for index, entry in enumerate(expressions):
        where = f"expressions[{index}]"
        if not isinstance(entry, dict):
            raise check.fail(where, "must be a mapping")
        extra = sorted(str(key) for key in entry if key not in _EXPRESSION_KEYS)
        if extra:
            raise check.fail(f"{where}.{extra[0]}", "is not a known field")
        rule = entry.get("rule")
        if not isinstance(rule, str) or rule not in _RULE_SLOTS:
            raise check.fail(f"{where}.rule", f"must be one of {sorted(_RULE_SLOTS)}")
        day = entry.get("day")
        if day is not None and (isinstance(day, bool) or not isinstance(day, int) or day < 0):
            raise check.fail(f"{where}.day", "must be a day offset (0 today, 1 tomorrow, ...)")
        part = entry.get("part")
        if part is not None and part not in _PART_TIMES:
            raise check.fail(f"{where}.part", f"must be one of {sorted(_PART_TIMES)}")
        if (day is not None or part is not None) and rule not in ("day", "part"):
            raise check.fail(where, "day and part are only for the rules day and part")
        if rule == "day" and day is None:
            raise check.fail(f"{where}.day", "is required for the rule day")
        values = entry.get("values", {})
        if not isinstance(values, dict):
            raise check.fail(f"{where}.values", "must be a mapping")
        for key, value in values.items():
            if key not in _VALUE_KEYS:
                raise check.fail(f"{where}.values.{key}", f"must be one of {sorted(_VALUE_KEYS)}")
            if key == "meridiem" and value not in ("am", "pm"):
                raise check.fail(f"{where}.values.{key}", "must be am or pm")
            if key != "meridiem" and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 59
            ):
                raise check.fail(f"{where}.values.{key}", "must be a whole number up to 59")
        alone = entry.get("alone", True)
        if not isinstance(alone, bool):
            raise check.fail(f"{where}.alone", "must be true or false")
        patterns = entry.get("patterns")
        if not isinstance(patterns, list) or not patterns:
            raise check.fail(f"{where}.patterns", "must be a non-empty list")
        for number, pattern in enumerate(patterns):
            pattern_field = f"{where}.patterns[{number}]"
            if not isinstance(pattern, str) or not pattern.strip():
                raise check.fail(pattern_field, "must be a non-empty string")
            regex, plain = _compile_template(
                pattern,
                field_name=pattern_field,
                checker=check,
                slots=slots,
                spellings=spellings,
                word_boundaries=boundaries,
                not_before=not_before,
            )
            templates.append(
                _Template(regex, rule, day, part, MappingProxyType(dict(values)), alone)
            )
            bodies.append(plain)
    buckets = _buckets(bodies)
    # Many keys share one list of templates ("0 ", "0\t", ...). Each list's regex is compiled
    # the first time it is needed (_scanner): compiling them all would take a second per table.
    shared = {
        indices: (
            "|".join(f"(?:{bodies[index]})" for index in indices),
            tuple(templates[index] for index in indices),
        )
        for indices in {tuple(indices) for indices in buckets.values() if indices}
    }
    if buckets[""]:
        start_pattern = "."
    else:
        starts = "".join(sorted({re.escape(key[0]) for key in buckets if key}))
        start_pattern = f"[{starts}]"
    if boundaries:
        start_pattern = rf"(?<![^\W_]){start_pattern}"
    return TimeWordsTable(
        language=language,
        word_boundaries=boundaries,
        templates=tuple(templates),
        starts=re.compile(start_pattern),
        buckets=MappingProxyType(
            {key: shared[tuple(indices)] for key, indices in buckets.items() if indices}
        ),
        joiner=joiner,
        numbers=MappingProxyType(numbers),
        units=MappingProxyType(units),
        hour_words=MappingProxyType(hour_words),
        meridiems=MappingProxyType(meridiems),
        weekdays=MappingProxyType(weekdays),
        months=MappingProxyType(months),
        parts=MappingProxyType(parts),
    )


def _load_text(text: str, *, source: str, stem: str | None) -> TimeWordsTable:
    try:
        data = load_untrusted_yaml(text, max_bytes=MAX_TIME_WORDS_BYTES)
    except YamlRefused as exc:
        raise TimeWordsError(source, exc.field, exc.detail) from None
    return parse_time_words(data, source=source, stem=stem)


def load_time_words(path: str | Path) -> TimeWordsTable:
    """Load and validate one time words file; its `language` must equal its file name."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TimeWordsError(str(path), "<file>", f"cannot be read ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TimeWordsError(str(path), "<file>", "is not UTF-8") from None
    return _load_text(text, source=str(path), stem=path.stem)


@cache
def _packaged() -> Mapping[str, TimeWordsTable]:
    root = importlib.resources.files("safeguard.signals").joinpath("time_words")
    tables: dict[str, TimeWordsTable] = {}
    for entry in sorted(root.iterdir(), key=lambda entry: entry.name):
        if entry.name.endswith(".yaml") and entry.is_file():
            stem = entry.name.removesuffix(".yaml")
            source = f"safeguard/signals/time_words/{entry.name}"
            tables[stem] = _load_text(entry.read_text("utf-8"), source=source, stem=stem)
    return MappingProxyType(tables)


def supported_time_languages() -> frozenset[str]:
    """Languages with a time words file shipped in safeguard/signals/time_words."""
    return frozenset(_packaged())


# --- Finding parts ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Part:
    start: int
    end: int
    language: str
    rule: str
    alone: bool
    slots: frozenset[str]
    day: int | None = None
    weekday: int | None = None
    date: date | None = None
    part: str | None = None
    hour: int | None = None
    minute: int | None = None
    meridiem: str | None = None
    offset: timedelta | None = None
    unit: str | None = None


@dataclass(slots=True)
class _Group:
    parts: list[_Part] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.parts[0].start

    @property
    def end(self) -> int:
        return self.parts[-1].end


def _groups(match: re.Match[str], name: str) -> str | None:
    for index in range(1, 4):
        try:
            value = match.group(f"{name}_{index}")
        except IndexError:
            return None
        if value is not None:
            return value
    return None


_V = TypeVar("_V")


@lru_cache(maxsize=1024)
def _stretched(word: str) -> re.Pattern[str]:
    return re.compile(r"\s+".join(_run_pattern(part) for part in word.split()))


def _lookup(table: Mapping[str, _V], text: str) -> _V:
    """The value of a slot's word, also when written stretched ("horaaa", "fridayyy")."""
    key = _key(text)
    value = table.get(key)
    if value is not None:
        return value
    for word, candidate in table.items():
        if _stretched(word).fullmatch(key):
            return candidate
    raise KeyError(text)  # pragma: no cover - slots only match words of their table.


def _hour(text: str, table: TimeWordsTable) -> int:
    if text.isdigit():
        return int(text)
    return _lookup(table.hour_words, text)


@lru_cache(maxsize=4096)
def _parse_date(span: str, language: str, base: date) -> date | None:
    """An explicit date, read by dateparser from the candidate span only."""
    parsed: datetime | None = dateparser.parse(
        span,
        languages=[language],
        settings={
            "RELATIVE_BASE": datetime.combine(base, time()),
            "PREFER_DATES_FROM": "future",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    return None if parsed is None else parsed.date()


def _numeric_date(year: int | None, month: int, day: int, base: date) -> date | None:
    """A month and day (and year) dateparser cannot read, as the next such date from base."""
    for candidate_year in (year,) if year is not None else (base.year, base.year + 1):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if year is not None or candidate >= base:
            return candidate
    return None


def _make_part(
    match: re.Match[str],
    template: _Template,
    table: TimeWordsTable,
    span: tuple[int, int],
    original: str,
    base: date,
) -> _Part | None:
    slots = _RULE_SLOTS[template.rule]
    if template.day is not None:
        slots = slots | {"day"}  # "tonight" names its day as well as its part.
    part = _Part(
        span[0],
        span[1],
        table.language,
        template.rule,
        template.alone,
        slots,
        day=template.day,
        part=template.part,
    )
    rule = template.rule
    if rule == "offset":
        number = _groups(match, "number")
        unit = _groups(match, "unit")
        amount = 1.0 if number is None else _number(number, table)
        unit_key = "hour" if unit is None else _lookup(table.units, unit)
        if amount <= 0:
            return None
        part.offset = timedelta(seconds=amount * _UNIT_SECONDS[unit_key])
        part.unit = unit_key
    elif rule == "clock":
        hour = _groups(match, "hour") or _groups(match, "hour12") or _groups(match, "hour_word")
        if hour is None:
            value = template.values.get("hour")
            if not isinstance(value, int):
                return None
            part.hour = value
        else:
            part.hour = _hour(hour, table)
        minute = _groups(match, "minute")
        fixed_minute = template.values.get("minute")
        if minute is not None:
            part.minute = int(minute)
        elif isinstance(fixed_minute, int):
            part.minute = fixed_minute
        meridiem = _groups(match, "meridiem")
        fixed_meridiem = template.values.get("meridiem")
        if meridiem is not None:
            part.meridiem = _lookup(table.meridiems, meridiem)
        elif isinstance(fixed_meridiem, str):
            part.meridiem = fixed_meridiem
        if part.meridiem is not None and not 1 <= part.hour <= 12:
            return None  # "19pm" is not a time.
    elif rule == "part" and part.part is None:
        word = _groups(match, "part")
        if word is None:
            part.part = "evening"  # Patterns such as "at night" name no slot.
        else:
            part.part = _lookup(table.parts, word)
    elif rule == "weekday":
        word = _groups(match, "weekday")
        if word is None:
            return None
        part.weekday = _lookup(table.weekdays, word)
    elif rule == "date":
        text = original[span[0] : span[1]]
        part.date = _parse_date(text, table.language, base)
        month_num = _groups(match, "month_num")
        day_num = _groups(match, "day_num")
        if part.date is None and month_num is not None and day_num is not None:
            year = _groups(match, "year")
            part.date = _numeric_date(
                None if year is None else int(year), int(month_num), int(day_num), base
            )
        if part.date is None:
            return None
    return part


def _number(text: str, table: TimeWordsTable) -> float:
    if text.isdigit():
        return float(text)
    return _lookup(table.numbers, text)


_MAYBE_OBFUSCATED: Final = re.compile(
    # Letters spaced out or split by punctuation ("t.o.n.i.g.h.t", "t o n i g h t").
    r"(?<![^\W_])[^\W_](?:[ .\-_*~|/\u00b7\u2022+][^\W_](?![^\W_])){2,}"
    # A leet digit between letters ("t0night", "s00n").
    r"|[a-z][0134579@$]+[a-z]"
    # Look-alike letters from other scripts, zero-width characters, fullwidth forms.
    r"|[\u0370-\u04ff\u200b-\u200f\u2060\u00ad\uff01-\uff5e]",
    re.IGNORECASE,
)


@cache
def _scanner(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _candidates(
    text: str, tables: Sequence[TimeWordsTable]
) -> list[tuple[int, int, _Template, TimeWordsTable, re.Match[str]]]:
    found = []
    for table in tables:
        buckets = table.buckets
        for hit in table.starts.finditer(text):
            start = hit.start()
            bucket = (
                buckets.get(text[start : start + _KEY])
                or buckets.get(text[start])
                or buckets.get("")
            )
            if bucket is None:
                continue
            pattern, templates = bucket
            if _scanner(pattern).match(text, start) is None:
                continue
            for template in templates:
                match = template.regex.match(text, start)
                if match is not None:
                    found.append((start, match.end(), template, table, match))
    return found


def _find_parts(text: str, tables: Sequence[TimeWordsTable], base: date) -> list[_Part]:
    folded = _fold(text)
    parts: list[_Part] = []
    for start, end, template, table, match in _candidates(folded, tables):
        part = _make_part(match, template, table, (start, end), text, base)
        if part is not None:
            parts.append(part)
    latin = [table for table in tables if table.word_boundaries]
    if latin and _MAYBE_OBFUSCATED.search(text):
        # Spaced-out, leet and look-alike spellings: match again on the normalised text, whose
        # spans map back to the original.
        norm = normalize(text)
        for start, end, template, table, match in _candidates(norm.text, latin):
            span = norm.original_span(start, end)
            part = _make_part(match, template, table, span, text, base)
            if part is not None:
                parts.append(part)
        parts.extend(_spaced_tails(folded, text, latin, base, parts))
    return parts


_SPACED_RUN: Final = re.compile(
    r"(?<![^\W_])[^\W_](?:[ .\-_*~|/\u00b7\u2022+][^\W_](?![^\W_])){2,}"
)


def _spaced_tails(
    folded: str,
    text: str,
    tables: Sequence[TimeWordsTable],
    base: date,
    found: Sequence[_Part],
) -> list[_Part]:
    """Time words spelled out at the end of a longer spaced run ("c u t o m o r r o w").

    Normalisation joins the whole run ("cutomorrow"), so the word is looked for again in the
    run's tails; only a match that ends where the run ends counts.
    """
    out: list[_Part] = []
    for run in _SPACED_RUN.finditer(folded):
        if any(run.start() <= part.start < run.end() for part in found):
            continue
        indices = [run.start() + i for i, char in enumerate(run.group()) if char.isalnum()]
        letters = "".join(folded[i] for i in indices)
        for skip in range(1, len(letters) - 2):
            tail = letters[skip:]
            hits = [
                (start, end, template, table, match)
                for start, end, template, table, match in _candidates(tail, tables)
                if start == 0 and end == len(tail)
            ]
            for start, end, template, table, match in hits:
                span = (indices[skip + start], indices[skip + end - 1] + 1)
                part = _make_part(match, template, table, span, text, base)
                if part is not None:
                    out.append(part)
            if hits:
                break
    return out


def _select(parts: list[_Part]) -> list[_Part]:
    """Non-overlapping parts, longest first; at equal length the earlier and first-listed."""
    chosen: list[_Part] = []
    order = sorted(enumerate(parts), key=lambda item: (item[1].start - item[1].end, item[0]))
    for _index, part in order:
        if all(part.end <= other.start or other.end <= part.start for other in chosen):
            chosen.append(part)
    chosen.sort(key=lambda part: part.start)
    return chosen


def _join(parts: list[_Part], folded: str, tables: Mapping[str, TimeWordsTable]) -> list[_Group]:
    groups: list[_Group] = []
    for part in parts:
        if groups:
            group = groups[-1]
            gap = folded[group.end : part.start]
            taken = frozenset().union(*(other.slots for other in group.parts))
            joinable = (
                "alone" not in taken
                and "alone" not in part.slots
                and not taken & part.slots
                and any(
                    tables[language].joiner.fullmatch(gap)
                    for language in {part.language, group.parts[-1].language, "en"}
                    if language in tables
                )
            )
            if joinable:
                group.parts.append(part)
                continue
        groups.append(_Group([part]))
    return [
        group
        for group in groups
        if any(part.alone for part in group.parts) and group.parts[0].rule != "ignore"
    ]


# --- Resolving ----------------------------------------------------------------------------------


def _moment(day: date, clock: time, zone: tzinfo) -> datetime:
    naive = datetime.combine(day, clock)
    localize = getattr(zone, "localize", None)
    # pytz zones must localise; attaching them as tzinfo would give the zone's first offset.
    aware = localize(naive) if callable(localize) else naive.replace(tzinfo=zone)
    if not isinstance(aware, datetime):  # pragma: no cover - a broken tzinfo.
        raise TypeError("zone.localize did not return a datetime")
    return aware.astimezone(UTC)


def _hour_readings(part: _Part, part_of_day: str | None) -> list[tuple[int, int]]:
    """The (day shift, hour) readings of a clock time, in order of preference."""
    hour = part.hour if part.hour is not None else 0
    if part.meridiem == "pm":
        return [(0, hour % 12 + 12)]
    if part.meridiem == "am":
        return [(0, hour % 12)]
    if hour == 0 or hour > 12:
        return [(0, hour)]
    if part_of_day == "evening":
        # "tonight at 1" is in the small hours of the next day; "tonight at 12" is midnight.
        return [(1, hour % 12)] if hour % 12 <= 4 else [(0, hour + 12)]
    if part_of_day == "afternoon":
        return [(0, hour % 12 + 12)]
    if part_of_day == "morning":
        return [(0, hour % 12)]
    # A bare hour: 12 is noon, 1 to 6 are afternoon or evening, 7 to 11 either.
    if hour == 12:
        return [(0, 12)]
    if hour <= 6:
        return [(0, hour + 12)]
    return [(0, hour), (0, hour + 12)]


def _next_weekday(today: date, weekday: int, *, allow_today: bool) -> date:
    delta = (weekday - today.weekday()) % 7
    if delta == 0 and not allow_today:
        delta = 7
    return today + timedelta(days=delta)


def _resolve(group: _Group, sent_at: datetime, zone: tzinfo) -> tuple[datetime, str]:
    first = group.parts[0]
    if first.rule == "now":
        return sent_at, "minute"
    if first.rule == "offset" and first.offset is not None and first.unit is not None:
        return sent_at + first.offset, _UNIT_PRECISION[first.unit]
    if first.rule == "next_week":
        return sent_at + timedelta(days=7), "week"
    local = sent_at.astimezone(zone)
    today = local.date()
    if first.rule == "weekend":
        saturday = _next_weekday(today, 5, allow_today=True)
        at = _moment(saturday, _DAY_ONLY, zone)
        if today.weekday() == 6 or at < sent_at:
            return sent_at + _ALREADY_PAST, "day"
        return at, "day"

    day_part = next((part for part in group.parts if "day" in part.slots), None)
    clock = next((part for part in group.parts if part.rule == "clock"), None)
    part_of_day = next((part.part for part in group.parts if part.part is not None), None)
    after_school = any(part.rule == "after_school" for part in group.parts)

    if clock is not None:
        readings = _hour_readings(clock, part_of_day)
        minute = clock.minute or 0
        precision = "minute" if clock.minute is not None else "hour"
    elif part_of_day is not None:
        moment = _PART_TIMES[part_of_day]
        readings = [(0, moment.hour)]
        minute = moment.minute
        precision = "part_of_day"
    elif after_school:
        readings = [(0, _AFTER_SCHOOL.hour)]
        minute = _AFTER_SCHOOL.minute
        precision = "hour"
    elif day_part is not None:
        readings = [(0, _DAY_ONLY.hour)]
        minute = 0
        precision = "day"
    else:  # Only "later" or "soon".
        return sent_at + _SOON, "part_of_day"
    has_time = clock is not None or part_of_day is not None or after_school

    def on(day: date) -> list[datetime]:
        return [
            _moment(day + timedelta(days=shift), time(hour, minute), zone)
            for shift, hour in readings
        ]

    if day_part is not None and day_part.date is not None:
        days = [day_part.date]
    elif day_part is not None and day_part.day is not None:
        days = [today + timedelta(days=day_part.day)]
    elif day_part is not None and day_part.weekday is not None:
        same_day = _next_weekday(today, day_part.weekday, allow_today=True)
        later_today = has_time and same_day == today and any(m >= sent_at for m in on(today))
        days = [_next_weekday(today, day_part.weekday, allow_today=later_today)]
    elif after_school and clock is None:
        # School days only: today if school is not out yet, else the next weekday.
        days = [
            today + timedelta(days=delta)
            for delta in range(8)
            if (today + timedelta(days=delta)).weekday() < 5
        ]
    else:
        days = [today, today + timedelta(days=1), today + timedelta(days=2)]
    explicit = day_part is not None
    for day in days:
        moments = on(day)
        upcoming = [moment for moment in moments if moment >= sent_at]
        if upcoming:
            return min(upcoming), precision
        if explicit:
            if day_part is not None and day_part.date is not None and day < today:
                return min(moments), precision  # An explicit date in the past stays there.
            break
    # Named for today but already past ("tonight" at 23:00, "today" at 20:00): the sender means
    # soon. (Without a named day, three days always hold an upcoming reading.)
    return sent_at + _ALREADY_PAST, precision


def find_times(
    text: str, *, sent_at: datetime, zone: tzinfo, languages: Sequence[str] = ("en",)
) -> tuple[TimeExpression, ...]:
    """Time expressions in text, resolved against sent_at in zone, sorted by start.

    English is always tried besides `languages` (chats mix languages). Raises ValueError for a
    naive sent_at or a language without a time words file (see supported_time_languages).
    """
    if sent_at.tzinfo is None or sent_at.utcoffset() is None:
        raise ValueError("sent_at must be an aware datetime")
    # Arithmetic on an aware datetime in its own zone is wall-clock arithmetic; in UTC it is
    # elapsed time, which is what "in 2 hours" means across a DST change.
    sent_at = sent_at.astimezone(UTC)
    tables = _packaged()
    wanted = ["en", *(language for language in languages if language != "en")]
    missing = [language for language in wanted if language not in tables]
    if missing:
        raise ValueError(f"no time words for language {missing[0]!r}")
    active = [tables[language] for language in dict.fromkeys(wanted)]
    if not text:
        return ()
    base = sent_at.astimezone(zone).date()
    parts = _select(_find_parts(text, active, base))
    if not parts:
        return ()
    folded = _fold(text)
    out: list[TimeExpression] = []
    for group in _join(parts, folded, tables):
        at, precision = _resolve(group, sent_at, zone)
        language = next(
            (part.language for part in group.parts if part.language != "en"),
            group.parts[0].language,
        )
        out.append(
            TimeExpression(
                text=text[group.start : group.end],
                start=group.start,
                end=group.end,
                at=at.astimezone(UTC),
                precision=precision,
                language=language,
            )
        )
    return tuple(out)
