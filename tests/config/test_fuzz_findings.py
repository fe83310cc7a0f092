"""What the API fuzzing (test_api_fuzz.py) found, each pinned through the real URL.

- The bodies of the read-grant endpoints were plain schemas, so a NUL reached the database (a
  500 on PostgreSQL, a stored NUL on SQLite) and invisible characters reached the lookups.
- An audit event's target id held 64 characters, but banks are named and policies versioned
  with up to 100: creating such a bank was a 500 on PostgreSQL (SQLite stored it anyway).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import TARGET_ID_MAX_LENGTH, AuditEvent
from safeguard.audit.services import audit_record
from safeguard.cases.models import ReadGrant
from safeguard.matching.models import Bank
from safeguard.triage.models import TriagePolicy
from safeguard.triage.services import default_policy_source
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


def test_a_bank_with_the_longest_name_is_created_and_audited_under_it(api_for: Any) -> None:
    admin, auditor = api_for(Role.ADMIN), api_for(Role.AUDITOR)
    name = "b" * 100  # the longest name BankIn and bank_create accept

    response = admin.post("/api/v1/banks", {"name": name})

    assert response.status_code == 201, response.content
    assert Bank.objects.get().name == name
    event = AuditEvent.objects.get(event_type=AuditEventType.BANK_CREATED)
    assert event.target_id == name
    found = auditor.get("/api/v1/audit/events", target_type="bank", target_id=name)
    assert found.status_code == 200, found.content
    assert [e["id"] for e in found.json()] == [event.pk]


def test_a_policy_with_the_longest_version_is_activated_and_audited_under_it(
    api_for: Any,
) -> None:
    admin = api_for(Role.ADMIN)
    version = "v" * 100  # the longest version the policy reader accepts
    source = default_policy_source().replace('version: "default-2"', f'version: "{version}"', 1)
    assert version in source

    response = admin.client.put(
        "/api/v1/triage/policy",
        data={"source": source},
        content_type="application/json",
        headers=admin._headers(),
    )

    assert response.status_code == 200, response.content
    assert TriagePolicy.objects.get(active=True).version == version
    event = AuditEvent.objects.get(event_type=AuditEventType.POLICY_ACTIVATED)
    assert event.target_id == version


def test_a_target_id_longer_than_the_column_is_refused_on_every_database(db: None) -> None:
    events = AuditEvent.objects.count()

    with pytest.raises(ValueError, match=f"at most {TARGET_ID_MAX_LENGTH}"), transaction.atomic():
        audit_record(
            event_type=AuditEventType.BANK_CREATED,
            actor=None,
            source=AuditSource.CLI,
            target_type="bank",
            target_id="x" * (TARGET_ID_MAX_LENGTH + 1),
        )

    assert AuditEvent.objects.count() == events
