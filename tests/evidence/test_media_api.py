"""Uploading media over the API into the vault, and the refusals that store nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.config.demo import pattern_png
from safeguard.evidence.models import ContentItem
from safeguard.evidence.services import vault
from tests.audit_helpers import assert_audited
from tests.conftest import escalation_body

IMAGE = pattern_png("checkerboard", 3)
SHA = hashlib.sha256(IMAGE).hexdigest()


def _file(data: bytes = IMAGE) -> SimpleUploadedFile:
    return SimpleUploadedFile("pattern.png", data, content_type="image/png")


def _content(service_api: Any, sha256: str | None = None, kind: str = "image") -> str:
    item: dict[str, Any] = {"platform_id": "img:1", "kind": kind}
    if sha256:
        item["sha256"] = sha256
    body = service_api.post("/api/v1/escalations", escalation_body(content=[item])).json()
    return str(body["content"][0]["id"])


def _url(content_id: str) -> str:
    return f"/api/v1/content/{content_id}/media"


def test_upload_stores_encrypted_bytes_and_audits(service_api: Any, vault_dir: Path) -> None:
    content_id = _content(service_api, SHA)

    response = service_api.upload(_url(content_id), {"file": _file()})

    assert response.status_code == 201, response.content
    assert response.json() == {
        "content_id": content_id,
        "sha256": SHA,
        "size": len(IMAGE),
        "stored": True,
    }
    assert ContentItem.objects.get(pk=content_id).blob_id == SHA
    assert vault().read(SHA) == IMAGE
    stored = vault().path(SHA).read_bytes()
    assert IMAGE[:64] not in stored
    event = assert_audited(
        AuditEventType.CONTENT_MEDIA_STORED,
        target=ContentItem.objects.get(pk=content_id),
        actor=service_api.user,
        source=AuditSource.API,
        data={"sha256": SHA, "size": len(IMAGE), "new_in_vault": True},
    )
    assert event.data["declared_type"] == "image/png"


def test_the_same_bytes_again_is_200(service_api: Any) -> None:
    content_id = _content(service_api)
    service_api.upload(_url(content_id), {"file": _file()})

    again = service_api.upload(_url(content_id), {"file": _file()})

    assert again.status_code == 200
    assert again.json()["stored"] is False


def _assert_unchanged(snapshot_counts: Any, before: dict[str, int], vault_dir: Path) -> None:
    assert snapshot_counts() == before
    assert not [p for p in vault_dir.rglob("*") if p.is_file()]


def test_bytes_not_matching_the_hash_declared_at_intake_are_refused(
    service_api: Any, snapshot_counts: Any, vault_dir: Path
) -> None:
    content_id = _content(service_api, "a" * 64)
    before = snapshot_counts()

    response = service_api.upload(_url(content_id), {"file": _file()})

    assert response.status_code == 422
    assert "a" * 64 in response.json()["detail"]
    assert SHA in response.json()["detail"]
    _assert_unchanged(snapshot_counts, before, vault_dir)


def test_bytes_not_matching_the_hash_sent_with_them_are_refused(
    service_api: Any, snapshot_counts: Any, vault_dir: Path
) -> None:
    content_id = _content(service_api)
    before = snapshot_counts()

    response = service_api.upload(_url(content_id), {"file": _file()}, sha256="b" * 64)

    assert response.status_code == 422
    _assert_unchanged(snapshot_counts, before, vault_dir)


def test_oversized_media_is_413(
    service_api: Any, snapshot_counts: Any, settings: Any, vault_dir: Path
) -> None:
    settings.SAFEGUARD_MAX_MEDIA_BYTES = 100
    content_id = _content(service_api)
    before = snapshot_counts()

    response = service_api.upload(_url(content_id), {"file": _file(b"x" * 101)})

    assert response.status_code == 413
    assert "100 bytes" in response.json()["detail"]
    _assert_unchanged(snapshot_counts, before, vault_dir)


def test_oversized_by_content_length_is_refused_before_reading(
    service_api: Any, settings: Any, vault_dir: Path
) -> None:
    settings.SAFEGUARD_MAX_MEDIA_BYTES = 100
    content_id = _content(service_api)

    response = service_api.upload(_url(content_id), {"file": _file(b"x" * 200_000)})

    assert response.status_code == 413


@pytest.mark.parametrize(
    ("files", "fields", "mentions"),
    [
        ({}, {}, "'file'"),
        ({"file": _file()}, {"sha256": "xyz"}, "sha256"),
    ],
)
def test_malformed_uploads_are_422(
    service_api: Any, snapshot_counts: Any, files: Any, fields: Any, mentions: str
) -> None:
    content_id = _content(service_api)
    before = snapshot_counts()

    response = service_api.upload(_url(content_id), files, **fields)

    assert response.status_code == 422
    assert mentions in response.json()["detail"]
    assert snapshot_counts() == before


def test_json_instead_of_multipart_is_422(service_api: Any) -> None:
    content_id = _content(service_api)

    response = service_api.post(_url(content_id), {"file": "not bytes"})

    assert response.status_code == 422
    assert "multipart" in response.json()["detail"]


def test_different_bytes_for_content_with_media_is_409(service_api: Any) -> None:
    content_id = _content(service_api)
    service_api.upload(_url(content_id), {"file": _file()})

    response = service_api.upload(_url(content_id), {"file": _file(b"other bytes")})

    assert response.status_code == 409
    assert ContentItem.objects.get(pk=content_id).blob_id == SHA


def test_text_content_takes_no_media(service_api: Any) -> None:
    content_id = _content(service_api, kind="message_thread")

    response = service_api.upload(_url(content_id), {"file": _file()})

    assert response.status_code == 422
    assert "message_thread" in response.json()["detail"]


def test_another_platforms_content_is_not_found(service_api: Any, api_for: Any) -> None:
    content_id = _content(service_api)
    other = api_for(Role.SERVICE)
    other.user.platform = "another-platform"
    other.user.save(update_fields=["platform"])

    response = other.upload(_url(content_id), {"file": _file()})

    assert response.status_code == 404
    assert ContentItem.objects.get(pk=content_id).blob_id is None


def test_a_second_service_account_of_the_same_platform_may_upload(
    service_api: Any, api_for: Any
) -> None:
    content_id = _content(service_api)
    colleague = api_for(Role.SERVICE)

    response = colleague.upload(_url(content_id), {"file": _file()})

    assert response.status_code == 201


def test_unknown_content_is_not_found(service_api: Any) -> None:
    response = service_api.upload(_url("00000000-0000-0000-0000-000000000000"), {"file": _file()})

    assert response.status_code == 404
