"""A caller who files escalations but may not read cases learns only its own escalation."""

from __future__ import annotations

import json
from typing import Any

from safeguard.accounts.permissions import Role
from tests.conftest import case_of, escalation_body

URL = "/api/v1/escalations"
LE_BLOCK = {
    "agency": "Example Borough Police (invented)",
    "country": "GB",
    "request_type": "preservation",
    "contact": "desk@police.example",
}


def _le(external_id: str, **overrides: Any) -> dict[str, Any]:
    return escalation_body(
        channel="law_enforcement",
        external_id=external_id,
        category="other",
        summary="An invented agency asks about an account.",
        law_enforcement=LE_BLOCK,
        **overrides,
    )


def test_a_partner_naming_a_known_suspect_learns_nothing_of_the_case(
    service_api: Any, api_for: Any
) -> None:
    # The platform's report about the suspect, with an image that matches nothing yet.
    platform = service_api.post(
        URL,
        escalation_body(
            category="sextortion",
            summary="Threats to share images unless paid.",
            content=[{"platform_id": "img:known", "kind": "image", "sha256": "a" * 64}],
        ),
    )
    case = case_of(platform)
    partner = api_for(Role.LE_PARTNER)

    response = partner.post(
        URL,
        _le(
            "le-7",
            subjects=[{"platform_id": "user:s1", "role": "suspect"}],
            content=[{"platform_id": "img:known", "kind": "image"}],
        ),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {"id": body["id"], "status": "accepted", "content": []}
    text = response.content.decode()
    for secret in (str(case.pk), case.priority, case.explanation, "a" * 64):
        assert secret not in text
    # The escalation did join the suspect's case: the team sees it there.
    assert case_of(body) == case


def test_the_platform_learns_its_own_content_ids_and_not_the_triage(service_api: Any) -> None:
    response = service_api.post(URL, escalation_body(category="imminent_danger"))

    body = response.json()
    assert set(body) == {"id", "status", "content"}
    assert [c["platform_id"] for c in body["content"]] == ["thread:1"]
    case = case_of(body)
    assert case.priority == "P0"
    assert "P0" not in json.dumps(body)
    assert str(case.pk) not in json.dumps(body)


def test_a_conflict_names_only_what_the_caller_sent(service_api: Any) -> None:
    service_api.post(URL, escalation_body(external_id="x-1"))

    response = service_api.post(URL, escalation_body(external_id="x-1", summary="Changed."))

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "x-1" in detail
    assert "case" not in detail.lower()
