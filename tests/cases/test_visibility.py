"""Who sees which case: the queues one may work, the cases one holds or decided, and the
unrouted cases a lead must route; everything else answers as if it did not exist."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from safeguard.accounts.permissions import Role
from safeguard.cases.models import Case, Queue
from tests.conftest import ApiClient, sign_in_verified
from tests.factories import DecisionFactory, filed_case


def _case(service_api: ApiClient, n: int, queue: str, suspect: str | None = None) -> str:
    case = filed_case(
        caller=service_api.user,
        queue=queue,
        subjects=[{"platform_id": suspect or f"user:v{n}", "role": "suspect"}],
    )
    return str(case.pk)


@pytest.mark.parametrize("queue", ["", "a-queue-nobody-created"])
def test_an_unrouted_case_is_seen_by_leads_only(
    service_api: ApiClient, api_for: Any, queue: str
) -> None:
    case = _case(service_api, 1, queue)

    seen = {
        role: api_for(role).get(f"/api/v1/cases/{case}").status_code
        for role in (Role.LEAD, Role.SPECIALIST, Role.LEGAL, Role.AUDITOR)
    }

    assert seen == {Role.LEAD: 200, Role.SPECIALIST: 404, Role.LEGAL: 404, Role.AUDITOR: 404}


def test_a_named_member_sees_the_queue_and_others_of_the_role_do_not(
    service_api: ApiClient, api_for: Any
) -> None:
    case = _case(service_api, 1, "le-requests")
    member, other = api_for(Role.SPECIALIST), api_for(Role.SPECIALIST)
    Queue.objects.get(name="le-requests").members.add(member.user)

    assert member.get(f"/api/v1/cases/{case}").status_code == 200
    assert other.get(f"/api/v1/cases/{case}").status_code == 404


def test_a_person_a_lead_hands_a_case_to_sees_it_while_holding_it(
    service_api: ApiClient, api_for: Any
) -> None:
    case = _case(service_api, 1, "le-requests")
    lead, specialist = api_for(Role.LEAD), api_for(Role.SPECIALIST)
    assert specialist.get(f"/api/v1/cases/{case}").status_code == 404

    handed = lead.post(
        f"/api/v1/cases/{case}/reassign",
        {"to_user": specialist.user.username, "reason": "needs a grooming specialist"},
    )
    assert handed.status_code == 200, handed.content
    assert specialist.get(f"/api/v1/cases/{case}").status_code == 200

    # Giving it back ends the access. (The release endpoint re-reads the case after the change,
    # so its own answer is already the 404 of a case the caller no longer sees.)
    specialist.post(f"/api/v1/cases/{case}/claim/release", {})

    assert Case.objects.get(pk=case).holder is None
    assert specialist.get(f"/api/v1/cases/{case}").status_code == 404


def test_who_escalated_a_case_to_the_lead_queue_still_sees_it(
    service_api: ApiClient, api_for: Any
) -> None:
    case = _case(service_api, 1, "general")
    specialist, colleague = api_for(Role.SPECIALIST), api_for(Role.SPECIALIST)
    assert specialist.post("/api/v1/queues/general/next", {}).status_code == 200

    escalated = specialist.post(f"/api/v1/cases/{case}/escalate", {"note": "please look"})

    assert escalated.status_code == 200, escalated.content
    assert escalated.json()["queue"] == "lead"
    assert specialist.get(f"/api/v1/cases/{case}").status_code == 200
    assert colleague.get(f"/api/v1/cases/{case}").status_code == 404


def test_a_disabled_account_sees_nothing(service_api: ApiClient, db: None) -> None:
    from tests.factories import UserFactory

    case = _case(service_api, 1, "general")
    user = UserFactory(role=Role.LEAD.value)
    client = Client()
    sign_in_verified(client, user)
    assert client.get(f"/api/v1/cases/{case}").status_code == 200

    type(user).objects.filter(pk=user.pk).update(is_active=False)

    assert client.get(f"/api/v1/cases/{case}").status_code in (401, 403, 404)


def test_the_case_page_shows_earlier_decisions_only_from_cases_one_may_see(
    service_api: ApiClient, db: None
) -> None:
    from tests.factories import UserFactory

    lead = UserFactory(role=Role.LEAD.value)
    earlier = _case(service_api, 1, "le-requests", suspect="user:repeat")
    DecisionFactory(
        case=Case.objects.get(pk=earlier),
        decided_by=lead,
        labels=["sextortion"],
        reason="confidential law-enforcement matter",
    )
    Case.objects.filter(pk=earlier).update(state="closed")
    later = _case(service_api, 2, "general", suspect="user:repeat")
    assert later != earlier

    def page(role: Role) -> str:
        client = Client()
        sign_in_verified(client, UserFactory(role=role.value))
        response = client.get(f"/console/cases/{later}/")
        assert response.status_code == 200
        return response.content.decode()

    assert "earlier: Sextortion" in page(Role.LEAD)
    assert "earlier: Sextortion" not in page(Role.SPECIALIST)
