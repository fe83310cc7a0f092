"""The case page's law-enforcement panel: the requests about the case, a referral to the
police that keeps what was typed when refused, and the agency's acknowledgement."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from safeguard.accounts.permissions import Role
from safeguard.cases.models import Case, Queue
from safeguard.lawenforcement.models import LERequest, Referral
from tests.conftest import sign_in_verified
from tests.factories import UserFactory
from tests.lawenforcement import helpers as h

pytestmark = pytest.mark.django_db


def _console(role: Role) -> Client:
    client = Client()
    sign_in_verified(client, UserFactory(role=role.value))
    return client


def test_the_case_shows_its_requests_and_refers_with_the_work_kept(
    case_with_image: dict[str, Any],
) -> None:
    case_id = case_with_image["case_id"]
    staff = h.legal()
    partner_api = h.partner_api(h.partner(h.agency(staff), actor=staff))
    filed = partner_api.post(
        "/api/v1/escalations",
        {
            "channel": "law_enforcement",
            "external_id": "le-1",
            "category": "grooming",
            "summary": "Preservation of the suspect's account.",
            "subjects": [{"platform_id": "user:s1", "role": "suspect"}],
            "law_enforcement": h.le_block(request_type="preservation"),
        },
    )
    assert filed.status_code == 201, filed.content
    request = LERequest.objects.get(escalation_id=filed.json()["id"])
    # The request joined the suspect's case, and triage moved it; a lead routes it back.
    Case.objects.filter(pk=case_id).update(queue="general")
    specialist = _console(Role.SPECIALIST)

    page = specialist.get(f"/console/cases/{case_id}/").content.decode()
    assert request.reference in page
    assert f'href="/le/staff/requests/{request.pk}"' not in page  # legal staff only
    assert "Refer a child in imminent danger" in page

    url = f"/console/cases/{case_id}/referrals"
    refused = specialist.post(url, {"agency": "us-demo-emergency", "reason": "soon"}, follow=True)
    html = refused.content.decode()
    assert "10 characters" in html
    assert ">soon</textarea>" in html
    assert not Referral.objects.exists()

    reason = "The child says the adult is collecting her from school today."
    sent = specialist.post(url, {"agency": "gb-demo-emergency", "reason": reason}, follow=True)
    assert "e-mailed" in sent.content.decode()
    referral = Referral.objects.get()
    assert Case.objects.get(pk=case_id).first_action_at is not None

    ack_url = f"/console/cases/{case_id}/referrals/{referral.pk}/acknowledgement"
    done = specialist.post(ack_url, {"agency_reference": "GB-2026-17"}, follow=True)
    assert "GB-2026-17" in done.content.decode()
    assert Referral.objects.get().agency_reference == "GB-2026-17"

    # Legal staff see the cases of the queues they work (here, as a named member).
    Queue.objects.get(name="general").members.add(staff)
    lawyer = Client()
    sign_in_verified(lawyer, staff)
    assert (
        f'href="/le/staff/requests/{request.pk}"'
        in lawyer.get(f"/console/cases/{case_id}/").content.decode()
    )
