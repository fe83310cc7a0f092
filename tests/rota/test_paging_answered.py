"""Paging that stops when the work is done, and starts again when it is dropped (issue 10, items
1 and 2): acting on a P0 answers its page; a P0 released before anyone acted pages again at once;
a P0 whose first action has not happened breaches and pages whatever its claim history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.deciding import case_decide, case_escalate_to_lead
from safeguard.cases.decisions import ActionKind, DecisionLabel, Referral
from safeguard.cases.models import Case, Queue
from safeguard.cases.queues import case_claim_release, case_reassign, queue_claim_next
from safeguard.review.services import step_away
from safeguard.rota.models import Page
from tests.audit_helpers import assert_audited, assert_audited_many, assert_not_audited
from tests.conftest import ApiClient, case_of, escalation_body
from tests.factories import UserFactory
from tests.tasks import run_tasks

E = AuditEventType
LEASE = timedelta(minutes=10)
ACK = timedelta(minutes=5)
EMERGENCY = escalation_body(
    channel="law_enforcement",
    category="imminent_danger",
    law_enforcement={
        "agency": "Example Police (fictional)",
        "country": "US",
        "request_type": "emergency_disclosure",
        "contact": "desk@police.example",
    },
)


@pytest.fixture
def oncall(settings: Any, db: None) -> dict[str, Any]:
    people = {
        "first": UserFactory(username="first.oncall", role=Role.SPECIALIST.value),
        "second": UserFactory(username="second.oncall", role=Role.SPECIALIST.value),
        "lead": UserFactory(username="the.lead", role=Role.LEAD.value),
    }
    settings.SAFEGUARD_ONCALL = ["first.oncall", "second.oncall"]
    settings.SAFEGUARD_ONCALL_LEAD = "the.lead"
    settings.SAFEGUARD_PAGING_WEBHOOK_URL = ""
    settings.SAFEGUARD_PAGE_ACK_SECONDS = int(ACK.total_seconds())
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return people


def p0(service_api: ApiClient, n: int = 1) -> Case:
    created = service_api.post("/api/v1/escalations", {**EMERGENCY, "external_id": f"le-{n}"})
    assert created.status_code == 201, created.content
    case = case_of(created)
    assert case.priority == "P0"
    assert case.queue == "emergency"
    return case


def claim(case: Case, user: Any) -> Case:
    claimed = queue_claim_next(
        queue=Queue.objects.get(name=case.queue), actor=user, lease=LEASE, source=AuditSource.API
    )
    assert claimed is not None
    assert claimed.pk == case.pk
    return claimed


def test_claim_and_decide_within_minutes_and_the_page_stops(
    service_api: ApiClient, oncall: dict[str, Any]
) -> None:
    """The reproduction: claimed and decided within 3 minutes, the page stayed "waiting for an
    answer" and at +5 minutes the lead was paged "UNACKNOWLEDGED P0 case …"."""
    specialist = oncall["first"]
    case = p0(service_api)
    page = Page.objects.get()
    run_tasks(within=timedelta(minutes=1))

    claim(case, specialist)

    page.refresh_from_db()
    assert page.acknowledged_by == specialist
    assert page.acknowledged_at is not None
    assert_audited(
        E.PAGE_ANSWERED_BY_ACTION,
        target=case,
        actor=specialist,
        source=AuditSource.API,
        data={
            "incident": str(page.incident),
            "pages": [str(page.pk)],
            "kind": "p0",
            "by": ["claim"],
        },
    )
    # A claim answers the page but is not the first action: the clock runs on.
    case.refresh_from_db()
    assert case.first_action_at is None

    decision = case_decide(
        case=case,
        actor=specialist,
        labels=[DecisionLabel.IMMINENT_DANGER, DecisionLabel.LAW_ENFORCEMENT_REQUEST],
        reason="Emergency disclosure made to the requesting agency.",
        referrals=[Referral.LAW_ENFORCEMENT],
        source=AuditSource.API,
    )
    case.refresh_from_db()
    assert case.first_action_at == decision.decided_at
    run_tasks(within=ACK * 3)

    assert_not_audited(E.PAGE_ESCALATED, target=case)
    assert_not_audited(E.CASE_DEADLINE_BREACHED, target=case)
    assert Page.objects.count() == 1


def test_a_decision_answers_a_page_nobody_answered(
    service_api: ApiClient, oncall: dict[str, Any]
) -> None:
    """A lead hands the P0 straight to a person (not a claim, not an action); that person's
    decision answers the page, saying which acts it was."""
    case = p0(service_api)
    page = Page.objects.get()
    specialist = oncall["second"]
    case_reassign(
        case=case,
        actor=oncall["lead"],
        reason="Second on call is free.",
        to_user=specialist,
        source=AuditSource.API,
    )
    case.refresh_from_db()
    assert case.holder == specialist
    # Reassigning is not acting either.
    assert case.first_action_at is None
    assert Page.objects.get().acknowledged_at is None

    case_decide(
        case=case,
        actor=specialist,
        labels=[DecisionLabel.IMMINENT_DANGER],
        reason="Account preserved and referred.",
        actions=[ActionKind.PRESERVE],
        referrals=[Referral.LAW_ENFORCEMENT],
        source=AuditSource.CONSOLE,
    )

    page.refresh_from_db()
    assert page.acknowledged_by == specialist
    assert_audited(
        E.PAGE_ANSWERED_BY_ACTION,
        target=case,
        actor=specialist,
        source=AuditSource.CONSOLE,
        data={"incident": str(page.incident), "by": ["decision", "platform_action", "referral"]},
    )
    run_tasks(within=ACK * 2)
    assert_not_audited(E.PAGE_ESCALATED, target=case)


def test_an_escalation_to_a_lead_is_a_first_action(
    service_api: ApiClient, oncall: dict[str, Any]
) -> None:
    case = p0(service_api)
    specialist = oncall["first"]
    claim(case, specialist)

    escalation = case_escalate_to_lead(
        case=case, actor=specialist, note="Needs a lead's call.", source=AuditSource.API
    )

    case.refresh_from_db()
    assert case.first_action_at == escalation.decided_at
    assert case.queue == "lead"
    # Not "released before anyone acted": nobody is paged again.
    assert Page.objects.count() == 1
    assert_audited(E.PAGE_ANSWERED_BY_ACTION, target=case, actor=specialist, data={"by": ["claim"]})
    run_tasks(within=timedelta(hours=1))
    assert_not_audited(E.CASE_DEADLINE_BREACHED, target=case)


def test_unanswered_the_escalation_names_the_case_once(
    service_api: ApiClient, oncall: dict[str, Any]
) -> None:
    case = p0(service_api)

    run_tasks(within=ACK)

    assert_audited(E.PAGE_ESCALATED, target=case, data={"round": 1})
    first = Page.objects.get(round=0)
    later = list(Page.objects.filter(round=1))
    assert sorted(p.recipient.username for p in later) == ["second.oncall", "the.lead"]
    for page in later:
        assert page.message == f"UNACKNOWLEDGED {first.message}"
        assert page.message.count(str(case.pk)) == 1
        assert page.message.startswith(f"UNACKNOWLEDGED P0 case {case.pk}: ")


@pytest.mark.parametrize("how", ["release", "step_away", "reassign_to_queue"])
def test_a_p0_released_before_anyone_acted_pages_again_at_once(
    service_api: ApiClient, oncall: dict[str, Any], how: str
) -> None:
    case = p0(service_api)
    specialist = oncall["first"]
    claim(case, specialist)
    assert Page.objects.get().acknowledged_at is not None

    if how == "release":
        case_claim_release(case=case, actor=specialist, reason="break", source=AuditSource.API)
        expected = "released before anyone acted (break)"
    elif how == "step_away":
        assert step_away(user=specialist, source=AuditSource.CONSOLE) == 1
        expected = "released before anyone acted (stepped away)"
    else:
        case_reassign(
            case=case,
            actor=oncall["lead"],
            reason="Wrong queue.",
            to_queue=Queue.objects.get(name="general"),
            source=AuditSource.API,
        )
        expected = "released before anyone acted (reassigned to queue general)"

    again = Page.objects.exclude(acknowledged_at__isnull=False).get()
    assert again.recipient == specialist  # the first on call, who had it
    assert again.message == f"P0 case {case.pk}: {expected}"
    assert again.incident != Page.objects.get(acknowledged_at__isnull=False).incident
    sent = assert_audited_many(E.PAGE_SENT, count=2, target=case)
    assert sent[-1].data == {
        "page": str(again.pk),
        "kind": "p0",
        "to": "first.oncall",
        "round": 0,
    }
    # Unanswered in its turn, the new page escalates as any P0 page does.
    run_tasks(within=ACK)
    assert_audited(E.PAGE_ESCALATED, target=case, data={"incident": str(again.incident)})


def test_releasing_a_case_that_is_not_p0_pages_nobody(
    service_api: ApiClient, oncall: dict[str, Any]
) -> None:
    created = service_api.post(
        "/api/v1/escalations", escalation_body(category="other", content=[], summary="A report.")
    )
    case = case_of(created)
    assert case.priority != "P0"
    claim(case, oncall["first"])
    case_claim_release(case=case, actor=oncall["first"], reason="break", source=AuditSource.API)
    assert not Page.objects.exists()


def test_a_p0_claimed_then_left_breaches_and_pages_the_oncall_and_leads(
    service_api: ApiClient, oncall: dict[str, Any]
) -> None:
    """The reproduction: claim a P0, Step away; at its deadline nothing happened."""
    case = p0(service_api)
    queue = Queue.objects.get(name="emergency")
    queue.lead = UserFactory(username="emergency.lead", role=Role.LEAD.value)
    queue.save()
    claim(case, oncall["second"])
    step_away(user=oncall["second"], source=AuditSource.CONSOLE)
    # The re-page is answered, so only the deadline speaks from here on.
    claim(case, oncall["first"])
    assert case.first_action_due is not None

    run_tasks(within=case.first_action_due - timezone.now() + timedelta(seconds=1))

    assert_audited(
        E.CASE_DEADLINE_BREACHED, target=case, data={"due": case.first_action_due.isoformat()}
    )
    case.refresh_from_db()
    assert case.breached_at is not None
    breach = Page.objects.filter(kind="deadline_breach")
    assert sorted(p.recipient.username for p in breach) == [
        "emergency.lead",
        "first.oncall",
        "the.lead",
    ]


def test_a_breach_that_is_not_p0_does_not_page_the_oncall(
    service_api: ApiClient, oncall: dict[str, Any]
) -> None:
    case = case_of(
        service_api.post(
            "/api/v1/escalations",
            escalation_body(category="other", content=[], summary="A report."),
        )
    )
    assert case.first_action_due is not None
    run_tasks(within=case.first_action_due - timezone.now() + timedelta(seconds=1))
    breach = Page.objects.filter(kind="deadline_breach")
    assert [p.recipient.username for p in breach] == ["the.lead"]
