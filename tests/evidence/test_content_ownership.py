"""Content ids belong to the platform that owns them: other sources reference, never poison."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.config.demo import pattern_png
from safeguard.evidence.models import Blob, ContentItem
from safeguard.intake.models import ContentClaim
from tests.audit_helpers import assert_audited, assert_not_audited
from tests.conftest import escalation_body

GENUINE = pattern_png("checkerboard", 5)
GENUINE_SHA = hashlib.sha256(GENUINE).hexdigest()
FORGED = pattern_png("stripes", 2)
FORGED_SHA = hashlib.sha256(FORGED).hexdigest()
ESCALATIONS = "/api/v1/escalations"


def _le_body(external_id: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return escalation_body(
        channel="law_enforcement",
        external_id=external_id,
        category="other",
        summary="An invented agency asks about an account.",
        subjects=[{"platform_id": "user:s1", "role": "suspect"}],
        content=content,
        law_enforcement={
            "agency": "Example County Police (invented)",
            "country": "GB",
            "request_type": "preservation",
            "contact": "duty-desk@example.invalid",
        },
    )


def _upload(client: Any, content_id: str, data: bytes) -> Any:
    return client.upload(
        f"/api/v1/content/{content_id}/media",
        {"file": SimpleUploadedFile("x.png", data, content_type="image/png")},
    )


def _platform_item(service_api: Any, external_id: str, **content: Any) -> tuple[Any, str]:
    response = service_api.post(
        ESCALATIONS,
        escalation_body(
            external_id=external_id, content=[{"platform_id": "img:1", "kind": "image", **content}]
        ),
    )
    assert response.status_code == 201, response.content
    return response, str(response.json()["content"][0]["id"])


def _other_platform(api_for: Any) -> Any:
    client = api_for(Role.SERVICE)
    client.user.platform = "another-platform"
    client.user.save(update_fields=["platform"])
    return client


def test_a_partner_naming_the_item_first_cannot_decide_its_hash(
    service_api: Any, api_for: Any
) -> None:
    partner = api_for(Role.LE_PARTNER)
    response = partner.post(
        ESCALATIONS,
        _le_body("le-1", [{"platform_id": "img:1", "kind": "image", "sha256": FORGED_SHA}]),
    )
    assert response.status_code == 201, response.content
    item = ContentItem.objects.get(platform_id="img:1")
    assert item.declared_sha256 == ""
    assert item.described_by_owner is False

    # The platform's genuine description and upload still work.
    _, content_id = _platform_item(service_api, "p-1", sha256=GENUINE_SHA)
    assert content_id == str(item.pk)
    assert _upload(service_api, content_id, GENUINE).status_code == 201
    item.refresh_from_db()
    assert item.blob_id == GENUINE_SHA
    assert item.declared_sha256 == GENUINE_SHA

    # The partner's differing hash is kept beside the item for a person to see.
    claim = ContentClaim.objects.get(content=item)
    assert claim.caller == partner.user
    assert claim.sha256 == FORGED_SHA
    assert_audited(
        AuditEventType.CONTENT_CLAIM_RECORDED,
        target=item,
        actor=partner.user,
        source=AuditSource.API,
        data={"escalation": str(claim.escalation_id), "kind": "image", "sha256": FORGED_SHA},
    )


def test_a_partner_naming_the_item_first_with_another_kind_does_not_fix_its_kind(
    service_api: Any, api_for: Any
) -> None:
    partner = api_for(Role.LE_PARTNER)
    partner.post(ESCALATIONS, _le_body("le-1", [{"platform_id": "img:1", "kind": "video"}]))

    response, _ = _platform_item(service_api, "p-1")

    assert response.status_code == 201
    item = ContentItem.objects.get(platform_id="img:1")
    assert item.kind == "image"
    assert item.described_by_owner is True


def test_a_partner_describing_a_known_item_differently_is_recorded_not_refused(
    service_api: Any, api_for: Any, snapshot_counts: Any
) -> None:
    _, content_id = _platform_item(service_api, "p-1", sha256=GENUINE_SHA)
    partner = api_for(Role.LE_PARTNER)

    response = partner.post(
        ESCALATIONS,
        _le_body("le-1", [{"platform_id": "img:1", "kind": "video", "sha256": FORGED_SHA}]),
    )

    assert response.status_code == 201, response.content
    item = ContentItem.objects.get(pk=content_id)
    assert (item.kind, item.declared_sha256) == ("image", GENUINE_SHA)
    claim = ContentClaim.objects.get(content=item)
    assert claim.differs == ["kind", "sha256"]
    # The partner learns nothing about the item from the answer.
    assert GENUINE_SHA not in response.content.decode()
    # And the owner's upload is unaffected.
    assert _upload(service_api, content_id, GENUINE).status_code == 201


def test_a_partner_reference_that_agrees_records_no_claim(service_api: Any, api_for: Any) -> None:
    _platform_item(service_api, "p-1", sha256=GENUINE_SHA)
    partner = api_for(Role.LE_PARTNER)

    partner.post(ESCALATIONS, _le_body("le-1", [{"platform_id": "img:1", "kind": "image"}]))

    assert ContentClaim.objects.count() == 0
    assert_not_audited(AuditEventType.CONTENT_CLAIM_RECORDED)


def test_another_platform_naming_the_same_id_gets_its_own_item(
    service_api: Any, api_for: Any
) -> None:
    other = _other_platform(api_for)
    response = other.post(
        ESCALATIONS,
        escalation_body(
            external_id="o-1",
            content=[{"platform_id": "img:1", "kind": "image", "sha256": FORGED_SHA}],
        ),
    )
    assert response.status_code == 201, response.content
    other_id = str(response.json()["content"][0]["id"])
    assert _upload(other, other_id, FORGED).status_code == 201

    _, content_id = _platform_item(service_api, "p-1", sha256=GENUINE_SHA)

    assert content_id != other_id
    assert _upload(service_api, content_id, GENUINE).status_code == 201
    assert ContentItem.objects.get(pk=content_id).blob_id == GENUINE_SHA
    assert ContentItem.objects.get(pk=other_id).blob_id == FORGED_SHA
    # Neither may give bytes to the other's item.
    assert _upload(other, content_id, FORGED).status_code == 404
    assert _upload(service_api, other_id, GENUINE).status_code == 404


def test_the_owner_describing_its_item_differently_is_refused_without_naming_the_hash(
    service_api: Any, snapshot_counts: Any
) -> None:
    _platform_item(service_api, "p-1", sha256=GENUINE_SHA)
    before = snapshot_counts()

    response = service_api.post(
        ESCALATIONS,
        escalation_body(
            external_id="p-2",
            content=[{"platform_id": "img:1", "kind": "video", "sha256": FORGED_SHA}],
        ),
    )

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "img:1" in detail
    assert GENUINE_SHA not in detail
    assert "image" not in detail.replace("img:1", "")
    assert snapshot_counts() == before


def test_a_partner_cannot_upload_bytes_at_all(service_api: Any, api_for: Any) -> None:
    _, content_id = _platform_item(service_api, "p-1")
    partner = api_for(Role.LE_PARTNER)

    response = _upload(partner, content_id, FORGED)

    assert response.status_code == 403
    assert Blob.objects.count() == 0
