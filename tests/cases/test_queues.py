"""Queues and claims: urgency order, leases, renewal, release, reassignment, overrides."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case, Queue
from safeguard.cases.queues import queue_claim_next
from tests.audit_helpers import (
    assert_audited,
    assert_audited_many,
    assert_not_audited,
    audit_log_intact,
    last_event_id,
)
from tests.conftest import ApiClient, case_of, escalation_body
from tests.factories import UserFactory

E = AuditEventType
URL = "/api/v1/escalations"


def same_moment(recorded: str, expected: Any) -> bool:
    """An audited timestamp (JSON keeps milliseconds) names the moment `expected` does."""
    moment = parse_datetime(recorded)
    return moment is not None and abs(moment - expected) < timedelta(milliseconds=1)


def file(service_api: ApiClient, n: int, **overrides: Any) -> dict[str, Any]:
    body = escalation_body(
        external_id=f"e{n}",
        subjects=[{"platform_id": f"user:suspect-{n}", "role": "suspect"}],
        content=[],
        summary="A report.",
        category="other",
    )
    body.update(overrides)
    response = service_api.post(URL, body)
    assert response.status_code == 201, response.content
    return {**response.json(), "case_id": str(case_of(response).pk)}


def force(case_id: str, **fields: Any) -> None:
    Case.objects.filter(pk=case_id).update(**fields)


def test_cases_are_served_by_priority_then_deadline(
    service_api: ApiClient, specialist_api: ApiClient
) -> None:
    now = timezone.now()
    ids = [file(service_api, n)["case_id"] for n in range(4)]
    force(ids[0], priority="P3", queue="general", first_action_due=now + timedelta(hours=1))
    force(ids[1], priority="P1", queue="general", first_action_due=now + timedelta(hours=9))
    force(ids[2], priority="P1", queue="general", first_action_due=now + timedelta(hours=2))
    force(ids[3], priority="P2", queue="general", first_action_due=now - timedelta(hours=1))

    served = [specialist_api.post("/api/v1/queues/general/next", {}).json()["id"] for _ in range(4)]

    assert served == [ids[2], ids[1], ids[3], ids[0]]
    assert specialist_api.post("/api/v1/queues/general/next", {}).status_code == 204


def test_claim_is_a_lease_that_expires_back_to_the_queue(
    service_api: ApiClient, api_for: Any
) -> None:
    case_id = file(service_api, 1)["case_id"]
    force(case_id, queue="general")
    alice, bob = api_for(Role.SPECIALIST), api_for(Role.SPECIALIST)

    claimed = alice.post("/api/v1/queues/general/next", {"lease_seconds": 60}).json()
    assert claimed["holder"] == alice.user.username
    assert claimed["state"] == "in_review"
    assert bob.post("/api/v1/queues/general/next", {}).status_code == 204

    force(case_id, lease_until=timezone.now() - timedelta(seconds=1))
    again = bob.post("/api/v1/queues/general/next", {}).json()

    assert again["id"] == case_id
    assert again["holder"] == bob.user.username
    taken_over = assert_audited(
        E.CASE_CLAIMED,
        target=Case.objects.get(pk=case_id),
        actor=bob.user,
        source=AuditSource.API,
        data={"queue": "general", "expired_lease_of": alice.user.username},
    )
    assert same_moment(taken_over.data["lease_until"], Case.objects.get(pk=case_id).lease_until)


def test_renew_and_release(service_api: ApiClient, specialist_api: ApiClient, api_for: Any) -> None:
    case_id = file(service_api, 1)["case_id"]
    force(case_id, queue="general")
    specialist_api.post("/api/v1/queues/general/next", {"lease_seconds": 30})
    other = api_for(Role.SPECIALIST)

    case = Case.objects.get(pk=case_id)

    assert other.post(f"/api/v1/cases/{case_id}/claim/renew", {}).status_code == 409
    assert_not_audited(E.CASE_CLAIM_RENEWED, target=case)
    renewed = specialist_api.post(f"/api/v1/cases/{case_id}/claim/renew", {"lease_seconds": 900})
    assert renewed.status_code == 200
    lease_until = Case.objects.get(pk=case_id).lease_until
    assert lease_until is not None
    assert timedelta(seconds=890) < lease_until - timezone.now() <= timedelta(seconds=900)
    renewal = assert_audited(
        E.CASE_CLAIM_RENEWED, target=case, actor=specialist_api.user, source=AuditSource.API
    )
    assert same_moment(renewal.data["lease_until"], lease_until)
    released = specialist_api.post(f"/api/v1/cases/{case_id}/claim/release", {"reason": "break"})
    assert released.json()["holder"] is None
    assert released.json()["state"] == "triaged"
    assert_audited(
        E.CASE_CLAIM_RELEASED,
        target=case,
        actor=specialist_api.user,
        source=AuditSource.API,
        data={"holder": specialist_api.user.username, "reason": "break"},
    )


def test_a_decision_releases_the_claim(service_api: ApiClient, specialist_api: ApiClient) -> None:
    from safeguard.cases.services import case_transition
    from safeguard.cases.workflow import CaseTransition

    case_id = file(service_api, 1)["case_id"]
    force(case_id, queue="general")
    specialist_api.post("/api/v1/queues/general/next", {})

    decided = case_transition(
        case=Case.objects.get(pk=case_id),
        transition=CaseTransition.DECIDE,
        actor=specialist_api.user,
        source=AuditSource.API,
    )

    assert decided.holder is None
    assert decided.lease_until is None
    assert Case.objects.get(pk=case_id).holder is None


def test_bad_lease_is_422(service_api: ApiClient, specialist_api: ApiClient) -> None:
    force(file(service_api, 1)["case_id"], queue="general")
    response = specialist_api.post("/api/v1/queues/general/next", {"lease_seconds": 999999})
    assert response.status_code == 422
    assert "lease" in response.json()["detail"]


def test_a_queue_the_user_may_not_work_is_404(
    service_api: ApiClient, api_for: Any, specialist_api: ApiClient
) -> None:
    # le-requests is worked by legal and leads only.
    assert specialist_api.post("/api/v1/queues/le-requests/next", {}).status_code == 404
    assert specialist_api.post("/api/v1/queues/no-such-queue/next", {}).status_code == 404


def test_named_people_may_work_a_queue(service_api: ApiClient, specialist_api: ApiClient) -> None:
    Queue.objects.get(name="le-requests").members.add(specialist_api.user)
    assert specialist_api.post("/api/v1/queues/le-requests/next", {}).status_code == 204


def test_a_lead_reassigns_with_a_reason(service_api: ApiClient, api_for: Any) -> None:
    case_id = file(service_api, 1)["case_id"]
    force(case_id, queue="general")
    lead, specialist = api_for(Role.LEAD), api_for(Role.SPECIALIST)

    no_reason = lead.post(f"/api/v1/cases/{case_id}/reassign", {"to_queue": "grooming"})
    moved = lead.post(
        f"/api/v1/cases/{case_id}/reassign", {"to_queue": "grooming", "reason": "grooming signs"}
    )
    to_person = lead.post(
        f"/api/v1/cases/{case_id}/reassign",
        {"to_user": specialist.user.username, "reason": "speaks the language"},
    )

    assert no_reason.status_code == 422
    assert moved.json()["queue"] == "grooming"
    assert to_person.json()["holder"] == specialist.user.username
    events = assert_audited_many(
        E.CASE_REASSIGNED, count=2, target=Case.objects.get(pk=case_id), actor=lead.user
    )
    assert [(e.data["to"], e.data["reason"]) for e in events] == [
        ({"queue": "grooming", "holder": None}, "grooming signs"),
        ({"queue": "grooming", "holder": specialist.user.username}, "speaks the language"),
    ]
    before = last_event_id()
    assert (
        specialist.post(
            f"/api/v1/cases/{case_id}/reassign", {"to_queue": "general", "reason": "x"}
        ).status_code
        == 403
    )
    assert last_event_id() == before


def test_lowering_priority_is_a_persons_audited_override(
    service_api: ApiClient, api_for: Any
) -> None:
    created = file(service_api, 1, category="imminent_danger")
    assert case_of(created).priority == "P0"
    lead = api_for(Role.LEAD)

    no_reason = lead.post(f"/api/v1/cases/{case_of(created).pk}/priority", {"priority": "P3"})
    lowered = lead.post(
        f"/api/v1/cases/{case_of(created).pk}/priority",
        {"priority": "P3", "reason": "duplicate of a resolved report"},
    )

    assert no_reason.status_code == 422
    assert lowered.status_code == 200
    assert lowered.json()["priority"] == "P3"
    event = assert_audited(E.CASE_PRIORITY_OVERRIDDEN, target=case_of(created), actor=lead.user)
    assert event.data == {"from": "P0", "to": "P3", "reason": "duplicate of a resolved report"}
    # Automatic re-triage may raise it again, never lower it further.
    again = service_api.post(
        URL,
        escalation_body(
            external_id="again",
            subjects=[{"platform_id": "user:suspect-1", "role": "suspect"}],
            content=[],
            category="imminent_danger",
        ),
    ).json()
    assert case_of(again).priority == "P0"


def test_automatic_triage_never_lowers(service_api: ApiClient) -> None:
    first = file(service_api, 1, category="imminent_danger")
    later = service_api.post(
        URL,
        escalation_body(
            external_id="later",
            subjects=[{"platform_id": "user:suspect-1", "role": "suspect"}],
            content=[],
            category="other",
        ),
    ).json()

    assert case_of(first).priority == case_of(later).priority == "P0"
    assert case_of(later) == case_of(first)


def test_queue_summaries(service_api: ApiClient, specialist_api: ApiClient) -> None:
    file(service_api, 1, category="imminent_danger")
    summaries = {q["name"]: q for q in specialist_api.get("/api/v1/queues").json()}
    assert "le-requests" not in summaries
    assert summaries["emergency"]["by_priority"] == {"P0": 1}
    assert summaries["emergency"]["open_cases"] == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_claimers_claim_each_case_exactly_once() -> None:
    from safeguard.accounts.services import api_token_create

    platform = UserFactory(role=Role.SERVICE.value)
    token = api_token_create(user=platform, name="t", actor=None, source=AuditSource.CLI)
    service = ApiClient(platform, token.plaintext)
    cases = 30
    for n in range(cases):
        force(file(service, n)["case_id"], queue="general")
    queue = Queue.objects.get(name="general")
    claimers = [UserFactory(role=Role.SPECIALIST.value) for _ in range(8)]

    def drain(user: Any) -> list[str]:
        got: list[str] = []
        try:
            while True:
                case = queue_claim_next(
                    queue=queue, actor=user, lease=timedelta(minutes=10), source=AuditSource.API
                )
                if case is None:
                    return got
                got.append(str(case.pk))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(claimers)) as pool:
        results = list(pool.map(drain, claimers))

    claimed = [c for got in results for c in got]
    assert len(claimed) == cases
    assert len(set(claimed)) == cases
    events = assert_audited_many(E.CASE_CLAIMED, count=cases, source=AuditSource.API)
    assert sorted(e.target_id for e in events) == sorted(claimed)
    assert audit_log_intact()


def test_an_administrator_creates_and_updates_a_queue(api_for: Any) -> None:
    admin, lead, specialist = api_for(Role.ADMIN), api_for(Role.LEAD), api_for(Role.SPECIALIST)

    created = admin.put(
        "/api/v1/queues/appeals",
        {"roles": ["lead"], "description": "Appeals of decisions", "lead": lead.user.username},
    )
    updated = admin.put("/api/v1/queues/appeals", {"roles": ["lead", "specialist"]})
    before = last_event_id()
    refused = specialist.put("/api/v1/queues/appeals", {"roles": ["specialist"]})

    assert created.status_code == updated.status_code == 200, created.content
    assert created.json()["name"] == "appeals"
    assert refused.status_code == 403
    assert last_event_id() == before
    queue = Queue.objects.get(name="appeals")
    assert queue.roles == ["lead", "specialist"]
    saved = assert_audited_many(
        E.QUEUE_SAVED, count=2, target=queue, actor=admin.user, source=AuditSource.API
    )
    assert [e.data for e in saved] == [
        {"created": True, "roles": ["lead"], "lead": lead.user.username},
        {"created": False, "roles": ["lead", "specialist"], "lead": None},
    ]
