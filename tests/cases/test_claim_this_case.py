"""Claiming the very case one was linked to (from the P0 banner or a page), not the queue's next."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case
from safeguard.cases.queues import ClaimError, Held, case_claim
from safeguard.cases.workflow import CaseState
from safeguard.rota.models import Page
from tests.audit_helpers import assert_audited
from tests.cases.test_queues import file, force
from tests.conftest import ApiClient, sign_in_verified
from tests.factories import PageFactory, UserFactory

LEASE = timedelta(minutes=10)


def test_the_case_is_claimed_even_when_a_more_urgent_one_waits(
    service_api: ApiClient, specialist_api: ApiClient
) -> None:
    now = timezone.now()
    urgent, linked = (file(service_api, n)["case_id"] for n in range(2))
    force(urgent, priority="P0", queue="emergency", first_action_due=now + timedelta(minutes=2))
    force(linked, priority="P0", queue="emergency", first_action_due=now + timedelta(minutes=9))
    user = specialist_api.user
    assert user is not None

    claimed = case_claim(
        case=Case.objects.get(pk=linked), actor=user, lease=LEASE, source=AuditSource.CONSOLE
    )

    assert str(claimed.pk) == linked
    assert (claimed.state, claimed.holder_id) == (CaseState.IN_REVIEW, user.pk)
    assert Case.objects.get(pk=urgent).holder_id is None
    assert_audited(AuditEventType.CASE_CLAIMED, target=claimed, actor=user)
    # Claiming is not acting: the first-action clock runs on.
    assert claimed.first_action_at is None


def test_a_case_someone_holds_or_a_queue_one_does_not_work_is_refused_and_nothing_changes(
    service_api: ApiClient, specialist_api: ApiClient
) -> None:
    held, foreign = (file(service_api, n)["case_id"] for n in range(2))
    other = UserFactory(role=Role.SPECIALIST.value)
    force(held, queue="general")
    force(foreign, queue="le-requests")
    case_claim(case=Case.objects.get(pk=held), actor=other, lease=LEASE, source=AuditSource.API)
    user = specialist_api.user
    assert user is not None

    with pytest.raises(Held, match="not waiting"):
        case_claim(case=Case.objects.get(pk=held), actor=user, lease=LEASE, source=AuditSource.API)
    with pytest.raises(ClaimError, match="does not work the le-requests queue"):
        case_claim(
            case=Case.objects.get(pk=foreign), actor=user, lease=LEASE, source=AuditSource.API
        )

    assert Case.objects.get(pk=held).holder_id == other.pk
    assert Case.objects.get(pk=foreign).holder_id is None


def test_claim_this_case_in_the_console_answers_its_page(service_api: ApiClient) -> None:
    case_id = file(service_api, 1)["case_id"]
    force(case_id, priority="P0", queue="emergency")
    specialist = UserFactory(role=Role.SPECIALIST.value)
    page = PageFactory(case=Case.objects.get(pk=case_id), recipient=specialist)
    console = Client()
    sign_in_verified(console, specialist)

    shown = console.get(f"/console/cases/{case_id}/").content.decode()
    response = console.post(f"/console/cases/{case_id}/claim")

    assert "Claim this case" in shown
    assert response.status_code == 302
    assert Case.objects.get(pk=case_id).holder_id == specialist.pk
    assert Page.objects.get(pk=page.pk).acknowledged_by_id == specialist.pk
