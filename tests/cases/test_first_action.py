"""Which acts stop a case's first-action clock, and the labels and preservation a
law-enforcement emergency request needs (issue 10, items 2 and 9)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.actions.models import Action
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.deciding import DecisionError, case_decide
from safeguard.cases.decisions import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    ActionKind,
    DecisionLabel,
    Referral,
    labels_fitting,
)
from safeguard.cases.models import Case, Queue
from safeguard.cases.queues import case_claim_renew, queue_claim_next
from safeguard.cases.schemas import case_out
from safeguard.cases.selectors import case_get_for
from safeguard.intake.enums import Category, Channel
from tests.audit_helpers import assert_audited, last_event_id
from tests.conftest import ApiClient, case_of, escalation_body
from tests.factories import UserFactory

E = AuditEventType
LEASE = timedelta(minutes=10)
LE_EMERGENCY = escalation_body(
    channel="law_enforcement",
    category="imminent_danger",
    summary="Police ask for subscriber details: a child may be in danger tonight.",
    subjects=[
        {"platform_id": "user:le-suspect", "role": "suspect"},
        {"platform_id": "user:le-victim", "role": "victim", "age": 13, "country": "us"},
        {"platform_id": "user:le-reporter", "role": "reporter"},
    ],
    content=[],
    law_enforcement={
        "agency": "Example Police (fictional)",
        "country": "US",
        "request_type": "emergency_disclosure",
        "contact": "desk@police.example",
    },
)


def claimed(service_api: ApiClient, body: dict[str, Any]) -> tuple[Case, Any]:
    case = case_of(service_api.post("/api/v1/escalations", body))
    specialist = UserFactory(role=Role.SPECIALIST.value)
    queue = Queue.objects.get(name=case.queue)
    taken = queue_claim_next(queue=queue, actor=specialist, lease=LEASE, source=AuditSource.API)
    assert taken is not None
    assert taken.pk == case.pk
    return taken, specialist


def test_every_intake_category_and_the_law_enforcement_channel_has_a_fitting_label() -> None:
    assert set(CATEGORY_LABELS) == set(Category)
    for category in Category:
        assert CATEGORY_LABELS[category], category
        assert DecisionLabel.NOT_VIOLATING not in CATEGORY_LABELS[category]
    assert CHANNEL_LABELS[Channel.LAW_ENFORCEMENT] == (DecisionLabel.LAW_ENFORCEMENT_REQUEST,)
    assert labels_fitting(categories=["imminent_danger"], channels=["law_enforcement"]) == [
        DecisionLabel.IMMINENT_DANGER,
        DecisionLabel.SELF_HARM,
        DecisionLabel.TRAFFICKING,
        DecisionLabel.LAW_ENFORCEMENT_REQUEST,
        DecisionLabel.NOT_VIOLATING,
    ]
    # Every label but not_violating fits some category or channel: none is left unused.
    used = {label for labels in CATEGORY_LABELS.values() for label in labels}
    used |= {label for labels in CHANNEL_LABELS.values() for label in labels}
    assert used | {DecisionLabel.NOT_VIOLATING} == set(DecisionLabel)
    # An unknown value (a category retired since) has no label but not_violating, and no error.
    assert labels_fitting(categories=["retired"], channels=["fax"]) == [DecisionLabel.NOT_VIOLATING]


def test_a_claim_or_a_renewal_does_not_stop_the_clock(service_api: ApiClient) -> None:
    case, specialist = claimed(service_api, LE_EMERGENCY)
    case_claim_renew(case=case, actor=specialist, lease=LEASE, source=AuditSource.API)
    case.refresh_from_db()
    assert case.first_action_at is None
    out = case_out(case_get_for(user=specialist, case_id=case.pk))
    assert out.first_action_at is None
    assert out.first_action_clock.state == "running"
    assert out.first_action_clock.sentence.startswith("no first action yet, ")


def test_an_emergency_request_is_decided_with_labels_and_a_referral_and_no_action(
    service_api: ApiClient,
) -> None:
    """The reproduction: with no content, no label fitted and the decision could not be made."""
    case, specialist = claimed(service_api, LE_EMERGENCY)
    before = timezone.now()

    decision = case_decide(
        case=case,
        actor=specialist,
        labels=[DecisionLabel.IMMINENT_DANGER, DecisionLabel.LAW_ENFORCEMENT_REQUEST],
        reason="Emergency disclosure approved; handed to law-enforcement response.",
        referrals=[Referral.LAW_ENFORCEMENT],
        source=AuditSource.API,
    )

    case.refresh_from_db()
    assert case.state == "decided"
    assert not Action.objects.filter(case=case).exists()
    assert case.first_action_at == decision.decided_at
    assert case.first_action_at is not None
    assert case.first_action_at >= before
    out = case_out(case_get_for(user=specialist, case_id=case.pk))
    assert out.first_action_at == decision.decided_at
    assert out.first_action_clock.state == "met"
    assert out.first_action_clock.sentence.endswith("after intake, within target")
    assert_audited(
        E.CASE_DECIDED,
        target=case,
        actor=specialist,
        data={
            "labels": ["imminent_danger", "law_enforcement_request"],
            "actions": [],
            "referrals": ["law_enforcement"],
        },
    )


def test_preserve_with_no_content_preserves_the_suspects_and_victims(
    service_api: ApiClient,
) -> None:
    case, specialist = claimed(service_api, LE_EMERGENCY)

    case_decide(
        case=case,
        actor=specialist,
        labels=[DecisionLabel.LAW_ENFORCEMENT_REQUEST],
        reason="Preserve the accounts named in the request.",
        actions=[ActionKind.PRESERVE],
        source=AuditSource.API,
    )

    actions = Action.objects.filter(case=case).order_by("target_id")
    # The reporter is not a subject to preserve.
    assert [(a.kind, a.target_type, a.target_id) for a in actions] == [
        ("preserve", "account", "user:le-suspect"),
        ("preserve", "account", "user:le-victim"),
    ]
    for action in actions:
        assert_audited(
            E.ACTION_REQUESTED,
            target=case,
            actor=specialist,
            data={"action": str(action.pk), "target": f"account:{action.target_id}"},
        )


def test_preserve_covers_content_and_accounts(service_api: ApiClient) -> None:
    body = escalation_body(
        external_id="with-content",
        content=[{"platform_id": "thread:keep", "kind": "message_thread", "text": "hi"}],
    )
    case, specialist = claimed(service_api, body)

    case_decide(
        case=case,
        actor=specialist,
        labels=[DecisionLabel.GROOMING],
        reason="Keep everything for the report.",
        actions=[ActionKind.PRESERVE],
        source=AuditSource.API,
    )

    assert sorted(Action.objects.filter(case=case).values_list("target_type", "target_id")) == [
        ("account", "user:s1"),
        ("account", "user:v1"),
        ("content", "thread:keep"),
    ]


def test_preserve_with_neither_content_nor_accounts_is_refused_precisely(
    service_api: ApiClient,
) -> None:
    body = escalation_body(
        external_id="nothing-named",
        category="other",
        summary="A report with only a reporter.",
        subjects=[{"platform_id": "user:only-reporter", "role": "reporter"}],
        content=[],
    )
    case, specialist = claimed(service_api, body)
    before = last_event_id()

    with pytest.raises(
        DecisionError, match=r"^preserve: the case has no content or named account to act on$"
    ):
        case_decide(
            case=case,
            actor=specialist,
            labels=[DecisionLabel.OTHER_VIOLATION],
            reason="Preserve.",
            actions=[ActionKind.PRESERVE],
            source=AuditSource.API,
        )

    case.refresh_from_db()
    assert case.state == "in_review"
    assert case.first_action_at is None
    assert last_event_id() == before
    assert not Action.objects.exists()


def test_removal_with_no_content_stays_refused(service_api: ApiClient) -> None:
    case, specialist = claimed(service_api, LE_EMERGENCY)
    with pytest.raises(DecisionError, match="remove_content: the case has no content to act on"):
        case_decide(
            case=case,
            actor=specialist,
            labels=[DecisionLabel.IMMINENT_DANGER],
            reason="Remove.",
            actions=[ActionKind.REMOVE_CONTENT],
            source=AuditSource.API,
        )
    case.refresh_from_db()
    assert case.first_action_at is None


def test_the_decision_api_preserves_accounts_of_a_request_without_content(
    service_api: ApiClient, api_for: Any
) -> None:
    case = case_of(service_api.post("/api/v1/escalations", LE_EMERGENCY))
    specialist = api_for(Role.SPECIALIST)
    assert specialist.post(f"/api/v1/queues/{case.queue}/next", {}).status_code == 200

    decided = specialist.post(
        f"/api/v1/cases/{case.pk}/decision",
        {
            "labels": ["imminent_danger", "law_enforcement_request"],
            "reason": "Preserve and refer.",
            "actions": ["preserve"],
            "referrals": ["law_enforcement"],
        },
    )

    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert body["first_action_at"] is not None
    assert body["first_action_clock"]["state"] == "met"
    assert sorted(a["target_id"] for a in body["actions"]) == ["user:le-suspect", "user:le-victim"]
