"""Request types as data: each packaged type's clock, hold and scope, the refusals that name
their rule, and the loader's precise refusals of a bad file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.lawenforcement.clocks import Counting, Unit, due_at
from safeguard.lawenforcement.request_types import (
    FIELDS,
    SCOPE_LADDER,
    DataCategory,
    Kind,
    RequestTypeError,
    Scope,
    UnknownRequestType,
    default_request_types,
    hold_ends_at,
    load_request_types,
    request_type,
    scope_allows,
    scope_refusal,
)

DUBLIN = ZoneInfo("Europe/Dublin")
NEW_YORK = ZoneInfo("America/New_York")

# key -> (amount, unit, counting, policy_choice), written out from the law and the brief.
EXPECTED_CLOCKS = {
    "us_emergency_disclosure": (1, Unit.HOURS, Counting.ELAPSED, True),
    "eu_emergency_production_order": (8, Unit.HOURS, Counting.EU_1182_71, False),
    "eu_production_order": (10, Unit.DAYS, Counting.EU_1182_71, False),
    "eu_preservation_order": (24, Unit.HOURS, Counting.ELAPSED, True),
    "us_preservation": (24, Unit.HOURS, Counting.ELAPSED, True),
    "us_subpoena": (14, Unit.DAYS, Counting.ELAPSED, True),
    "us_court_order_2703d": (14, Unit.DAYS, Counting.ELAPSED, True),
    "us_search_warrant": (10, Unit.DAYS, Counting.ELAPSED, True),
    "mlat_order": (14, Unit.DAYS, Counting.ELAPSED, True),
    "mlat_warrant": (10, Unit.DAYS, Counting.ELAPSED, True),
    "gb_overseas_production_order": (7, Unit.DAYS, Counting.ELAPSED, True),
    "ca_production_order": (14, Unit.DAYS, Counting.ELAPSED, True),
    "ca_transmission_data_order": (14, Unit.DAYS, Counting.ELAPSED, True),
}

EXPECTED_SCOPES = {
    "us_emergency_disclosure": Scope.CONTENT,
    "eu_emergency_production_order": Scope.CONTENT,
    "eu_production_order": Scope.CONTENT,
    "eu_preservation_order": Scope.NONE,
    "us_preservation": Scope.NONE,
    "us_subpoena": Scope.BASIC_SUBSCRIBER,
    "us_court_order_2703d": Scope.NON_CONTENT,
    "us_search_warrant": Scope.CONTENT,
    "mlat_order": Scope.NON_CONTENT,
    "mlat_warrant": Scope.CONTENT,
    "gb_overseas_production_order": Scope.CONTENT,
    "ca_production_order": Scope.CONTENT,
    "ca_transmission_data_order": Scope.NON_CONTENT,
}


def test_the_packaged_types_are_exactly_the_expected_set() -> None:
    assert set(default_request_types()) == set(EXPECTED_CLOCKS)


@pytest.mark.parametrize("key", sorted(EXPECTED_CLOCKS))
def test_each_type_has_its_clock(key: str) -> None:
    clock = request_type(key).clock
    assert clock is not None
    assert (clock.amount, clock.unit, clock.counting, clock.policy_choice) == EXPECTED_CLOCKS[key]
    assert clock.note


@pytest.mark.parametrize("key", sorted(EXPECTED_SCOPES))
def test_each_type_has_its_scope_and_a_citation(key: str) -> None:
    t = request_type(key)
    assert t.scope is EXPECTED_SCOPES[key]
    assert t.citations
    assert all(c.url.startswith("https://") for c in t.citations)
    assert set(t.required_fields) <= set(FIELDS)


def test_emergency_types_are_p0_and_marked() -> None:
    emergencies = {k for k, t in default_request_types().items() if t.emergency}
    assert emergencies == {"us_emergency_disclosure", "eu_emergency_production_order"}
    assert {request_type(k).priority for k in emergencies} == {"P0"}
    assert "danger" in request_type("us_emergency_disclosure").required_fields


def test_eu_types_apply_from_18_august_2026() -> None:
    for key in ("eu_production_order", "eu_emergency_production_order", "eu_preservation_order"):
        assert request_type(key).applies_from == date(2026, 8, 18)
    assert request_type("us_subpoena").applies_from is None


def test_subpoena_requires_its_return_date() -> None:
    assert "return_date" in request_type("us_subpoena").required_fields


def test_preservation_holds() -> None:
    us = request_type("us_preservation").preservation
    eu = request_type("eu_preservation_order").preservation
    assert us is not None
    assert eu is not None
    assert (us.days, us.extension_days, us.max_extensions, us.counting) == (
        90,
        90,
        1,
        Counting.ELAPSED,
    )
    assert (eu.days, eu.extension_days, eu.max_extensions, eu.counting) == (
        60,
        30,
        1,
        Counting.EU_1182_71,
    )
    assert request_type("us_preservation").kind is Kind.PRESERVATION


def test_us_preservation_hold_is_90_days_then_180_with_its_one_extension() -> None:
    # Received Monday 2 March 2026, 15:00 EST. +90 calendar days = Sunday 31 May 15:00 EDT
    # (19:00 UTC); +180 = 29 August (31 May + 30 = 30 June, + 30 = 30 July, + 30 = 29 August),
    # 15:00 EDT = 19:00 UTC.
    hold = request_type("us_preservation").preservation
    assert hold is not None
    received = datetime(2026, 3, 2, 15, 0, tzinfo=NEW_YORK)
    zone = "America/New_York"
    assert hold_ends_at(received, hold, extensions=0, zone=zone, holiday_country="US") == (
        datetime(2026, 5, 31, 19, 0, tzinfo=UTC)
    )
    assert hold_ends_at(received, hold, extensions=1, zone=zone, holiday_country="US") == (
        datetime(2026, 8, 29, 19, 0, tzinfo=UTC)
    )
    with pytest.raises(RequestTypeError, match="at most 1 time"):
        hold_ends_at(received, hold, extensions=2, zone=zone, holiday_country="US")


def test_eu_preservation_hold_60_days_then_30_more_off_holidays() -> None:
    # Received Monday 2 November 2026 in Dublin. +60 days: to 2 December is 30, to 1 January 2027
    # is 60. 1 January 2027 (a Friday) is New Year's Day: the next working day is Monday 4
    # January, ending 00:00 GMT on the 5th. With the extension, +90 is Sunday 31 January; Monday
    # 1 February 2027 is St Brigid's Day, so Tuesday 2 February, ending 00:00 GMT on the 3rd.
    hold = request_type("eu_preservation_order").preservation
    assert hold is not None
    received = datetime(2026, 11, 2, 10, 0, tzinfo=DUBLIN)
    zone = "Europe/Dublin"
    assert hold_ends_at(received, hold, extensions=0, zone=zone, holiday_country="IE") == (
        datetime(2027, 1, 5, 0, 0, tzinfo=UTC)
    )
    assert hold_ends_at(received, hold, extensions=1, zone=zone, holiday_country="IE") == (
        datetime(2027, 2, 3, 0, 0, tzinfo=UTC)
    )
    # Weekends only: Friday 1 January is a working day, so 00:00 on 2 January.
    assert hold_ends_at(received, hold, extensions=0, zone=zone, holiday_country=None) == (
        datetime(2027, 1, 2, 0, 0, tzinfo=UTC)
    )


def test_eu_production_order_clock_through_the_packaged_type() -> None:
    # Received Wednesday 18 November 2026; day 10 is Saturday 28 November; ends at the expiry of
    # Monday 30 November = 00:00 GMT 1 December.
    clock = request_type("eu_production_order").clock
    assert clock is not None
    received = datetime(2026, 11, 18, 12, 0, tzinfo=DUBLIN)
    assert due_at(received, clock, zone="Europe/Dublin", holiday_country="IE") == datetime(
        2026, 12, 1, 0, 0, tzinfo=UTC
    )


# --- The scope ladder -------------------------------------------------------------------------


def test_the_ladder_order() -> None:
    assert SCOPE_LADDER == (Scope.NONE, Scope.BASIC_SUBSCRIBER, Scope.NON_CONTENT, Scope.CONTENT)


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [
        (Scope.NONE, set()),
        (Scope.BASIC_SUBSCRIBER, {DataCategory.SUBSCRIBER}),
        (Scope.NON_CONTENT, {DataCategory.SUBSCRIBER, DataCategory.RECORDS}),
        (Scope.CONTENT, set(DataCategory)),
    ],
)
def test_scope_allows(scope: Scope, allowed: set[DataCategory]) -> None:
    assert {c for c in DataCategory if scope_allows(scope, c)} == allowed


def test_a_subpoena_is_refused_content_naming_the_rule() -> None:
    refusal = scope_refusal(request_type("us_subpoena"), DataCategory.CONTENT)
    assert refusal == (
        "a subpoena gets basic subscriber information only (18 U.S.C. §2703(c)(2)); "
        "content needs a search warrant or an emergency determination (18 U.S.C. §2702(b)(8))"
    )


def test_a_subpoena_is_refused_records() -> None:
    refusal = scope_refusal(request_type("us_subpoena"), DataCategory.RECORDS)
    assert refusal is not None
    assert refusal.startswith("a subpoena gets basic subscriber information only")
    assert "non-content records need a §2703(d) court order" in refusal


def test_a_2703d_order_gets_records_but_not_content() -> None:
    order = request_type("us_court_order_2703d")
    assert scope_refusal(order, DataCategory.RECORDS) is None
    assert scope_refusal(order, DataCategory.SUBSCRIBER) is None
    refusal = scope_refusal(order, DataCategory.CONTENT)
    assert refusal is not None
    assert "(18 U.S.C. §2703(c)(1)(B), (d))" in refusal
    assert refusal.endswith(
        "content needs a search warrant or an emergency determination (18 U.S.C. §2702(b)(8))"
    )


def test_a_warrant_and_an_emergency_get_content() -> None:
    for key in ("us_search_warrant", "us_emergency_disclosure", "eu_emergency_production_order"):
        assert scope_refusal(request_type(key), DataCategory.CONTENT) is None


def test_a_preservation_request_discloses_nothing() -> None:
    for category in DataCategory:
        refusal = scope_refusal(request_type("us_preservation"), category)
        assert refusal is not None
        assert refusal.startswith(
            "a preservation request gets nothing: it preserves data, it does not disclose it "
            "(18 U.S.C. §2703(f))"
        )
    eu = scope_refusal(request_type("eu_preservation_order"), DataCategory.SUBSCRIBER)
    assert eu is not None
    assert "(Regulation (EU) 2023/1543, Art. 11(1))" in eu
    assert "needs a European Production Order" in eu


def test_other_jurisdictions_map_onto_the_same_ladder() -> None:
    transmission = request_type("ca_transmission_data_order")
    refusal = scope_refusal(transmission, DataCategory.CONTENT)
    assert refusal is not None
    assert "s.487.016" in refusal
    assert refusal.endswith("content needs a Canadian general production order")
    assert scope_refusal(request_type("mlat_warrant"), DataCategory.CONTENT) is None
    mlat = scope_refusal(request_type("mlat_order"), DataCategory.CONTENT)
    assert mlat is not None
    assert "§3512" in mlat


def test_a_refusal_with_no_route_in_the_catalogue_says_other_process() -> None:
    only = {"us_subpoena": request_type("us_subpoena")}
    refusal = scope_refusal(request_type("us_subpoena"), DataCategory.CONTENT, catalogue=only)
    assert refusal is not None
    assert refusal.endswith("content needs other legal process")


def test_unknown_key_lists_the_known_keys() -> None:
    with pytest.raises(UnknownRequestType) as caught:
        request_type("us_letter_of_request")
    message = str(caught.value)
    assert message.startswith("unknown request type 'us_letter_of_request'; known: ")
    assert "us_subpoena" in message
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, ValueError)


# --- The loader's refusals --------------------------------------------------------------------

GOOD_TYPE = """\
version: 1
types:
  xx_order:
    label: Test order (fictional)
    noun: a test order
    kind: court_order
    jurisdiction: XX
    priority: P2
    emergency: false
    required_fields: [named_accounts]
    clock: {amount: 5, unit: days, counting: elapsed, policy_choice: true, note: a target}
    preservation: null
    scope: non_content
    scope_basis: Test Act s.1
    citations:
      - {source: Test Act s.1, url: "https://example.org/act", note: a note, verified: false}
"""


def _with(old: str, new: str) -> str:
    assert old in GOOD_TYPE
    return GOOD_TYPE.replace(old, new)


def _problems(text: str) -> tuple[str, ...]:
    with pytest.raises(RequestTypeError) as caught:
        load_request_types(text)
    return caught.value.problems


def test_a_good_file_loads() -> None:
    types = load_request_types(GOOD_TYPE)
    t = types["xx_order"]
    assert t.alternative == "a test order"  # defaults to the noun
    assert t.clock is not None
    assert t.clock.amount == 5
    assert t.citations[0].verified is False


def test_unknown_key_is_refused() -> None:
    text = _with("    scope: non_content\n", "    scope: non_content\n    scopes: content\n")
    assert _problems(text) == (
        "types.xx_order: unknown key(s) scopes; allowed: alternative, applies_from, citations, "
        "clock, emergency, jurisdiction, kind, label, noun, preservation, priority, "
        "required_fields, scope, scope_basis",
    )


def test_bad_enums_are_refused_with_the_choices() -> None:
    text = _with("kind: court_order", "kind: letter").replace("unit: days", "unit: weeks")
    assert _problems(text) == (
        "types.xx_order.kind: 'letter' is not one of court_order, emergency_disclosure, mlat, "
        "preservation, production_order, search_warrant, subpoena",
        "types.xx_order.clock.unit: 'weeks' is not one of days, hours",
    )


def test_missing_citations_are_refused() -> None:
    text = GOOD_TYPE.split("    citations:\n")[0] + "    citations: []\n"
    assert _problems(text) == (
        "types.xx_order.citations: must be a non-empty list: every type cites its source",
    )


def test_a_required_field_not_in_fields_is_refused() -> None:
    text = _with("[named_accounts]", "[named_accounts, shoe_size]")
    (problem,) = _problems(text)
    assert problem.startswith("types.xx_order.required_fields: unknown field(s) shoe_size; known: ")


def test_missing_keys_and_a_bad_citation_are_all_reported() -> None:
    text = _with("    noun: a test order\n", "").replace('"https://example.org/act"', "http://x")
    assert _problems(text) == (
        "types.xx_order: missing key(s) noun",
        "types.xx_order.noun: must be a non-empty string",
        "types.xx_order.citations[0].url: must be an https:// address, got 'http://x'",
    )


def test_an_emergency_type_must_be_p0() -> None:
    text = _with("emergency: false", "emergency: true")
    assert _problems(text) == ("types.xx_order.priority: an emergency type must be P0",)


def test_a_number_must_be_a_whole_number() -> None:
    text = _with("amount: 5", "amount: true")
    assert _problems(text) == (
        "types.xx_order.clock.amount: must be a whole number of at least 1, got True",
    )


def test_a_preservation_type_needs_its_hold_and_discloses_nothing() -> None:
    text = _with("kind: court_order", "kind: preservation")
    assert _problems(text) == (
        "types.xx_order.preservation: a preservation type needs its hold",
        "types.xx_order.scope: a preservation type discloses nothing: scope must be none",
    )


def test_a_type_needs_a_clock_or_a_hold() -> None:
    (clock_line,) = [line for line in GOOD_TYPE.splitlines(True) if line.startswith("    clock:")]
    text = _with(clock_line, "    clock: null\n")
    assert _problems(text) == ("types.xx_order: needs a clock, a preservation, or both",)


def test_duplicate_keys_are_refused_with_the_line() -> None:
    text = _with("    priority: P2\n", "    priority: P2\n    priority: P1\n")
    (problem,) = _problems(text)
    assert problem == "line 9: duplicate key 'priority' (column 5)"


def test_a_wrong_version_and_a_non_mapping_are_refused() -> None:
    assert _problems(_with("version: 1", "version: 2")) == ("version: must be 1, got 2",)
    assert _problems("- a\n- b\n") == ("<file>: must be a mapping, got list",)
    assert _problems("") == ("<file>: must be a mapping, got NoneType",)


def test_an_applies_from_that_is_not_a_date_is_refused() -> None:
    text = _with("    scope: non_content\n", "    scope: non_content\n    applies_from: soon\n")
    assert _problems(text) == (
        "types.xx_order.applies_from: must be a date (YYYY-MM-DD), got 'soon'",
    )


def test_the_packaged_file_loads_as_given_text() -> None:
    # The same text through the public loader, not the cache: it ships inside the package.
    text = (files("safeguard.lawenforcement") / "request_types.yaml").read_text(encoding="utf-8")
    assert set(load_request_types(text)) == set(EXPECTED_CLOCKS)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_the_loader_never_fails_with_anything_but_request_type_error(text: str) -> None:
    # Arbitrary text either loads or is refused with at least one located problem.
    problems: tuple[str, ...] = ()
    try:
        load_request_types(text)
    except RequestTypeError as exc:
        problems = exc.problems
        assert problems, "a refusal must say what is wrong"
    assert all(": " in p for p in problems)
