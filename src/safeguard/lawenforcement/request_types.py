"""Law-enforcement request types as data: the fields each must carry, its clock, its preservation
hold, what the process may get (the scope ladder), and the sources; loaded from YAML (pure).
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Any, Final, TypeVar

from safeguard.lawenforcement.clocks import Clock, Counting, Unit, period_end
from safeguard.signals.safe_yaml import YamlRefused, load_untrusted_yaml

__all__ = [
    "FIELDS",
    "SCOPE_LADDER",
    "Citation",
    "DataCategory",
    "Kind",
    "Preservation",
    "RequestType",
    "RequestTypeError",
    "Scope",
    "UnknownRequestType",
    "default_request_types",
    "hold_ends_at",
    "load_request_types",
    "request_type",
    "scope_allows",
    "scope_refusal",
]

MAX_BYTES: Final = 256 * 1024

_E = TypeVar("_E", bound=StrEnum)


class Kind(StrEnum):
    EMERGENCY_DISCLOSURE = "emergency_disclosure"
    PRESERVATION = "preservation"
    SUBPOENA = "subpoena"
    COURT_ORDER = "court_order"
    SEARCH_WARRANT = "search_warrant"
    PRODUCTION_ORDER = "production_order"
    MLAT = "mlat"


class Scope(StrEnum):
    """The most a kind of process may get, lowest first (see SCOPE_LADDER)."""

    NONE = "none"
    BASIC_SUBSCRIBER = "basic_subscriber"
    NON_CONTENT = "non_content"
    CONTENT = "content"


SCOPE_LADDER: Final[tuple[Scope, ...]] = (
    Scope.NONE,
    Scope.BASIC_SUBSCRIBER,
    Scope.NON_CONTENT,
    Scope.CONTENT,
)


class DataCategory(StrEnum):
    """What one item of a disclosure package is."""

    SUBSCRIBER = "subscriber"
    RECORDS = "records"
    CONTENT = "content"


# The lowest rung of the ladder that reaches each category.
_NEEDS: Final[Mapping[DataCategory, Scope]] = MappingProxyType(
    {
        DataCategory.SUBSCRIBER: Scope.BASIC_SUBSCRIBER,
        DataCategory.RECORDS: Scope.NON_CONTENT,
        DataCategory.CONTENT: Scope.CONTENT,
    }
)

_SCOPE_PHRASE: Final[Mapping[Scope, str]] = MappingProxyType(
    {
        Scope.NONE: "nothing: it preserves data, it does not disclose it",
        Scope.BASIC_SUBSCRIBER: "basic subscriber information only",
        Scope.NON_CONTENT: "subscriber information and non-content records only",
        Scope.CONTENT: "content",
    }
)

_CATEGORY_PHRASE: Final[Mapping[DataCategory, str]] = MappingProxyType(
    {
        DataCategory.SUBSCRIBER: "subscriber information needs",
        DataCategory.RECORDS: "non-content records need",
        DataCategory.CONTENT: "content needs",
    }
)

FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "danger": "the danger to life or of serious injury, as the requester states it",
        "named_accounts": "the accounts on the host platform the request names",
        "issuing_authority": "the agency, court or authority that issued or sent the request",
        "legal_document": "the legal process itself (PDF or image), kept in the evidence vault",
        "case_number": "the requester's case or reference number",
        "offence": "the offence under investigation, as the process states it",
        "return_date": "the date by which the process asks for the response",
        "data_categories": "the categories of data the process asks for",
        "enforcing_state": "for an EU order, the Member State whose authority may enforce it",
        "requesting_state": "for an MLAT request, the foreign state on whose behalf it is made",
    }
)

_PRIORITIES: Final = ("P0", "P1", "P2", "P3")
_KEY: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
_JURISDICTION: Final = re.compile(r"[A-Z]{2,4}")


class RequestTypeError(ValueError):
    """A request-type file that is refused, or a request type that does not exist.

    `problems` lists every problem found, each as "<where>: <what>".
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


class UnknownRequestType(RequestTypeError, KeyError):
    """A key that names no request type; a KeyError too, so a lookup can catch either."""

    def __str__(self) -> str:
        return "; ".join(self.problems)


@dataclass(frozen=True)
class Citation:
    source: str
    url: str
    note: str
    verified: bool  # False where not checked against the primary text


@dataclass(frozen=True)
class Preservation:
    """A hold of `days`, extendable `max_extensions` times by `extension_days` each."""

    days: int
    extension_days: int
    max_extensions: int
    counting: Counting


@dataclass(frozen=True)
class RequestType:
    key: str
    label: str
    kind: Kind
    jurisdiction: str  # "US", "EU", "GB", "CA", "INTL"...
    priority: str  # "P0".."P3"
    emergency: bool  # needs a recorded good-faith determination before content is disclosed
    required_fields: tuple[str, ...]
    clock: Clock | None  # None for preservation-only, whose clock is the hold
    preservation: Preservation | None
    scope: Scope
    citations: tuple[Citation, ...]
    noun: str  # the type in a sentence, with its article: "a subpoena"
    alternative: str  # how a refusal names this type as the way to get more
    scope_basis: str  # the provision that sets the scope, quoted in refusals
    applies_from: date | None = None


def scope_allows(scope: Scope, category: DataCategory) -> bool:
    """Whether process of `scope` may get an item of `category`."""
    return SCOPE_LADDER.index(scope) >= SCOPE_LADDER.index(_NEEDS[category])


def scope_refusal(
    request_type: RequestType,
    category: DataCategory,
    *,
    catalogue: Mapping[str, RequestType] | None = None,
) -> str | None:
    """None if `request_type` may get `category`; else the sentence that refuses it, naming the
    rule and its citation and the process of the same jurisdiction that would get it.

    The alternatives come from `catalogue` (the packaged types by default).
    """
    if scope_allows(request_type.scope, category):
        return None
    types = default_request_types() if catalogue is None else catalogue
    routes = sorted(
        (
            t
            for t in types.values()
            if t.jurisdiction == request_type.jurisdiction
            and t.key != request_type.key
            and scope_allows(t.scope, category)
        ),
        # Ordinary process first, the emergency route last; lower rungs before higher ones.
        key=lambda t: (t.emergency, SCOPE_LADDER.index(t.scope), t.key),
    )
    names = list(dict.fromkeys(t.alternative for t in routes))
    if not names:
        needed = "other legal process"
    elif len(names) == 1:
        needed = names[0]
    else:
        needed = ", ".join(names[:-1]) + " or " + names[-1]
    return (
        f"{request_type.noun} gets {_SCOPE_PHRASE[request_type.scope]} "
        f"({request_type.scope_basis}); {_CATEGORY_PHRASE[category]} {needed}"
    )


def hold_ends_at(
    received_at: datetime,
    preservation: Preservation,
    *,
    extensions: int,
    zone: str,
    holiday_country: str | None,
) -> datetime:
    """When a preservation hold received at `received_at` ends after `extensions` extensions.

    The hold and its extensions are counted as one period from receipt (90 + 90 = 180 days).
    """
    if not 0 <= extensions <= preservation.max_extensions:
        raise RequestTypeError(
            [
                f"extensions: {extensions} is not allowed; this hold may be extended at most "
                f"{preservation.max_extensions} time(s)"
            ]
        )
    return period_end(
        received_at,
        amount=preservation.days + extensions * preservation.extension_days,
        unit=Unit.DAYS,
        counting=preservation.counting,
        zone=zone,
        holiday_country=holiday_country,
    )


# Parsing. Each reader appends "<path>: <problem>" to `problems` and returns None on failure,
# so that one pass reports every problem in the file.

_TYPE_KEYS: Final = {
    "label": True,
    "noun": True,
    "alternative": False,
    "kind": True,
    "jurisdiction": True,
    "priority": True,
    "emergency": True,
    "required_fields": True,
    "clock": True,
    "preservation": True,
    "scope": True,
    "scope_basis": True,
    "applies_from": False,
    "citations": True,
}
_CLOCK_KEYS: Final = {"amount", "unit", "counting", "policy_choice", "note"}
_PRESERVATION_KEYS: Final = {"days", "extension_days", "max_extensions", "counting"}
_CITATION_KEYS: Final = {"source", "url", "note", "verified"}


def _names(values: Any) -> str:
    return ", ".join(sorted(str(v) for v in values))


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def mapping(
        self, value: Any, where: str, *, required: Set[str], optional: Set[str] = frozenset()
    ) -> dict[Any, Any] | None:
        if not isinstance(value, dict):
            self.fail(where, f"must be a mapping, got {type(value).__name__}")
            return None
        unknown = set(map(str, value)) - required - optional
        if unknown:
            self.fail(
                where, f"unknown key(s) {_names(unknown)}; allowed: {_names(required | optional)}"
            )
        missing = required - set(value)
        if missing:
            self.fail(where, f"missing key(s) {_names(missing)}")
        return value

    def text(self, value: Any, where: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, "must be a non-empty string")
            return None
        return value.strip()

    def flag(self, value: Any, where: str) -> bool | None:
        if not isinstance(value, bool):
            self.fail(where, f"must be true or false, got {value!r}")
            return None
        return value

    def count(self, value: Any, where: str, *, minimum: int) -> int | None:
        # bool is an int in Python; "true" days is a mistake, not 1.
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(where, f"must be a whole number of at least {minimum}, got {value!r}")
            return None
        return int(value)

    def choice(self, value: Any, where: str, enum: type[_E]) -> _E | None:
        try:
            return enum(value)
        except ValueError:
            self.fail(where, f"{value!r} is not one of {_names(m.value for m in enum)}")
            return None

    def clock(self, value: Any, where: str) -> Clock | None:
        raw = self.mapping(value, where, required=_CLOCK_KEYS)
        if raw is None:
            return None
        amount = self.count(raw.get("amount"), f"{where}.amount", minimum=1)
        unit = self.choice(raw.get("unit"), f"{where}.unit", Unit)
        counting = self.choice(raw.get("counting"), f"{where}.counting", Counting)
        policy = self.flag(raw.get("policy_choice"), f"{where}.policy_choice")
        note = self.text(raw.get("note"), f"{where}.note")
        if amount is None or unit is None or counting is None or policy is None or note is None:
            return None
        return Clock(amount=amount, unit=unit, counting=counting, policy_choice=policy, note=note)

    def preservation(self, value: Any, where: str) -> Preservation | None:
        raw = self.mapping(value, where, required=_PRESERVATION_KEYS)
        if raw is None:
            return None
        days = self.count(raw.get("days"), f"{where}.days", minimum=1)
        extension = self.count(raw.get("extension_days"), f"{where}.extension_days", minimum=0)
        most = self.count(raw.get("max_extensions"), f"{where}.max_extensions", minimum=0)
        counting = self.choice(raw.get("counting"), f"{where}.counting", Counting)
        if days is None or extension is None or most is None or counting is None:
            return None
        if (extension == 0) != (most == 0):
            self.fail(where, "extension_days and max_extensions must both be 0 or both above 0")
            return None
        return Preservation(
            days=days, extension_days=extension, max_extensions=most, counting=counting
        )

    def citations(self, value: Any, where: str) -> tuple[Citation, ...] | None:
        if not isinstance(value, list) or not value:
            self.fail(where, "must be a non-empty list: every type cites its source")
            return None
        found: list[Citation] = []
        for index, item in enumerate(value):
            at = f"{where}[{index}]"
            raw = self.mapping(item, at, required=_CITATION_KEYS)
            if raw is None:
                continue
            source = self.text(raw.get("source"), f"{at}.source")
            url = self.text(raw.get("url"), f"{at}.url")
            note = self.text(raw.get("note"), f"{at}.note")
            verified = self.flag(raw.get("verified"), f"{at}.verified")
            if url is not None and not url.startswith("https://"):
                self.fail(f"{at}.url", f"must be an https:// address, got {url!r}")
                url = None
            if source is None or url is None or note is None or verified is None:
                continue
            found.append(Citation(source=source, url=url, note=note, verified=verified))
        return tuple(found) if len(found) == len(value) else None

    def fields(self, value: Any, where: str) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(where, "must be a list of field names")
            return None
        unknown = [v for v in value if v not in FIELDS]
        if unknown:
            self.fail(where, f"unknown field(s) {_names(unknown)}; known: {_names(FIELDS)}")
            return None
        if len(set(value)) != len(value):
            self.fail(where, "names a field more than once")
            return None
        return tuple(value)

    def request_type(self, key: Any, value: Any) -> RequestType | None:
        where = f"types.{key}"
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            self.fail(where, "a type key must be snake_case letters, digits and _ (at most 64)")
            return None
        required = {k for k, needed in _TYPE_KEYS.items() if needed}
        raw = self.mapping(value, where, required=required, optional=set(_TYPE_KEYS) - required)
        if raw is None:
            return None
        before = len(self.problems)
        label = self.text(raw.get("label"), f"{where}.label")
        noun = self.text(raw.get("noun"), f"{where}.noun")
        alternative = (
            self.text(raw["alternative"], f"{where}.alternative") if "alternative" in raw else noun
        )
        kind = self.choice(raw.get("kind"), f"{where}.kind", Kind)
        jurisdiction = raw.get("jurisdiction")
        if not isinstance(jurisdiction, str) or not _JURISDICTION.fullmatch(jurisdiction):
            self.fail(f"{where}.jurisdiction", f"must be 2-4 capital letters, got {jurisdiction!r}")
        priority = raw.get("priority")
        if priority not in _PRIORITIES:
            self.fail(f"{where}.priority", f"{priority!r} is not one of {', '.join(_PRIORITIES)}")
        emergency = self.flag(raw.get("emergency"), f"{where}.emergency")
        fields = self.fields(raw.get("required_fields"), f"{where}.required_fields")
        clock = None if raw.get("clock") is None else self.clock(raw["clock"], f"{where}.clock")
        preservation = (
            None
            if raw.get("preservation") is None
            else self.preservation(raw["preservation"], f"{where}.preservation")
        )
        scope = self.choice(raw.get("scope"), f"{where}.scope", Scope)
        scope_basis = self.text(raw.get("scope_basis"), f"{where}.scope_basis")
        applies_from = raw.get("applies_from")
        if applies_from is not None and (
            not isinstance(applies_from, date) or isinstance(applies_from, datetime)
        ):
            self.fail(f"{where}.applies_from", f"must be a date (YYYY-MM-DD), got {applies_from!r}")
        citations = self.citations(raw.get("citations"), f"{where}.citations")
        both_null = raw.get("clock") is None and raw.get("preservation") is None
        if "clock" in raw and "preservation" in raw and both_null:
            self.fail(where, "needs a clock, a preservation, or both")
        if kind is Kind.PRESERVATION and "preservation" in raw and raw["preservation"] is None:
            self.fail(f"{where}.preservation", "a preservation type needs its hold")
        if kind is Kind.PRESERVATION and scope not in (None, Scope.NONE):
            self.fail(f"{where}.scope", "a preservation type discloses nothing: scope must be none")
        if emergency and priority != "P0":
            self.fail(f"{where}.priority", "an emergency type must be P0")
        if (
            len(self.problems) > before
            or label is None
            or noun is None
            or alternative is None
            or kind is None
            or emergency is None
            or fields is None
            or scope is None
            or scope_basis is None
            or citations is None
        ):
            return None
        return RequestType(
            key=key,
            label=label,
            kind=kind,
            jurisdiction=str(jurisdiction),
            priority=str(priority),
            emergency=emergency,
            required_fields=fields,
            clock=clock,
            preservation=preservation,
            scope=scope,
            citations=citations,
            noun=noun,
            alternative=alternative,
            scope_basis=scope_basis,
            applies_from=applies_from,
        )


def load_request_types(text: str | None = None) -> dict[str, RequestType]:
    """Parse and check a request-type file (the packaged default when `text` is None).

    Raises RequestTypeError listing every problem, each with where it is.
    """
    if text is None:
        text = _packaged_text()
    try:
        document = load_untrusted_yaml(text, max_bytes=MAX_BYTES)
    except YamlRefused as exc:
        raise RequestTypeError([f"{exc.field}: {exc.detail}"]) from None
    reader = _Reader()
    top = reader.mapping(document, "<file>", required={"version", "types"})
    if top is None:
        raise RequestTypeError(reader.problems)
    if "version" in top and top["version"] != 1:
        reader.fail("version", f"must be 1, got {top['version']!r}")
    raw_types = top.get("types")
    found: dict[str, RequestType] = {}
    if not isinstance(raw_types, dict) or not raw_types:
        if "types" in top:
            reader.fail("types", "must be a non-empty mapping of type key to type")
    else:
        for key, value in raw_types.items():
            parsed = reader.request_type(key, value)
            if parsed is not None:
                found[parsed.key] = parsed
    if reader.problems:
        raise RequestTypeError(reader.problems)
    return found


def _packaged_text() -> str:
    resource = importlib.resources.files("safeguard.lawenforcement") / "request_types.yaml"
    return resource.read_text(encoding="utf-8")


@cache
def default_request_types() -> Mapping[str, RequestType]:
    """The packaged request types, loaded once."""
    return MappingProxyType(load_request_types())


def request_type(key: str) -> RequestType:
    """The packaged request type `key`; UnknownRequestType (a RequestTypeError and a KeyError)
    naming the known keys if there is none."""
    types = default_request_types()
    try:
        return types[key]
    except KeyError:
        raise UnknownRequestType(
            [f"unknown request type {key!r}; known: {_names(types)}"]
        ) from None
