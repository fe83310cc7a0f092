"""The whole P0 path against a real HTTP receiver: intake, P0, page, no answer, second page."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType
from safeguard.audit.models import AuditEvent
from safeguard.audit.selectors import audit_chain_verify
from safeguard.rota.models import Page
from tests.conftest import ApiClient, case_of, escalation_body, sign_in_verified
from tests.factories import UserFactory
from tests.receiver import receiver

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


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, interval=0.01, verbosity=0)


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
    settings.SAFEGUARD_PAGE_ACK_SECONDS = 1
    settings.SAFEGUARD_WEBHOOK_BACKOFF_SECONDS = 0.05
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return people


def test_unacknowledged_p0_pages_the_next_person_and_the_lead(
    service_api: ApiClient, oncall: dict[str, Any], settings: Any
) -> None:
    with receiver(SECRET) as hook:
        settings.SAFEGUARD_PAGING_WEBHOOK_URL = hook.url

        created = service_api.post("/api/v1/escalations", EMERGENCY)
        assert created.status_code == 201
        assert case_of(created.json()).priority == "P0"

        run_worker()
        assert [b["to"] for b in hook.bodies()] == ["first.oncall"]
        assert all(r.signature_ok for r in hook.received)
        assert hook.bodies()[0]["case_id"] == str(case_of(created.json()).pk)
        assert [m.to for m in mail.outbox] == [["first@safeguard.example"]]

        time.sleep(1.2)  # the acknowledgement window passes with no answer
        run_worker()

        assert sorted(b["to"] for b in hook.bodies()[1:]) == ["second.oncall", "the.lead"]
        assert {b["round"] for b in hook.bodies()[1:]} == {1}
        assert AuditEvent.objects.filter(event_type=AuditEventType.PAGE_ESCALATED).count() == 1

        # The second person acknowledges through the API; the incident is answered.
        second_page = Page.objects.get(recipient=oncall["second"])
        client = ApiClient(None, None)
        sign_in_verified(client.client, oncall["second"])
        acked = client.client.post(f"/api/v1/pages/{second_page.pk}/ack")
        assert acked.status_code == 200, acked.content
        assert not Page.objects.filter(acknowledged_at__isnull=True).exists()

        time.sleep(1.2)
        run_worker()
        # Acknowledged: the next check pages nobody else.
        assert len(hook.received) == 3
    assert audit_chain_verify().ok


def test_acknowledged_in_time_means_no_second_page(
    service_api: ApiClient, oncall: dict[str, Any], settings: Any
) -> None:
    with receiver(SECRET) as hook:
        settings.SAFEGUARD_PAGING_WEBHOOK_URL = hook.url
        service_api.post("/api/v1/escalations", EMERGENCY)
        run_worker()
        page = Page.objects.get()
        client = ApiClient(None, None)
        sign_in_verified(client.client, oncall["first"])
        assert client.client.post(f"/api/v1/pages/{page.pk}/ack").status_code == 200

        time.sleep(1.2)
        run_worker()

        assert len(hook.received) == 1
        assert AuditEvent.objects.filter(event_type=AuditEventType.PAGE_ACKNOWLEDGED).count() == 1


def test_a_failing_receiver_is_retried_with_backoff_until_delivered(
    service_api: ApiClient, oncall: dict[str, Any], settings: Any
) -> None:
    with receiver(SECRET, fail_first=2) as hook:
        settings.SAFEGUARD_PAGING_WEBHOOK_URL = hook.url
        settings.SAFEGUARD_PAGE_ACK_SECONDS = 60
        service_api.post("/api/v1/escalations", EMERGENCY)

        for _ in range(3):
            run_worker()
            time.sleep(0.3)

        assert hook.refused == 2
        assert len(hook.received) == 1
        page = Page.objects.get()
        assert page.delivered_at is not None
        assert page.webhook_attempts == 3
        assert (
            AuditEvent.objects.filter(event_type=AuditEventType.PAGE_DELIVERY_FAILED).count() == 2
        )


def test_someone_else_cannot_acknowledge_a_page(
    service_api: ApiClient, oncall: dict[str, Any], settings: Any
) -> None:
    settings.SAFEGUARD_PAGING_WEBHOOK_URL = ""
    service_api.post("/api/v1/escalations", EMERGENCY)
    page = Page.objects.get()
    other = ApiClient(None, None)
    sign_in_verified(other.client, UserFactory(username="bystander"))

    response = other.client.post(f"/api/v1/pages/{page.pk}/ack")

    assert response.status_code == 404
    assert Page.objects.get().acknowledged_at is None


def test_acknowledge_with_the_console_button(
    service_api: ApiClient, oncall: dict[str, Any], settings: Any
) -> None:
    from django.test import Client

    settings.SAFEGUARD_PAGING_WEBHOOK_URL = ""
    service_api.post("/api/v1/escalations", EMERGENCY)
    page = Page.objects.get()
    console = Client()
    sign_in_verified(console, oncall["first"])

    listing = console.get("/pages/")
    assert listing.status_code == 200
    assert "Acknowledge" in listing.content.decode()
    assert console.post(f"/pages/{page.pk}/ack").status_code == 302

    assert Page.objects.get().acknowledged_by == oncall["first"]
    assert "Nothing is waiting" in console.get("/pages/").content.decode()
