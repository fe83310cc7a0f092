"""A service account confirms only the actions addressed to its own platform: another
platform's action answers exactly as one that does not exist, and confirming it changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import api_token_create
from safeguard.actions.models import Action
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case
from tests.audit_helpers import assert_audited, assert_audited_many, last_event_id
from tests.conftest import ApiClient, case_of, escalation_body
from tests.factories import UserFactory

OTHER = "elsewhere"


def service_of(platform: str) -> ApiClient:
    user = UserFactory(role=Role.SERVICE.value, platform=platform)
    token = api_token_create(user=user, name="test", actor=None, source=AuditSource.CLI)
    return ApiClient(user, token.plaintext)


def decided(service: ApiClient, specialist: ApiClient, n: int, actions: list[str]) -> str:
    created = service.post(
        "/api/v1/escalations",
        escalation_body(
            external_id=f"pc-{n}",
            category="other",
            summary="A report.",
            subjects=[{"platform_id": f"user:pc{n}", "role": "suspect"}],
            content=[{"platform_id": f"img:pc{n}", "kind": "image"}],
        ),
    )
    assert created.status_code == 201, created.content
    case_id = str(case_of(created.json()).pk)
    Case.objects.filter(pk=case_id).update(queue="general")
    assert specialist.post("/api/v1/queues/general/next", {}).json()["id"] == case_id
    decision = specialist.post(
        f"/api/v1/cases/{case_id}/decision",
        {"labels": ["grooming"], "reason": "grooming", "actions": actions},
    )
    assert decision.status_code == 200, decision.content
    return str(case_id)


@pytest.fixture
def two_platforms(specialist_api: ApiClient, settings: Any) -> dict[str, Any]:
    settings.SAFEGUARD_PLATFORM_WEBHOOK_URL = ""  # deliveries wait; confirmations come by API
    ours, theirs = service_of(settings.SAFEGUARD_PLATFORM), service_of(OTHER)
    our_case = decided(ours, specialist_api, 1, ["remove_content", "ban_account"])
    their_case = decided(theirs, specialist_api, 2, ["remove_content"])
    return {
        "ours": ours,
        "theirs": theirs,
        "our_removal": Action.objects.get(case_id=our_case, kind="remove_content"),
        "our_ban": Action.objects.get(case_id=our_case, kind="ban_account"),
        "their_removal": Action.objects.get(case_id=their_case, kind="remove_content"),
    }


def test_each_action_names_the_platform_that_owns_its_target(two_platforms: Any) -> None:
    assert two_platforms["our_removal"].platform == settings.SAFEGUARD_PLATFORM
    assert two_platforms["their_removal"].platform == OTHER
    # Account ids carry no platform yet: account actions go to the configured platform.
    assert two_platforms["our_ban"].platform == settings.SAFEGUARD_PLATFORM
    requested = assert_audited_many(AuditEventType.ACTION_REQUESTED, count=3)
    assert sorted(e.data["platform"] for e in requested) == sorted(
        [settings.SAFEGUARD_PLATFORM, settings.SAFEGUARD_PLATFORM, OTHER]
    )


@pytest.mark.parametrize("action", ["our_removal", "our_ban"])
def test_another_platforms_service_account_cannot_confirm_or_learn_of_an_action(
    two_platforms: Any, action: str
) -> None:
    theirs, target = two_platforms["theirs"], two_platforms[action]
    before = last_event_id()

    refused = theirs.post(f"/api/v1/actions/{target.pk}/confirm", {})
    absent_id = uuid.uuid4()
    absent = theirs.post(f"/api/v1/actions/{absent_id}/confirm", {})

    assert refused.status_code == absent.status_code == 404
    assert refused.json()["detail"].replace(str(target.pk), "<id>") == absent.json()[
        "detail"
    ].replace(str(absent_id), "<id>")
    assert Action.objects.get(pk=target.pk).status == "pending"
    assert last_event_id() == before


def test_each_platform_confirms_its_own(two_platforms: Any) -> None:
    ours, theirs = two_platforms["ours"], two_platforms["theirs"]

    mine = ours.post(f"/api/v1/actions/{two_platforms['our_removal'].pk}/confirm", {})
    their_own = theirs.post(f"/api/v1/actions/{two_platforms['their_removal'].pk}/confirm", {})
    not_mine = ours.post(f"/api/v1/actions/{two_platforms['their_removal'].pk}/confirm", {})

    assert (mine.status_code, mine.json()["status"]) == (200, "confirmed")
    assert (their_own.status_code, their_own.json()["status"]) == (200, "confirmed")
    assert not_mine.status_code == 404  # confirmed or not, it is not ours to see
    for who, action in ((ours, "our_removal"), (theirs, "their_removal")):
        assert_audited(
            AuditEventType.ACTION_CONFIRMED,
            actor=who.user,
            source=AuditSource.API,
            data={"action": str(two_platforms[action].pk), "kind": "remove_content"},
        )


def test_a_service_account_of_no_platform_confirms_nothing(two_platforms: Any) -> None:
    nobody = service_of("")

    response = nobody.post(f"/api/v1/actions/{two_platforms['our_removal'].pk}/confirm", {})

    assert response.status_code == 404
    assert Action.objects.get(pk=two_platforms["our_removal"].pk).status == "pending"


def test_the_service_itself_refuses_another_platforms_confirmation(two_platforms: Any) -> None:
    from safeguard.actions.selectors import ActionNotFound
    from safeguard.actions.services import action_confirm

    with pytest.raises(ActionNotFound):
        action_confirm(
            action=two_platforms["our_removal"],
            actor=two_platforms["theirs"].user,
            source=AuditSource.API,
        )
    assert Action.objects.get(pk=two_platforms["our_removal"].pk).status == "pending"
    # Safeguard itself (a delivery answered {"status": "done"}) confirms on its own authority.
    confirmed = action_confirm(
        action=two_platforms["our_removal"], actor=None, source=AuditSource.TASK
    )
    assert confirmed.status == "confirmed"
