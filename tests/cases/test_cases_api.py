"""Reading cases over the API and in the console, with pinned query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from safeguard.accounts.permissions import Role
from tests.conftest import case_of, escalation_body, sign_in_verified
from tests.factories import UserFactory


def _file(service_api: Any, n: int, suspect: str) -> Any:
    return service_api.post(
        "/api/v1/escalations",
        escalation_body(
            external_id=f"e{n}",
            subjects=[{"platform_id": suspect, "role": "suspect"}],
            content=[{"platform_id": f"thread:{n}", "kind": "message_thread", "text": "hi"}],
        ),
    ).json()


def test_a_case_with_its_escalations_in_order(service_api: Any, specialist_api: Any) -> None:
    first = _file(service_api, 1, "user:a")
    second = _file(service_api, 2, "user:a")

    response = specialist_api.get(f"/api/v1/cases/{case_of(first).pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "triaged"
    assert body["suspects"] == ["user:a"]
    assert [e["id"] for e in body["escalations"]] == [first["id"], second["id"]]
    assert body["escalations"][1]["content"][0]["platform_id"] == "thread:2"


def test_an_unknown_case_is_404(specialist_api: Any) -> None:
    response = specialist_api.get("/api/v1/cases/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404


def test_an_invalid_case_id_is_422(specialist_api: Any) -> None:
    response = specialist_api.get("/api/v1/cases/not-a-uuid")
    assert response.status_code == 422
    assert "case_id" in response.json()["detail"]


@pytest.mark.parametrize("cases", [2, 8])
def test_the_case_list_query_count_does_not_grow_with_cases(
    service_api: Any,
    specialist_api: Any,
    django_assert_num_queries: Any,
    cases: int,
) -> None:
    for n in range(cases):
        _file(service_api, n, f"user:{n}")
        _file(service_api, 100 + n, f"user:{n}")

    # token lookup, token last-used update, the caller's queues (who sees which case), cases,
    # suspects, links, subjects, content, matches, content claims
    with django_assert_num_queries(10):
        response = specialist_api.get("/api/v1/cases", limit=50)

    assert response.status_code == 200
    assert len(response.json()) == cases


def test_a_signed_in_person_reads_cases_with_the_session(service_api: Any) -> None:
    created = _file(service_api, 1, "user:a")
    client = Client()
    sign_in_verified(client, UserFactory(role=Role.LEAD.value))

    assert client.get(f"/api/v1/cases/{case_of(created).pk}").status_code == 200
    home = client.get("/")
    assert home.status_code == 200
    assert str(case_of(created).pk) in home.content.decode()


def test_a_session_post_without_csrf_token_is_refused(db: None) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role=Role.LE_PARTNER.value))

    response = client.post(
        "/api/v1/escalations", data=escalation_body(), content_type="application/json"
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_the_console_requires_sign_in(client: Client, db: None) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sign_in_with_a_password(client: Client, db: None) -> None:
    UserFactory(username="sam", role=Role.SPECIALIST.value)

    response = client.post(
        "/accounts/login/", {"username": "sam", "password": "correct-horse-battery"}
    )

    assert response.status_code == 302
    # A specialist's password alone reaches only the second factor's enrolment.
    assert client.get("/")["Location"].startswith("/accounts/2fa/setup/")


def test_healthz(client: Client, db: None) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
