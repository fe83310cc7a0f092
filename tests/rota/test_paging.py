"""The whole P0 path against a real HTTP receiver: intake, P0, page, no answer, second page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.rota.models import Page
from tests.audit_helpers import assert_audited, assert_audited_many, audit_log_intact, last_event_id
from tests.conftest import ApiClient, case_of, escalation_body, sign_in_verified
from tests.factories import PageFactory, UserFactory
from tests.receiver import receiver
from tests.tasks import run_tasks

E = AuditEventType

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SECRET = b"test-paging-secret"
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
# How long a P0 page waits for its acknowledgement in these tests; the clock the window runs on
# is the task queue's (tests/tasks.py), so no test waits for it in earnest.
ACK = timedelta(minutes=5)


@pytest.fixture
def oncall(settings: Any) -> dict[str, Any]:
    people = {
        "first": UserFactory(username="first.oncall", email="first@safeguard.example"),
        "second": UserFactory(username="second.oncall", email="second@safeguard.example"),
        "lead": UserFactory(
            username="the.lead", role=Role.LEAD.value, email="lead@safeguard.example"
        ),
    }
    settings.SAFEGUARD_ONCALL = ["first.oncall", "second.oncall"]
    settings.SAFEGUARD_ONCALL_LEAD = "the.lead"
    settings.SAFEGUARD_PAGING_WEBHOOK_SECRET = SECRET
    settings.SAFEGUARD_PAGE_ACK_SECONDS = int(ACK.total_seconds())
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return people


def test_unacknowledged_p0_pages_the_next_person_and_the_lead(
    service_api: ApiClient, oncall: dict[str, Any], settings: Any
) -> None:
    with receiver(SECRET) as hook:
        settings.SAFEGUARD_PAGING_WEBHOOK_URL = hook.url

        created = service_api.post("/api/v1/escalations", EMERGENCY)
        assert created.status_code == 201
        case = case_of(created.json())
        assert case.priority == "P0"
        first_page = Page.objects.get()
        assert_audited(
            E.PAGE_SENT,
            target=case,
            actor=None,
            source=AuditSource.SYSTEM,
            data={"page": str(first_page.pk), "kind": "p0", "to": "first.oncall", "round": 0},
        )

        run_tasks()
        assert [b["to"] for b in hook.bodies()] == ["first.oncall"]
        assert all(r.signature_ok for r in hook.received)
        assert hook.bodies()[0]["case_id"] == str(case.pk)
        assert [m.to for m in mail.outbox] == [["first@safeguard.example"]]
        assert_audited(
            E.PAGE_DELIVERED,
            target=case,
            actor=None,
            source=AuditSource.TASK,
            data={"page": str(first_page.pk), "attempt": 1, "webhook": [200, ""], "email": True},
        )

        # Just short of the window nobody else is paged; once it passes with no answer, the
        # next person on call and the lead are.
        run_tasks(within=ACK - timedelta(seconds=5))
        assert len(hook.received) == 1
        run_tasks(within=timedelta(seconds=5))

        assert sorted(b["to"] for b in hook.bodies()[1:]) == ["second.oncall", "the.lead"]
        assert {b["round"] for b in hook.bodies()[1:]} == {1}
        escalated = assert_audited(E.PAGE_ESCALATED, target=case, actor=None)
        assert escalated.data["round"] == 1
        assert sorted(escalated.data["to"]) == ["second.oncall", "the.lead"]

        # The second person acknowledges through the API; the incident is answered.
        second_page = Page.objects.get(recipient=oncall["second"])
        client = ApiClient(None, None)
        sign_in_verified(client.client, oncall["second"])
        acked = client.client.post(f"/api/v1/pages/{second_page.pk}/ack")
        assert acked.status_code == 200, acked.content
        assert not Page.objects.filter(acknowledged_at__isnull=True).exists()
        assert_audited(
            E.PAGE_ACKNOWLEDGED,
            target=case,
            actor=oncall["second"],
            source=AuditSource.API,
            data={"page": str(second_page.pk), "incident": str(second_page.incident)},
        )

        run_tasks(within=ACK)
        # Acknowledged: the next check pages nobody else.
        assert len(hook.received) == 3
        assert_audited(E.PAGE_ESCALATED, target=case)
    assert audit_log_intact()


def test_acknowledged_in_time_means_no_second_page(
    service_api: ApiClient, oncall: dict[str, Any], settings: Any
) -> None:
    with receiver(SECRET) as hook:
        settings.SAFEGUARD_PAGING_WEBHOOK_URL = hook.url
        service_api.post("/api/v1/escalations", EMERGENCY)
        run_tasks()
        page = Page.objects.get()
        client = ApiClient(None, None)
        sign_in_verified(client.client, oncall["first"])
        assert client.client.post(f"/api/v1/pages/{page.pk}/ack").status_code == 200

        run_tasks(within=ACK * 2)

        assert len(hook.received) == 1
        assert_audited(E.PAGE_ACKNOWLEDGED, target=page.case, actor=oncall["first"])
        assert Page.objects.count() == 1


def test_a_failing_receiver_is_retried_with_backoff_until_delivered(
    service_api: ApiClient, oncall: dict[str, Any], settings: Any
) -> None:
    with receiver(SECRET, fail_first=2) as hook:
        settings.SAFEGUARD_PAGING_WEBHOOK_URL = hook.url
        service_api.post("/api/v1/escalations", EMERGENCY)
        page = Page.objects.get()

        # The first attempt fails; its retry waits out its backoff (2 s by default).
        run_tasks()
        assert hook.refused == 1
        run_tasks(within=timedelta(seconds=1))
        assert hook.refused == 1
        # Well inside the acknowledgement window, the retries succeed.
        run_tasks(within=timedelta(minutes=1))

        assert hook.refused == 2
        assert len(hook.received) == 1
        page.refresh_from_db()
        assert page.delivered_at is not None
        assert page.webhook_attempts == 3
        failed = assert_audited_many(E.PAGE_DELIVERY_FAILED, count=2, target=page.case, actor=None)
        assert [(e.data["attempt"], e.data["webhook"][0]) for e in failed] == [(1, 503), (2, 503)]
        assert_audited(E.PAGE_DELIVERED, target=page.case, data={"attempt": 3})
        assert Page.objects.count() == 1  # nobody else was paged meanwhile


def test_someone_else_cannot_acknowledge_a_page(oncall: dict[str, Any]) -> None:
    page = PageFactory(recipient=oncall["first"])
    other = ApiClient(None, None)
    sign_in_verified(other.client, UserFactory(username="bystander"))
    before = last_event_id()

    response = other.client.post(f"/api/v1/pages/{page.pk}/ack")

    assert response.status_code == 404
    assert Page.objects.get().acknowledged_at is None
    assert last_event_id() == before


def test_acknowledge_with_the_console_button(oncall: dict[str, Any]) -> None:
    page = PageFactory(recipient=oncall["first"])
    console = Client()
    sign_in_verified(console, oncall["first"])

    listing = console.get("/pages/")
    assert listing.status_code == 200
    assert "Acknowledge" in listing.content.decode()
    assert console.post(f"/pages/{page.pk}/ack").status_code == 302

    assert Page.objects.get().acknowledged_by == oncall["first"]
    assert_audited(
        E.PAGE_ACKNOWLEDGED, target=page.case, actor=oncall["first"], source=AuditSource.CONSOLE
    )
    assert "Nothing is waiting" in console.get("/pages/").content.decode()
