"""What the API fuzzing (test_api_fuzz.py) found, each pinned through the real URL: the bodies of
the read-grant endpoints were plain schemas, so a NUL reached the database (a 500 on
PostgreSQL, a stored NUL on SQLite) and invisible characters reached the lookups."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.audit.models import AuditEvent
from safeguard.cases.models import ReadGrant
from tests.conftest import ApiClient


@pytest.fixture
def lead_and_auditor(api_for: Any) -> tuple[ApiClient, ApiClient]:
    return api_for(Role.LEAD), api_for(Role.AUDITOR)


def _grant(auditor: ApiClient, **overrides: Any) -> dict[str, Any]:
    body = {
        "grantee": auditor.user.username,
        "queue": "general",
        "reason": "quality review",
        "expires_at": (timezone.now() + timedelta(days=7)).isoformat(),
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    "overrides",
    [
        {"reason": "quality\x00review"},
        {"queue": "gen\x00eral"},
        {"grantee": "someone\x00"},
        {"grantee": "some\u202eone"},  # a bidirectional override hides what the name says
        {"expires_at": 1767225600},  # a number is not a time
        {"case_id": 7},
        {"reason": "r", "scope": "everything"},  # an unknown field is refused, not ignored
    ],
)
def test_a_grant_with_a_bad_field_is_refused_and_stores_nothing(
    lead_and_auditor: tuple[ApiClient, ApiClient], overrides: dict[str, Any]
) -> None:
    lead, auditor = lead_and_auditor
    events = AuditEvent.objects.count()

    response = lead.post("/api/v1/grants", _grant(auditor, **overrides))

    assert response.status_code == 422, response.content
    field = next(iter(overrides)) if "scope" not in overrides else "scope"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not ReadGrant.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_revocation_reason_with_a_nul_is_refused_and_the_grant_stays(
    lead_and_auditor: tuple[ApiClient, ApiClient],
) -> None:
    lead, auditor = lead_and_auditor
    created = lead.post("/api/v1/grants", _grant(auditor))
    assert created.status_code == 201, created.content
    events = AuditEvent.objects.count()

    response = lead.post(f"/api/v1/grants/{created.json()['id']}/revoke", {"reason": "done\x00"})

    assert response.status_code == 422, response.content
    assert ReadGrant.objects.get().revoked_at is None
    assert AuditEvent.objects.count() == events


def test_a_grant_filter_with_a_nul_is_refused(
    lead_and_auditor: tuple[ApiClient, ApiClient],
) -> None:
    lead, _auditor = lead_and_auditor

    response = lead.get("/api/v1/grants", active="\x00")

    assert response.status_code == 422, response.content
