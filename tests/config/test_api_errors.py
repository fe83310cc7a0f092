"""Every error under /api/ is JSON: Django's 404, 405, 400 and 500 pages, and oversized bodies
refused with a 413 before they are read; the console keeps its HTML pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from safeguard.config.urls import urlpatterns as real_urlpatterns
from tests.conftest import ApiClient, escalation_body


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


# The real routes plus one that fails, for the 500 test (pytest.mark.urls(__name__)).
urlpatterns = [path("api/v1/test-boom", _boom), *real_urlpatterns]


def _assert_json(response: Any, status: int, mentions: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = json.loads(response.content)
    assert mentions in body["detail"], body
    if response.has_header("Content-Length"):
        assert int(response["Content-Length"]) == len(response.content)
    return body


@pytest.mark.parametrize("url", ["/api/v1/no-such-thing", "/api/v1/cases/not-a-uuid/x", "/api/x"])
def test_an_unknown_api_path_is_a_json_404(db: None, url: str) -> None:
    response = Client().get(url)

    _assert_json(response, 404, f"no API endpoint at {url}")
    # The headers the outer middleware add are kept.
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_method_the_route_does_not_take_is_a_json_405(db: None) -> None:
    response = Client().delete("/api/v1/escalations")

    _assert_json(response, 405, "DELETE is not allowed on /api/v1/escalations (allowed: POST)")
    assert response["Allow"] == "POST"


def test_a_console_404_stays_an_html_page(db: None) -> None:
    response = Client().get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


TWELVE_MB = 12 * 1024 * 1024


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/xml"])
@pytest.mark.parametrize("authenticated", [True, False])
def test_a_12_mb_body_is_a_json_413_before_it_is_read(
    service_api: ApiClient,
    snapshot_counts: Callable[[], dict[str, int]],
    content_type: str,
    authenticated: bool,
) -> None:
    body = escalation_body(summary="x" * TWELVE_MB)
    before = snapshot_counts()
    headers = {"Authorization": f"Bearer {service_api.token}"} if authenticated else {}

    response = Client().post(
        "/api/v1/escalations", data=json.dumps(body), content_type=content_type, headers=headers
    )

    _assert_json(response, 413, f"larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes")
    assert snapshot_counts() == before


@pytest.mark.parametrize("path", ["/api/v1/match", "/api/v1/triage/explain", "/api/v1/banks"])
def test_every_json_endpoint_refuses_an_oversized_body(
    db: None, snapshot_counts: Callable[[], dict[str, int]], path: str
) -> None:
    before = snapshot_counts()

    response = Client().post(
        path, data=b"[" + b"0," * (TWELVE_MB // 2) + b"0]", content_type="application/json"
    )

    _assert_json(response, 413, "larger than")
    assert snapshot_counts() == before


def test_an_oversized_multipart_field_is_a_json_413(
    service_api: ApiClient, snapshot_counts: Callable[[], dict[str, int]]
) -> None:
    # Multipart bodies may carry media larger than the limit, so they are not refused by their
    # length; a text field over the limit still is, by Django, and answered as JSON.
    before = snapshot_counts()

    response = Client().post(
        "/api/v1/match",
        {"kind": "i" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
        headers={"Authorization": f"Bearer {service_api.token}"},
    )

    _assert_json(response, 413, "larger than")
    assert snapshot_counts() == before


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "١٢"])
def test_a_content_length_that_is_not_a_number_is_a_json_400(
    service_api: ApiClient, snapshot_counts: Callable[[], dict[str, int]], length: str
) -> None:
    before = snapshot_counts()

    response = Client().generic(
        "POST",
        "/api/v1/escalations",
        data=json.dumps(escalation_body()),
        content_type="application/json",
        headers={"Authorization": f"Bearer {service_api.token}"},
        CONTENT_LENGTH=length,
    )

    _assert_json(response, 400, "Content-Length header must be a whole number")
    assert snapshot_counts() == before


def test_a_suspicious_request_is_a_json_400(db: None) -> None:
    response = Client().get("/api/v1/me", headers={"Host": "attacker.example"})

    _assert_json(response, 400, "bad request")


@pytest.mark.urls(__name__)
def test_an_unhandled_exception_is_a_json_500_that_leaks_nothing(db: None) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/test-boom")

    body = _assert_json(response, 500, "internal server error")
    assert "a bug in a view" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert set(body) == {"detail"}
