"""Deciding cases and carrying actions to the platform: signed, retried, confirmed exactly once,
reversible; escalation to a lead kept beside the lead's decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from safeguard.accounts.permissions import Role
from safeguard.actions.models import Action
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case
from tests.audit_helpers import assert_audited, assert_audited_many, audit_log_intact, last_event_id
from tests.conftest import ApiClient, case_of, escalation_body
from tests.receiver import receiver
from tests.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SECRET = b"platform-test-secret"
DONE = b'{"status": "done"}'
E = AuditEventType
# Long enough for every retry's backoff (2 s, 4 s, … by default) to pass on the queue's clock.
RETRIES = timedelta(minutes=10)


@pytest.fixture
def platform(settings: Any) -> Any:
    settings.SAFEGUARD_PLATFORM_WEBHOOK_SECRET = SECRET
    return settings


def claimed_case(service_api: ApiClient, reviewer: ApiClient) -> dict[str, Any]:
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            category="other",
            summary="A report.",
            subjects=[{"platform_id": "user:bad-actor", "role": "suspect"}],
            content=[{"platform_id": "img:reported", "kind": "image"}],
        ),
    ).json()
    case = case_of(created)
    Case.objects.filter(pk=case.pk).update(queue="general")
    claimed = reviewer.post("/api/v1/queues/general/next", {})
    assert claimed.status_code == 200
    assert_audited(
        E.CASE_CLAIMED,
        target=case,
        actor=reviewer.user,
        source=AuditSource.API,
        data={"queue": "general", "expired_lease_of": None},
    )
    return dict(claimed.json())


def test_a_removal_reaches_the_platform_signed_and_is_confirmed_exactly_once(
    service_api: ApiClient, specialist_api: ApiClient, platform: Any
) -> None:
    case = claimed_case(service_api, specialist_api)
    content_id = case["escalations"][0]["content"][0]["id"]
    with receiver(SECRET, fail_first=2, reply=DONE) as hook:
        platform.SAFEGUARD_PLATFORM_WEBHOOK_URL = hook.url

        decided = specialist_api.post(
            f"/api/v1/cases/{case['id']}/decision",
            {
                "labels": [],
                "item_labels": {content_id: "B2"},
                "reason": "matches policy B2",
                "actions": ["remove_content", "ban_account"],
                "referrals": ["reporting"],
            },
        )
        assert decided.status_code == 200, decided.content
        assert decided.json()["state"] == "decided"
        assert decided.json()["referrals"] == ["reporting"]

        run_tasks(within=RETRIES)

        assert hook.refused == 2
        assert all(r.signature_ok for r in hook.received)
        assert sorted((b["kind"], b["target"]["id"]) for b in hook.bodies()) == [
            ("ban_account", "user:bad-actor"),
            ("remove_content", "img:reported"),
        ]
    actions = list(Action.objects.all())
    assert {a.status for a in actions} == {"confirmed"}
    decision = assert_audited(
        E.CASE_DECIDED,
        target=("case", case["id"]),
        actor=specialist_api.user,
        source=AuditSource.API,
        data={
            "labels": [],
            "item_labels": {content_id: "B2"},
            "actions": ["remove_content", "ban_account"],
            "referrals": ["reporting"],
        },
    )
    requested = assert_audited_many(
        E.ACTION_REQUESTED, count=2, target=("case", case["id"]), actor=specialist_api.user
    )
    assert sorted((e.data["kind"], e.data["target"]) for e in requested) == [
        ("ban_account", "account:user:bad-actor"),
        ("remove_content", "content:img:reported"),
    ]
    assert {e.data["action"] for e in requested} == {str(a.pk) for a in actions}
    assert decision.pk < min(e.pk for e in requested)
    failed = assert_audited_many(E.ACTION_DELIVERY_FAILED, count=2, actor=None)
    assert [(e.data["http"], e.data["gave_up"]) for e in failed] == [(503, False)] * 2
    sent = assert_audited_many(E.ACTION_SENT, count=2, source=AuditSource.TASK)
    assert {e.data["action"] for e in sent} == {str(a.pk) for a in actions}
    assert {e.data["http"] for e in sent} == {200}
    # One confirmation per action, however many deliveries it took.
    confirmed = assert_audited_many(E.ACTION_CONFIRMED, count=2, actor=None)
    assert {e.data["action"] for e in confirmed} == {str(a.pk) for a in actions}
    body = specialist_api.get(f"/api/v1/cases/{case['id']}").json()
    assert body["state"] == "actioned"
    assert body["holder"] is None
    assert audit_log_intact()


def test_a_platform_that_confirms_later_calls_back(
    service_api: ApiClient, specialist_api: ApiClient, platform: Any
) -> None:
    case = claimed_case(service_api, specialist_api)
    with receiver(SECRET) as hook:
        platform.SAFEGUARD_PLATFORM_WEBHOOK_URL = hook.url
        specialist_api.post(
            f"/api/v1/cases/{case['id']}/decision",
            {"labels": ["grooming"], "reason": "grooming", "actions": ["restrict_account"]},
        )
        run_tasks()
    action = Action.objects.get()
    assert action.status == "sent"

    first = service_api.post(f"/api/v1/actions/{action.pk}/confirm", {})
    again = service_api.post(f"/api/v1/actions/{action.pk}/confirm", {})

    assert first.json()["status"] == again.json()["status"] == "confirmed"
    assert_audited(
        E.ACTION_CONFIRMED,
        target=("case", case["id"]),
        actor=service_api.user,
        source=AuditSource.API,
        data={"action": str(action.pk), "kind": "restrict_account"},
    )
    assert Case.objects.get(pk=case["id"]).state == "actioned"


def test_a_lead_reverses_with_a_reason(
    service_api: ApiClient, specialist_api: ApiClient, api_for: Any, platform: Any
) -> None:
    case = claimed_case(service_api, specialist_api)
    lead = api_for(Role.LEAD)
    with receiver(SECRET, reply=DONE) as hook:
        platform.SAFEGUARD_PLATFORM_WEBHOOK_URL = hook.url
        specialist_api.post(
            f"/api/v1/cases/{case['id']}/decision",
            {"labels": ["grooming"], "reason": "grooming", "actions": ["ban_account"]},
        )
        run_tasks()
        ban = Action.objects.get()

        refused = specialist_api.post(f"/api/v1/actions/{ban.pk}/reverse", {"reason": "x"})
        reversed_ = lead.post(
            f"/api/v1/actions/{ban.pk}/reverse", {"reason": "appeal upheld: wrong account"}
        )
        twice = lead.post(f"/api/v1/actions/{ban.pk}/reverse", {"reason": "again"})
        run_tasks()

        assert refused.status_code == 403
        assert reversed_.status_code == 200, reversed_.content
        assert twice.status_code == 422
        assert [b["kind"] for b in hook.bodies()] == ["ban_account", "unban_account"]
        assert hook.bodies()[1]["reverses"] == str(ban.pk)
    undo = Action.objects.get(reverses=ban)
    assert undo.status == "confirmed"
    assert_audited(
        E.ACTION_REQUESTED,
        actor=lead.user,
        data={
            "action": str(undo.pk),
            "kind": "unban_account",
            "reverses": str(ban.pk),
            "reason": "appeal upheld: wrong account",
        },
    )


@pytest.mark.parametrize(
    ("decision", "mentions"),
    [
        ({"labels": [], "reason": "x"}, "at least one label"),
        ({"labels": ["not_violating", "grooming"], "reason": "x"}, "stands alone"),
        ({"labels": ["grooming"], "reason": "x", "actions": ["unban_account"]}, "not an action"),
        (
            {"labels": ["grooming"], "reason": "x", "item_labels": {"nope": "A1"}},
            "not in this case",
        ),
        ({"labels": ["grooming"], "reason": "x", "item_labels": {}, "actions": ["fly"]}, "actions"),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(
    service_api: ApiClient, specialist_api: ApiClient, decision: dict[str, Any], mentions: str
) -> None:
    case = claimed_case(service_api, specialist_api)
    before = last_event_id()

    response = specialist_api.post(f"/api/v1/cases/{case['id']}/decision", decision)

    assert response.status_code == 422, response.content
    assert mentions in response.json()["detail"]
    assert Case.objects.get(pk=case["id"]).state == "in_review"
    assert not Action.objects.exists()
    assert last_event_id() == before


def test_someone_without_the_claim_cannot_decide(
    service_api: ApiClient, specialist_api: ApiClient, api_for: Any
) -> None:
    case = claimed_case(service_api, specialist_api)
    other = api_for(Role.SPECIALIST)

    response = other.post(
        f"/api/v1/cases/{case['id']}/decision", {"labels": ["grooming"], "reason": "x"}
    )

    assert response.status_code == 422
    assert "does not hold a claim" in response.json()["detail"]


def test_escalate_to_lead_then_the_leads_decision_is_kept_with_the_note(
    service_api: ApiClient, specialist_api: ApiClient, api_for: Any
) -> None:
    case = claimed_case(service_api, specialist_api)
    lead = api_for(Role.LEAD)

    escalated = specialist_api.post(
        f"/api/v1/cases/{case['id']}/escalate",
        {"note": "unsure whether this is self-generated", "proposed_labels": ["self_generated"]},
    )
    taken = lead.post("/api/v1/queues/lead/next", {})
    decided = lead.post(
        f"/api/v1/cases/{case['id']}/decision",
        {"labels": ["self_generated"], "reason": "agree with the specialist"},
    )

    assert escalated.json()["queue"] == "lead"
    assert escalated.json()["state"] == "triaged"
    assert_audited(
        E.CASE_ESCALATED_TO_LEAD,
        target=("case", case["id"]),
        actor=specialist_api.user,
        source=AuditSource.API,
        data={
            "from_queue": "general",
            "note": "unsure whether this is self-generated",
            "proposed_labels": ["self_generated"],
        },
    )
    assert taken.json()["id"] == case["id"]
    decisions = decided.json()["decisions"]
    assert [(d["kind"], d["decided_by"]) for d in decisions] == [
        ("escalation", specialist_api.user.username),
        ("decision", lead.user.username),
    ]
    assert decisions[0]["reason"] == "unsure whether this is self-generated"
    assert decided.json()["state"] == "decided"


def test_the_demo_platform_checks_signatures_and_confirms(
    service_api: ApiClient, specialist_api: ApiClient, platform: Any
) -> None:
    from safeguard.actions.platform_sim import DemoPlatform
    from safeguard.core.webhooks import deliver

    sim = DemoPlatform(SECRET).start()
    try:
        platform.SAFEGUARD_PLATFORM_WEBHOOK_URL = sim.url
        case = claimed_case(service_api, specialist_api)
        specialist_api.post(
            f"/api/v1/cases/{case['id']}/decision",
            {"labels": ["grooming"], "reason": "grooming", "actions": ["ban_account"]},
        )
        run_tasks()
        forged = deliver(sim.url, {"kind": "ban_account"}, b"not-the-secret", delivery_id="x-1")
    finally:
        sim.stop()

    assert Action.objects.get().status == "confirmed"
    assert [a["kind"] for a in sim.received] == ["ban_account"]
    assert forged.status == 401
