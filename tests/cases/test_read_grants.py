"""Auditors read cases only under a lead's read grant: explicit, audited, expiring, revocable,
read-only, and every read under it is itself an audit event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.models import Case, ReadGrant
from safeguard.cases.queues import queue_save
from tests.audit_helpers import assert_audited, assert_audited_many, audit_log_intact
from tests.conftest import ApiClient, sign_in_verified
from tests.factories import EscalationFactory

READ = AuditEventType.CASE_READ_UNDER_GRANT


def _case_in(service_api: ApiClient, queue: str, n: int) -> dict[str, str]:
    escalation = EscalationFactory(caller=service_api.user)
    case = Case.objects.get(links__escalation=escalation)
    Case.objects.filter(pk=case.pk).update(queue=queue)
    return {"case": str(case.pk), "escalation": str(escalation.pk)}


@pytest.fixture
def people(api_for: Any, service_api: ApiClient) -> dict[str, Any]:
    return {
        "lead": api_for(Role.LEAD),
        "auditor": api_for(Role.AUDITOR),
        "le": _case_in(service_api, "le-requests", 1),
        "general": _case_in(service_api, "general", 2),
    }


def _grant(lead: ApiClient, auditor: ApiClient, **scope: Any) -> Any:
    return lead.post(
        "/api/v1/grants",
        {
            "grantee": auditor.user.username,
            "reason": "annual audit of law-enforcement handling",
            "expires_at": (timezone.now() + timedelta(days=7)).isoformat(),
            **scope,
        },
    )


def test_an_auditor_without_a_grant_sees_no_case(people: dict[str, Any]) -> None:
    auditor = people["auditor"]
    for queue in ("le", "general"):
        assert auditor.get(f"/api/v1/cases/{people[queue]['case']}").status_code == 404
        assert auditor.get(f"/api/v1/escalations/{people[queue]['escalation']}").status_code == 404
    assert auditor.get("/api/v1/cases").json() == []
    assert not AuditEvent.objects.filter(event_type=READ).exists()


def test_a_queue_grant_opens_that_queue_and_every_read_is_audited(people: dict[str, Any]) -> None:
    lead, auditor, le, general = people["lead"], people["auditor"], people["le"], people["general"]

    granted = _grant(lead, auditor, queue="le-requests")

    assert granted.status_code == 201, granted.content
    grant_id = granted.json()["id"]
    assert granted.json()["active"] is True
    assert_audited(
        AuditEventType.READ_GRANT_CREATED,
        target=("read_grant", grant_id),
        actor=lead.user,
        source=AuditSource.API,
        data={
            "grantee": auditor.user.username,
            "queue": "le-requests",
            "reason": "annual audit of law-enforcement handling",
        },
    )

    case = auditor.get(f"/api/v1/cases/{le['case']}")
    escalation = auditor.get(f"/api/v1/escalations/{le['escalation']}")
    listed = auditor.get("/api/v1/cases")
    other = auditor.get(f"/api/v1/cases/{general['case']}")

    assert case.status_code == 200
    assert escalation.status_code == 200
    assert [c["id"] for c in listed.json()] == [le["case"]]
    assert other.status_code == 404
    reads = assert_audited_many(READ, count=3, actor=auditor.user)
    assert [(e.target_id, e.data["read"], e.data["grant"], e.source) for e in reads] == [
        (le["case"], "case", grant_id, "api"),
        (le["case"], "escalation", grant_id, "api"),
        (le["case"], "case_list", grant_id, "api"),
    ]
    assert reads[1].data["escalation"] == le["escalation"]
    assert audit_log_intact()


def test_a_case_grant_opens_only_that_case(people: dict[str, Any], service_api: Any) -> None:
    lead, auditor = people["lead"], people["auditor"]
    sibling = _case_in(service_api, "le-requests", 3)

    assert _grant(lead, auditor, case_id=people["le"]["case"]).status_code == 201

    assert auditor.get(f"/api/v1/cases/{people['le']['case']}").status_code == 200
    assert auditor.get(f"/api/v1/cases/{sibling['case']}").status_code == 404


def test_a_grant_is_read_only(people: dict[str, Any]) -> None:
    lead, auditor, le = people["lead"], people["auditor"], people["le"]
    _grant(lead, auditor, queue="le-requests")
    before = Case.objects.filter(pk=le["case"]).values().get()

    attempts = [
        auditor.post(
            f"/api/v1/cases/{le['case']}/decision", {"labels": ["grooming"], "reason": "x"}
        ),
        auditor.post(f"/api/v1/cases/{le['case']}/priority", {"priority": "P3", "reason": "x"}),
        auditor.post(f"/api/v1/cases/{le['case']}/claim/release", {}),
        auditor.post("/api/v1/queues/le-requests/next", {}),
    ]

    assert [a.status_code for a in attempts] == [403, 403, 403, 403]
    assert Case.objects.filter(pk=le["case"]).values().get() == before


def test_an_expired_grant_opens_nothing(people: dict[str, Any]) -> None:
    lead, auditor, le = people["lead"], people["auditor"], people["le"]
    _grant(lead, auditor, queue="le-requests")
    assert auditor.get(f"/api/v1/cases/{le['case']}").status_code == 200
    ReadGrant.objects.update(
        created_at=timezone.now() - timedelta(days=2),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    reads = AuditEvent.objects.filter(event_type=READ).count()

    assert auditor.get(f"/api/v1/cases/{le['case']}").status_code == 404
    assert auditor.get(f"/api/v1/escalations/{le['escalation']}").status_code == 404
    assert auditor.get("/api/v1/cases").json() == []
    assert AuditEvent.objects.filter(event_type=READ).count() == reads
    active = lead.get("/api/v1/grants", active="true").json()
    assert active == []


def test_a_revoked_grant_opens_nothing_and_the_revocation_is_audited(
    people: dict[str, Any], api_for: Any
) -> None:
    lead, auditor, le = people["lead"], people["auditor"], people["le"]
    grant_id = _grant(lead, auditor, queue="le-requests").json()["id"]
    other_lead = api_for(Role.LEAD)

    revoked = other_lead.post(f"/api/v1/grants/{grant_id}/revoke", {"reason": "audit finished"})
    again = other_lead.post(f"/api/v1/grants/{grant_id}/revoke", {})

    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["active"] is False
    assert revoked.json()["revoked_by"] == other_lead.user.username
    assert again.status_code == 422
    assert_audited(
        AuditEventType.READ_GRANT_REVOKED,
        target=("read_grant", grant_id),
        actor=other_lead.user,
        source=AuditSource.API,
        data={"reason": "audit finished"},
    )
    assert auditor.get(f"/api/v1/cases/{le['case']}").status_code == 404


def test_a_grant_follows_the_role_an_auditor_who_becomes_a_specialist_loses_it(
    people: dict[str, Any],
) -> None:
    lead, auditor, le = people["lead"], people["auditor"], people["le"]
    _grant(lead, auditor, queue="le-requests")
    type(auditor.user).objects.filter(pk=auditor.user.pk).update(role=Role.SPECIALIST.value)

    assert auditor.get(f"/api/v1/cases/{le['case']}").status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "mentions"),
    [
        ({"grantee": "__specialist__"}, 422, "active auditors"),
        ({"expires_at": "__31_days__"}, 422, "at most 30 days"),
        ({"expires_at": "__past__"}, 422, "in the past"),
        ({"expires_at": "2030-01-01T00:00:00"}, 422, "expires_at"),  # no time zone
        ({"reason": "   "}, 422, "reason"),
        ({"queue": "general", "case_id": "__case__"}, 422, "exactly one"),
        ({"queue": None}, 422, "exactly one"),
        ({"queue": "restricted"}, 404, "no queue 'restricted'"),  # the lead may not work it
        ({"queue": "no-such"}, 404, "no queue 'no-such'"),
        ({"queue": None, "case_id": "__restricted_case__"}, 404, "no case"),
        ({"extra": 1}, 422, "extra"),
    ],
)
def test_refused_grants_store_nothing(
    people: dict[str, Any],
    api_for: Any,
    service_api: Any,
    change: dict[str, Any],
    status: int,
    mentions: str,
) -> None:
    lead, auditor = people["lead"], people["auditor"]
    queue_save(name="restricted", roles=[Role.LEGAL], actor=None, source=AuditSource.CLI)
    restricted = _case_in(service_api, "restricted", 9)
    values = {
        "__specialist__": api_for(Role.SPECIALIST).user.username,
        "__31_days__": (timezone.now() + timedelta(days=31)).isoformat(),
        "__past__": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "__case__": people["le"]["case"],
        "__restricted_case__": restricted["case"],
    }
    body = {
        "grantee": auditor.user.username,
        "queue": "le-requests",
        "reason": "an audit",
        "expires_at": (timezone.now() + timedelta(days=1)).isoformat(),
    }
    body.update({k: values.get(v, v) if isinstance(v, str) else v for k, v in change.items()})
    body = {k: v for k, v in body.items() if v is not None}
    events = AuditEvent.objects.count()

    response = lead.post("/api/v1/grants", body)

    assert response.status_code == status, response.content
    assert mentions in response.json()["detail"]
    assert not ReadGrant.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN, Role.SPECIALIST, Role.LEGAL])
def test_only_leads_grant(people: dict[str, Any], api_for: Any, role: Role) -> None:
    response = _grant(api_for(role), people["auditor"], queue="le-requests")

    assert response.status_code == 403
    assert not ReadGrant.objects.exists()


def test_leads_and_auditors_list_grants(people: dict[str, Any], api_for: Any) -> None:
    lead, auditor = people["lead"], people["auditor"]
    _grant(lead, auditor, queue="le-requests")

    by_lead = lead.get("/api/v1/grants").json()
    by_auditor = auditor.get("/api/v1/grants").json()

    assert by_lead == by_auditor
    assert [(g["grantee"], g["queue"], g["granted_by"]) for g in by_lead] == [
        (auditor.user.username, "le-requests", lead.user.username)
    ]
    assert api_for(Role.SPECIALIST).get("/api/v1/grants").status_code == 403


def test_reads_under_a_grant_in_the_console_are_audited_as_console_reads(
    people: dict[str, Any],
) -> None:
    lead, auditor, le = people["lead"], people["auditor"], people["le"]
    _grant(lead, auditor, queue="le-requests")
    console = Client()
    sign_in_verified(console, auditor.user)

    page = console.get(f"/console/cases/{le['case']}/")
    other = console.get(f"/console/cases/{people['general']['case']}/")

    assert page.status_code == 200
    assert other.status_code == 404
    assert_audited(
        READ,
        target=("case", le["case"]),
        actor=auditor.user,
        source=AuditSource.CONSOLE,
        data={"read": "case_page"},
    )
    # The case's own trail shows who read it under a grant.
    assert "case.read_under_grant" in console.get(f"/console/cases/{le['case']}/").content.decode()


def test_other_roles_reads_are_not_grant_reads(people: dict[str, Any]) -> None:
    assert people["lead"].get(f"/api/v1/cases/{people['le']['case']}").status_code == 200
    assert not AuditEvent.objects.filter(event_type=READ).exists()


def test_the_audit_log_stays_the_auditors_whatever_the_grants(people: dict[str, Any]) -> None:
    # Decision (docs/security.md): the log of who did what to which case is the auditor's to
    # read in full; it holds ids, labels and reasons, never escalation text or media.
    events = people["auditor"].get(
        "/api/v1/audit/events", target_type="case", target_id=people["le"]["case"]
    )

    assert events.status_code == 200
    assert "case.opened" in {e["event_type"] for e in events.json()}


def test_the_command_line_grants_lists_and_revokes(people: dict[str, Any], capsys: Any) -> None:
    lead, auditor, le = people["lead"], people["auditor"], people["le"]

    call_command(
        "grants",
        "create",
        auditor.user.username,
        "--queue",
        "le-requests",
        "--days",
        "30",
        "--reason",
        "audit",
        "--by",
        lead.user.username,
    )
    grant_id = capsys.readouterr().out.strip()
    call_command("grants", "list", "--active")
    listed = capsys.readouterr().out
    assert auditor.get(f"/api/v1/cases/{le['case']}").status_code == 200
    call_command("grants", "revoke", grant_id, "--reason", "done")
    capsys.readouterr()
    with pytest.raises(CommandError, match="active auditors"):
        call_command(
            "grants",
            "create",
            lead.user.username,
            "--case",
            le["case"],
            "--days",
            "1",
            "--reason",
            "x",
            "--by",
            lead.user.username,
        )
    with pytest.raises(CommandError, match="lacks cases:grant:manage"):
        call_command(
            "grants",
            "create",
            auditor.user.username,
            "--case",
            le["case"],
            "--days",
            "1",
            "--reason",
            "x",
            "--by",
            auditor.user.username,
        )

    assert f"{grant_id}\t{auditor.user.username}\tqueue:le-requests\tactive" in listed
    assert auditor.get(f"/api/v1/cases/{le['case']}").status_code == 404
    assert_audited(
        AuditEventType.READ_GRANT_REVOKED,
        target=("read_grant", grant_id),
        actor=None,
        source=AuditSource.CLI,
        data={"reason": "done"},
    )
    assert_audited(
        AuditEventType.READ_GRANT_CREATED,
        target=("read_grant", grant_id),
        actor=lead.user,
        source=AuditSource.CLI,
        data={"grantee": auditor.user.username, "queue": "le-requests", "reason": "audit"},
    )
    assert ReadGrant.objects.count() == 1
