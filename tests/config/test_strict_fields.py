"""Every API input beyond intake: strict types, bounded numbers and lengths, and identifiers in
bodies, paths and query strings without control, format or bidi characters.

Each attack goes through the real URL; each asserts a JSON 422 naming the field (never a 500)
and that nothing was written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from safeguard.accounts.permissions import Role
from safeguard.cases.models import Queue
from safeguard.matching.models import Bank
from tests.conftest import ApiClient

Counts = Callable[[], dict[str, int]]
ZERO = "00000000-0000-0000-0000-000000000000"


def _call(client: ApiClient, method: str, url: str, body: Any = None) -> Any:
    data = b"" if body is None else json.dumps(body).encode()
    return Client().generic(
        method,
        url,
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {client.token}"},
    )


def _refused(response: Any, field: str, mentions: str) -> None:
    assert response.status_code == 422, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    errors = response.json()["errors"]
    assert any(e["field"] == field and mentions in e["message"] for e in errors), errors


@pytest.mark.parametrize(
    ("lease", "mentions"),
    [
        (1e20, "valid integer"),
        (10**30, "less than or equal to 7200"),
        (-1, "greater than or equal to 1"),
        (0, "greater than or equal to 1"),
        (7201, "less than or equal to 7200"),
        ("600", "valid integer"),
        (True, "valid integer"),
        (600.5, "valid integer"),
    ],
)
@pytest.mark.parametrize(
    "url", ["/api/v1/queues/general/next", f"/api/v1/cases/{ZERO}/claim/renew"]
)
def test_lease_seconds_is_a_bounded_whole_number(
    specialist_api: ApiClient, snapshot_counts: Counts, url: str, lease: Any, mentions: str
) -> None:
    before = snapshot_counts()

    response = _call(specialist_api, "POST", url, {"lease_seconds": lease})

    _refused(response, "lease_seconds", mentions)
    assert snapshot_counts() == before


@pytest.mark.parametrize(
    ("name", "mentions"),
    [
        ("gen%E2%80%AEeral", "pattern"),
        ("general%00", "pattern"),
        ("g%07", "pattern"),
        ("G%C3%A9n%C3%A9ral", "pattern"),
        ("a" * 65, "at most 64"),
    ],
)
def test_queue_names_in_paths_are_identifiers(
    api_for: Callable[[Role], ApiClient], snapshot_counts: Counts, name: str, mentions: str
) -> None:
    admin = api_for(Role.ADMIN)
    before, queues = snapshot_counts(), Queue.objects.count()

    response = _call(admin, "PUT", f"/api/v1/queues/{name}", {"roles": ["specialist"]})

    _refused(response, "name", mentions)
    assert snapshot_counts() == before
    assert Queue.objects.count() == queues


@pytest.mark.parametrize(
    ("body", "field", "mentions"),
    [
        ({"roles": "specialist"}, "roles", "valid list"),
        ({"roles": ["specialist"], "lead": "alice\u202e"}, "lead", "U+202E"),
        ({"roles": ["specialist"], "lead": "alice\x00"}, "lead", "U+0000"),
        ({"roles": ["specialist"], "description": "x\x00"}, "description", "NUL"),
        ({"roles": ["specialist"], "description": "x" * 301}, "description", "at most 300"),
        ({"roles": ["specialist"], "colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_queue_bodies_are_strict(
    api_for: Callable[[Role], ApiClient],
    snapshot_counts: Counts,
    body: dict[str, Any],
    field: str,
    mentions: str,
) -> None:
    admin = api_for(Role.ADMIN)
    before = snapshot_counts()

    _refused(_call(admin, "PUT", "/api/v1/queues/new-queue", body), field, mentions)
    assert snapshot_counts() == before
    assert not Queue.objects.filter(name="new-queue").exists()


@pytest.mark.parametrize(
    ("url", "body", "field", "mentions"),
    [
        (
            f"/api/v1/cases/{ZERO}/reassign",
            {"to_user": "bob\x00", "reason": "r"},
            "to_user",
            "U+0000",
        ),
        (
            f"/api/v1/cases/{ZERO}/reassign",
            {"to_queue": "q\u2066", "reason": "r"},
            "to_queue",
            "pattern",
        ),
        (f"/api/v1/cases/{ZERO}/reassign", {"reason": 5}, "reason", "valid string"),
        (f"/api/v1/cases/{ZERO}/priority", {"priority": "P0", "reason": "\x00"}, "reason", "NUL"),
        (
            f"/api/v1/cases/{ZERO}/priority",
            {"priority": 0, "reason": "r"},
            "priority",
            "Input should be",
        ),
        (f"/api/v1/cases/{ZERO}/decision", {"reason": "x" * 10_001}, "reason", "at most 10000"),
        (
            f"/api/v1/cases/{ZERO}/decision",
            {"reason": "r", "item_labels": {"id\u202e": "A1"}},
            "item_labels.id\u202e.[key]",
            "U+202E",
        ),
        (
            f"/api/v1/cases/{ZERO}/decision",
            {"reason": "r", "labels": ["grooming"] * 1000},
            "labels",
            "at most",
        ),
        (f"/api/v1/cases/{ZERO}/escalate", {"note": "n\x00"}, "note", "NUL"),
    ],
)
def test_case_work_bodies_are_strict(
    api_for: Callable[[Role], ApiClient],
    snapshot_counts: Counts,
    url: str,
    body: dict[str, Any],
    field: str,
    mentions: str,
) -> None:
    lead = api_for(Role.LEAD)
    before = snapshot_counts()

    _refused(_call(lead, "POST", url, body), field, mentions)
    assert snapshot_counts() == before


MD5 = "0" * 32


@pytest.mark.parametrize(
    ("body", "field", "mentions"),
    [
        ({"hashes": [{"signal_type": "md5", "hash": "a" * 1_000_000}]}, "hashes.0.hash", "at most"),
        ({"hashes": [{"signal_type": "md5", "hash": "a" * 200}]}, "hashes.0.hash", "at most 128"),
        ({"hashes": [{"signal_type": "pdq", "hash": "é" * 64}]}, "hashes.0.hash", "ASCII"),
        ({"hashes": [{"signal_type": "md5", "hash": MD5 + "\x00"}]}, "hashes.0.hash", "U+0000"),
        (
            {"hashes": [{"signal_type": "md5", "hash": MD5, "quality": "50"}]},
            "hashes.0.quality",
            "valid integer",
        ),
        (
            {"hashes": [{"signal_type": "md5", "hash": MD5, "quality": 10**30}]},
            "hashes.0.quality",
            "less than",
        ),
        ({"hashes": [{"signal_type": "md5", "hash": 12345}]}, "hashes.0.hash", "valid string"),
        ({"hashes": [{"signal_type": "md5", "hash": MD5}] * 1001}, "hashes", "at most 1000"),
        (
            {"hashes": [{"signal_type": "md5", "hash": MD5}], "banks": ["b\u202e"]},
            "banks.0",
            "pattern",
        ),
        ({"hashes": [{"signal_type": "md5", "hash": MD5}], "extra": 1}, "extra", "Extra inputs"),
    ],
)
def test_match_requests_are_strict_and_bounded(
    specialist_api: ApiClient,
    snapshot_counts: Counts,
    body: dict[str, Any],
    field: str,
    mentions: str,
) -> None:
    before = snapshot_counts()

    _refused(_call(specialist_api, "POST", "/api/v1/match", body), field, mentions)
    assert snapshot_counts() == before


@pytest.mark.parametrize(
    ("method", "url", "body", "field", "mentions"),
    [
        ("POST", "/api/v1/banks", {"name": "bank\u202e"}, "name", "pattern"),
        ("POST", "/api/v1/banks", {"name": "bank", "verified": "yes"}, "verified", "valid boolean"),
        (
            "POST",
            "/api/v1/banks",
            {"name": "bank", "thresholds": {"pdq": "5"}},
            "thresholds.pdq",
            "valid integer",
        ),
        (
            "POST",
            "/api/v1/banks",
            {"name": "bank", "thresholds": {"pdq": 10**30}},
            "thresholds.pdq",
            "less than",
        ),
        ("POST", "/api/v1/banks", {"name": "bank", "description": "\x00"}, "description", "NUL"),
        ("POST", "/api/v1/banks/bank%00/enabled", {"enabled": False}, "name", "pattern"),
        ("POST", "/api/v1/banks/bank/enabled", {"enabled": "false"}, "enabled", "valid boolean"),
        (
            "POST",
            "/api/v1/banks/bank/entries/99999999999999999999999/enabled",
            {"enabled": True},
            "entry_id",
            "less than",
        ),
        (
            "POST",
            "/api/v1/banks/bank/import",
            {"format": "text", "content": "x\x00"},
            "content",
            "NUL",
        ),
        ("GET", "/api/v1/banks/bank%E2%80%AE/export", None, "name", "pattern"),
        ("PUT", "/api/v1/triage/policy", {"source": 12}, "source", "valid string"),
        ("PUT", "/api/v1/triage/policy", {"source": "version: x\x00"}, "source", "NUL"),
    ],
)
def test_admin_bodies_and_paths_are_strict(
    api_for: Callable[[Role], ApiClient],
    snapshot_counts: Counts,
    method: str,
    url: str,
    body: Any,
    field: str,
    mentions: str,
) -> None:
    admin = api_for(Role.ADMIN)
    before, banks = snapshot_counts(), Bank.objects.count()

    _refused(_call(admin, method, url, body), field, mentions)
    assert snapshot_counts() == before
    assert Bank.objects.count() == banks


@pytest.mark.parametrize(
    ("query", "field", "mentions"),
    [
        ({"target_id": "case\u202e"}, "target_id", "U+202E"),
        ({"target_type": "case\x00"}, "target_type", "U+0000"),
        ({"target_id": "x" * 201}, "target_id", "at most 200"),
        ({"after_id": "99999999999999999999999"}, "after_id", "less than"),
        ({"limit": "100000"}, "limit", "less than"),
    ],
)
def test_audit_query_strings_are_bounded(
    api_for: Callable[[Role], ApiClient], query: dict[str, str], field: str, mentions: str
) -> None:
    auditor = api_for(Role.AUDITOR)

    response = Client().get(
        "/api/v1/audit/events", query, headers={"Authorization": f"Bearer {auditor.token}"}
    )

    _refused(response, field, mentions)


def test_query_strings_still_convert_their_text(api_for: Callable[[Role], ApiClient]) -> None:
    auditor = api_for(Role.AUDITOR)

    response = Client().get(
        "/api/v1/audit/events", {"limit": "5"}, headers={"Authorization": f"Bearer {auditor.token}"}
    )

    assert response.status_code == 200
