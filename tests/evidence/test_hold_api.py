"""The legal-hold API: placing, extending, releasing and reading holds; deleting stored content
(409 naming the holds, bytes kept); recording and approving a destruction with two people."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.evidence.models import ContentTombstone, LegalHold
from safeguard.evidence.store import vault
from tests.audit_helpers import assert_audited, assert_not_audited
from tests.conftest import ApiClient
from tests.evidence.factories_holds import hold_on, image_item, vault_files

Capture = Callable[..., Any]
MakeApi = Callable[[Role], ApiClient]


@pytest.fixture
def legal_api(api_for: MakeApi) -> ApiClient:
    return api_for(Role.LEGAL)


def _later(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def test_legal_places_extends_and_releases_a_hold(legal_api: ApiClient) -> None:
    item = image_item()
    placed = legal_api.post(
        "/api/v1/holds",
        {
            "target_type": "content",
            "target_id": str(item.pk),
            "reason": "Preservation request (fictional agency)",
            "source": "request",
            "source_reference": "LE-REQ-9",
            "ends_at": _later(90),
        },
    )
    assert placed.status_code == 201, placed.content
    body = placed.json()
    assert body["state"] == "in force"
    assert body["placed_by"] == legal_api.user.username  # type: ignore[union-attr]
    hold_id = body["id"]
    assert_audited(
        AuditEventType.LEGAL_HOLD_PLACED,
        target=("legal_hold", hold_id),
        actor=legal_api.user,
        source=AuditSource.API,
    )

    extended = legal_api.post(
        f"/api/v1/holds/{hold_id}/extend", {"ends_at": _later(180), "reason": "one extension"}
    )
    assert extended.status_code == 200, extended.content
    assert len(extended.json()["extensions"]) == 1
    assert_audited(
        AuditEventType.LEGAL_HOLD_EXTENDED, target=("legal_hold", hold_id), source=AuditSource.API
    )

    covering = legal_api.get(f"/api/v1/content/{item.pk}/holds").json()
    assert [h["id"] for h in covering] == [hold_id]

    released = legal_api.post(f"/api/v1/holds/{hold_id}/release", {"reason": "withdrawn"})
    assert released.status_code == 200
    assert released.json()["state"] == "released"
    again = legal_api.post(f"/api/v1/holds/{hold_id}/release", {"reason": "withdrawn"})
    assert again.status_code == 409
    assert "cannot release a released hold" in again.json()["detail"]
    assert legal_api.get("/api/v1/holds", active=True).json() == []


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"target_type": "account"}, 422, "target_type"),
        ({"reason": ""}, 422, "reason"),
        ({"ends_at": "2020-01-01T00:00:00Z"}, 422, "is not in the future"),
        ({"ends_at": 1767225600}, 422, "ISO-8601"),
        ({"source_reference": ""}, 422, "give the request's id"),
    ],
)
def test_a_bad_hold_is_a_precise_422_and_places_nothing(
    legal_api: ApiClient, changes: dict[str, Any], status: int, words: str
) -> None:
    body = {
        "target_type": "content",
        "target_id": str(image_item().pk),
        "reason": "x",
        "source": "request",
        "source_reference": "R-1",
        **changes,
    }
    response = legal_api.post("/api/v1/holds", body)
    assert response.status_code == status, response.content
    assert words in json.dumps(response.json())
    assert not LegalHold.objects.exists()


def test_deleting_held_content_over_the_api_is_409_naming_the_hold(
    legal_api: ApiClient, django_capture_on_commit_callbacks: Capture
) -> None:
    item = image_item()
    hold = hold_on(item, reason="Preserve for the Example Police (fictional)")

    with django_capture_on_commit_callbacks(execute=True):
        response = legal_api.post(f"/api/v1/content/{item.pk}/deletion", {"reason": "tidy"})

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert str(hold.pk) in detail
    assert "Preserve for the Example Police (fictional)" in detail
    assert "request LE-REQ-0001" in detail
    assert item.blob_id in vault_files()
    assert vault().read(item.blob_id or "")
    assert not ContentTombstone.objects.exists()
    assert_not_audited(AuditEventType.CONTENT_DELETED)


def test_deleting_unheld_media_over_the_api(
    legal_api: ApiClient, django_capture_on_commit_callbacks: Capture
) -> None:
    item = image_item()
    with django_capture_on_commit_callbacks(execute=True):
        response = legal_api.post(
            f"/api/v1/content/{item.pk}/deletion", {"reason": "no case", "parts": ["media"]}
        )
    assert response.status_code == 201, response.content
    assert response.json()["media_sha256"] == item.blob_id
    assert item.blob_id not in vault_files()
    assert_audited(
        AuditEventType.CONTENT_DELETED, target=item, actor=legal_api.user, source=AuditSource.API
    )


def test_deletion_needs_a_reason_and_a_known_part(legal_api: ApiClient) -> None:
    item = image_item()
    assert legal_api.post(f"/api/v1/content/{item.pk}/deletion", {}).status_code == 422
    bad = legal_api.post(f"/api/v1/content/{item.pk}/deletion", {"reason": "x", "parts": ["bytes"]})
    assert bad.status_code == 422
    missing = legal_api.post(f"/api/v1/content/{uuid.uuid4()}/deletion", {"reason": "x"})
    assert missing.status_code == 404
    assert item.blob_id in vault_files()


def test_other_roles_cannot_touch_holds_or_delete(api_for: MakeApi) -> None:
    item = image_item()
    lead = api_for(Role.LEAD)
    assert lead.get("/api/v1/holds").status_code == 200
    assert lead.post(f"/api/v1/content/{item.pk}/deletion", {"reason": "x"}).status_code == 403
    assert (
        lead.post(
            "/api/v1/holds",
            {
                "target_type": "content",
                "target_id": str(item.pk),
                "reason": "x",
                "source": "manual",
            },
        ).status_code
        == 403
    )
    assert api_for(Role.SPECIALIST).get("/api/v1/holds").status_code == 403


def test_destruction_over_the_api_needs_two_legal_people(
    api_for: MakeApi, django_capture_on_commit_callbacks: Capture
) -> None:
    item = image_item()
    hold = hold_on(item)
    recorder, approver = api_for(Role.LEGAL), api_for(Role.LEGAL)
    recorded = recorder.post(
        "/api/v1/destructions",
        {
            "content_ids": [str(item.pk)],
            "request_reference": "EXPD-1 (fictional)",
            "agency": "Example Police (fictional)",
            "reason": "destroy the reported depictions",
        },
    )
    assert recorded.status_code == 201, recorded.content
    destruction_id = recorded.json()["id"]

    own = recorder.post(f"/api/v1/destructions/{destruction_id}/approve")
    assert own.status_code == 403
    assert "a different person with the legal role must approve" in own.json()["detail"]
    assert item.blob_id in vault_files()

    with django_capture_on_commit_callbacks(execute=True):
        approved = approver.post(f"/api/v1/destructions/{destruction_id}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["destroyed"][0]["media_sha256"] == item.blob_id
    assert item.blob_id not in vault_files()
    assert_audited(
        AuditEventType.DESTRUCTION_APPROVED,
        target=("destruction", destruction_id),
        actor=approver.user,
        data={"overrode_holds": [str(hold.pk)]},
    )
    listed = recorder.get("/api/v1/destructions").json()
    assert listed[0]["approved_by"] == approver.user.username  # type: ignore[union-attr]
