"""Intake takes exactly what its contract says: strict types, sane dates, identifiers without
invisible or reordering characters, and free text kept exactly as sent (but never NUL).

Each attack goes through POST /api/v1/escalations and asserts the status, the JSON message
naming the field, and that nothing was stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.accounts.permissions import Role
from safeguard.evidence.models import ContentItem
from safeguard.intake.models import Escalation, Subject
from tests.conftest import ApiClient, escalation_body

URL = "/api/v1/escalations"
LE_BLOCK = {
    "agency": "Example Police (fictional)",
    "country": "US",
    "request_type": "emergency_disclosure",
    "contact": "desk@police.example",
}
Counts = Callable[[], dict[str, int]]


def _victim(**changes: Any) -> dict[str, Any]:
    return {"subjects": [{"platform_id": "user:v1", "role": "victim", **changes}]}


def _thread(**changes: Any) -> dict[str, Any]:
    return {"content": [{"platform_id": "thread:1", "kind": "message_thread", **changes}]}


def _refused(response: Any, field: str, mentions: str) -> None:
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/json")
    errors = response.json()["errors"]
    assert errors[0]["field"] == field, errors
    assert mentions in errors[0]["message"], errors


STRICT_TYPES = [
    ("occurred_at as a number", {"occurred_at": 1}, "occurred_at", "ISO-8601"),
    ("occurred_at as a float", {"occurred_at": 1.7e9}, "occurred_at", "ISO-8601"),
    ("occurred_at as a boolean", {"occurred_at": True}, "occurred_at", "ISO-8601"),
    ("occurred_at a number string", {"occurred_at": "1"}, "occurred_at", "ISO-8601"),
    ("occurred_at year 1", {"occurred_at": "0001-01-01T00:00:00Z"}, "occurred_at", "between"),
    ("occurred_at year 9999", {"occurred_at": "9999-12-31T00:00:00Z"}, "occurred_at", "between"),
    ("occurred_at 1969", {"occurred_at": "1969-12-31T23:59:59Z"}, "occurred_at", "between"),
    ("occurred_at a date", {"occurred_at": "2026-01-01"}, "occurred_at", "time zone"),
    ("occurred_at naive", {"occurred_at": "2026-01-01T10:00:00"}, "occurred_at", "time zone"),
    ("age as a string", _victim(age="12"), "subjects.0.age", "valid integer"),
    ("age as true", _victim(age=True), "subjects.0.age", "valid integer"),
    ("age as a float", _victim(age=12.0), "subjects.0.age", "valid integer"),
    ("age too large", _victim(age=10**30), "subjects.0.age", "less than or equal to 130"),
    ("live as 'yes'", _thread(live="yes"), "content.0.live", "valid boolean"),
    ("live as 1", _thread(live=1), "content.0.live", "valid boolean"),
    ("summary as a number", {"summary": 12}, "summary", "valid string"),
    ("external_id as a number", {"external_id": 12}, "external_id", "valid string"),
    ("platform_id as a list", _victim(platform_id=["u"]), "subjects.0.platform_id", "string"),
    ("text as an object", _thread(text={"a": 1}), "content.0.text", "valid string"),
    ("channel as a number", {"channel": 1}, "channel", "Input should be"),
    ("country full width", _victim(country="\uff27\uff22"), "subjects.0.country", "ISO-3166"),
    ("country eszett", _victim(country="ß"), "subjects.0.country", "ISO-3166"),
]


@pytest.mark.parametrize(("name", "change", "field", "mentions"), STRICT_TYPES)
def test_types_are_not_coerced(
    service_api: ApiClient,
    snapshot_counts: Counts,
    name: str,
    change: dict[str, Any],
    field: str,
    mentions: str,
) -> None:
    before = snapshot_counts()

    response = service_api.post(URL, escalation_body(**change))

    _refused(response, field, mentions)
    assert snapshot_counts() == before


def test_a_recent_aware_occurred_at_is_accepted(service_api: ApiClient) -> None:
    when = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    offset = when.astimezone(timezone.get_fixed_timezone(120)).isoformat()

    response = service_api.post(URL, escalation_body(occurred_at=offset))

    assert response.status_code == 201, response.content
    assert Escalation.objects.get().occurred_at == when


def test_an_occurred_at_more_than_a_day_ahead_is_refused(
    service_api: ApiClient, snapshot_counts: Counts
) -> None:
    before = snapshot_counts()
    ahead = (timezone.now() + timedelta(days=2)).isoformat()

    _refused(service_api.post(URL, escalation_body(occurred_at=ahead)), "occurred_at", "between")
    assert snapshot_counts() == before


INVISIBLE = {
    "NUL": "\x00",
    "BEL": "\x07",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "C1 NEXT LINE": "\x85",
    "RIGHT-TO-LEFT OVERRIDE": "\u202e",
    "LEFT-TO-RIGHT EMBEDDING": "\u202a",
    "RIGHT-TO-LEFT ISOLATE": "\u2067",
    "POP DIRECTIONAL ISOLATE": "\u2069",
    "RIGHT-TO-LEFT MARK": "\u200f",
    "ARABIC LETTER MARK": "\u061c",
    "ZERO WIDTH SPACE": "\u200b",
    "ZERO WIDTH JOINER": "\u200d",
    "BYTE ORDER MARK": "\ufeff",
    "LINE SEPARATOR": "\u2028",
    "TAG LATIN SMALL LETTER A": "\U000e0061",
}
IDENTIFIER_FIELDS: list[tuple[str, Callable[[str], dict[str, Any]], str]] = [
    ("subject platform_id", lambda v: _victim(platform_id=v), "subjects.0.platform_id"),
    ("content platform_id", lambda v: _thread(platform_id=v), "content.0.platform_id"),
    ("external_id", lambda v: {"external_id": v}, "external_id"),
    (
        "agency",
        lambda v: {"channel": "law_enforcement", "law_enforcement": {**LE_BLOCK, "agency": v}},
        "law_enforcement.agency",
    ),
    (
        "contact",
        lambda v: {"channel": "law_enforcement", "law_enforcement": {**LE_BLOCK, "contact": v}},
        "law_enforcement.contact",
    ),
]


@pytest.mark.parametrize(("char_name", "char"), INVISIBLE.items())
@pytest.mark.parametrize(("_name", "build", "field"), IDENTIFIER_FIELDS)
def test_identifiers_refuse_control_format_and_bidi_characters(
    service_api: ApiClient,
    snapshot_counts: Counts,
    char_name: str,
    char: str,
    _name: str,
    build: Callable[[str], dict[str, Any]],
    field: str,
) -> None:
    before = snapshot_counts()

    response = service_api.post(URL, escalation_body(**build(f"user:{char}evil")))

    _refused(response, field, f"U+{ord(char):04X}")
    assert "identifiers may not hold" in response.json()["errors"][0]["message"]
    assert snapshot_counts() == before


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    char=st.characters(categories=["Cc", "Cf", "Zl", "Zp"]),
    # Around the character, since surrounding whitespace is stripped (and so never stored).
    prefix=st.text(alphabet="abc:1-_", min_size=1, max_size=20),
    suffix=st.text(alphabet="abc:1-_", min_size=1, max_size=20),
)
def test_any_invisible_character_anywhere_in_a_platform_id_is_refused(
    service_api: ApiClient, snapshot_counts: Counts, char: str, prefix: str, suffix: str
) -> None:
    before = snapshot_counts()

    response = service_api.post(URL, escalation_body(**_victim(platform_id=prefix + char + suffix)))

    _refused(response, "subjects.0.platform_id", f"U+{ord(char):04X}")
    assert snapshot_counts() == before


SNEAKY = "Meet me \u202eyadot\u202c at the park, \u200bdon't tell\u2066 anyone\u2069 \x07"


def test_bidi_and_control_characters_in_free_text_are_kept_exactly(
    service_api: ApiClient, specialist_api: ApiClient
) -> None:
    body = escalation_body(summary=SNEAKY, **_thread(text=SNEAKY))

    response = service_api.post(URL, body)

    assert response.status_code == 201, response.content
    escalation = Escalation.objects.get(pk=response.json()["id"])
    assert escalation.summary == SNEAKY
    assert escalation.payload["summary"] == SNEAKY
    assert ContentItem.objects.get(platform_id="thread:1").text == SNEAKY
    read_back = specialist_api.get(f"{URL}/{escalation.pk}").json()
    assert read_back["summary"] == SNEAKY
    assert read_back["content"][0]["text"] == SNEAKY


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"summary": "before\x00after"}, "summary"),
        (_thread(text="\x00"), "content.0.text"),
    ],
)
def test_nul_in_free_text_is_refused_and_says_why(
    service_api: ApiClient, snapshot_counts: Counts, change: dict[str, Any], field: str
) -> None:
    before = snapshot_counts()

    response = service_api.post(URL, escalation_body(**change))

    _refused(response, field, "NUL cannot be stored")
    assert snapshot_counts() == before


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "mentions"),
    [
        (json.dumps(escalation_body()), "text/plain", 415, "application/json"),
        ("<escalation><channel>user_report</channel></escalation>", "application/xml", 415, "json"),
        (
            '{"channel": "user_report", "channel": "hotline", "external_id": "e", '
            '"category": "grooming", "summary": "s"}',
            "application/json",
            400,
            "duplicate key 'channel'",
        ),
        (
            json.dumps(escalation_body()).replace(
                '"role": "suspect"', '"role": "suspect", "role": "victim"'
            ),
            "application/json",
            400,
            "duplicate key 'role'",
        ),
    ],
)
def test_the_body_must_be_json_without_repeated_keys(
    service_api: ApiClient,
    snapshot_counts: Counts,
    raw: str,
    content_type: str,
    status: int,
    mentions: str,
) -> None:
    before = snapshot_counts()

    response = Client().post(
        URL,
        data=raw,
        content_type=content_type,
        headers={"Authorization": f"Bearer {service_api.token}"},
    )

    assert response.status_code == status, response.content
    assert mentions in response.json()["detail"]
    assert snapshot_counts() == before


def test_the_triage_explanation_takes_the_same_strict_contract(api_for: Callable[..., Any]) -> None:
    lead = api_for(Role.LEAD)
    before = Subject.objects.count()

    response = lead.post("/api/v1/triage/explain", escalation_body(**_victim(age="12")))

    _refused(response, "subjects.0.age", "valid integer")
    assert Subject.objects.count() == before
