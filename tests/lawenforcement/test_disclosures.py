"""Disclosures: what each process may get, four eyes, the encrypted one-time download, and a
package that verifies with the audit log's public key alone."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_sequence, public_key
from safeguard.evidence.custody import decrypt_package, verify_package
from safeguard.evidence.models import ContentItem
from safeguard.lawenforcement.disclosures import (
    DisclosureRefused,
    FourEyes,
    LinkNotFound,
    disclosure_approve,
    disclosure_download,
    disclosure_prepare,
    disclosure_release,
    ordered_categories,
)
from safeguard.lawenforcement.models import LERequest, Verification
from safeguard.lawenforcement.request_types import DataCategory
from safeguard.lawenforcement.services import le_request_determine_emergency, le_request_transition
from safeguard.lawenforcement.workflow import RequestTransition
from tests.audit_helpers import assert_audited
from tests.conftest import escalation_body
from tests.lawenforcement import helpers as h

E = AuditEventType
C = DataCategory
pytestmark = pytest.mark.django_db
URL = "/api/v1/escalations"
IMAGE_ID = "image:demo-1"


@pytest.fixture
def world(service_api: Any) -> dict[str, Any]:
    """A suspect with a message thread and an image on file, an agency with a verified partner
    and two legal staff."""
    filed = service_api.post(
        URL,
        escalation_body(
            content=[
                {"platform_id": "thread:1", "kind": "message_thread", "text": "how old are you?"},
                {"platform_id": IMAGE_ID, "kind": "image"},
            ]
        ),
    )
    assert filed.status_code == 201, filed.content
    content_id = next(c["id"] for c in filed.json()["content"] if c["platform_id"] == IMAGE_ID)
    stored = service_api.upload(
        f"/api/v1/content/{content_id}/media", {"file": ("a.png", io.BytesIO(h.png_bytes()))}
    )
    assert stored.status_code == 201, stored.content
    preparer, approver = h.legal("pat.prepares"), h.legal("alex.approves")
    agency = h.agency(preparer)
    partner = h.partner(agency, actor=preparer)
    return {
        "preparer": preparer,
        "approver": approver,
        "partner": partner,
        "api": h.partner_api(partner),
    }


def _request(world: dict[str, Any], legal_type: str, **fields: str) -> LERequest:
    response = world["api"].post(
        URL,
        escalation_body(
            external_id=f"le-{legal_type}",
            channel="law_enforcement",
            category="grooming",
            subjects=[{"platform_id": "user:s1", "role": "suspect"}],
            content=[],
            law_enforcement=h.le_block(
                request_type="legal_process"
                if "emergency" not in legal_type
                else "emergency_disclosure",
                legal_type=legal_type,
                fields={"case_number": "2026-CR-0042", **fields},
            ),
        ),
    )
    assert response.status_code == 201, response.content
    request = LERequest.objects.get(escalation_id=response.json()["id"])
    staff = world["preparer"]
    le_request_transition(
        request=request,
        transition=RequestTransition.START_VERIFICATION,
        actor=staff,
        source=AuditSource.API,
    )
    h.verify(request, staff)
    return le_request_transition(
        request=request, transition=RequestTransition.VERIFY, actor=staff, source=AuditSource.API
    )


def _prepare(world: dict[str, Any], request: LERequest, categories: list[C], **kw: Any) -> Any:
    return disclosure_prepare(
        request=request,
        categories=categories,
        actor=world["preparer"],
        source=AuditSource.API,
        **kw,
    )


def test_a_subpoena_gets_basic_subscriber_information_only(world: dict[str, Any]) -> None:
    request = _request(world, "us_subpoena", return_date="2027-01-15")

    for category in (C.RECORDS, C.CONTENT):
        with pytest.raises(DisclosureRefused, match=r"2703\(c\)\(2\)"):
            _prepare(world, request, [C.SUBSCRIBER, category])
    disclosure = _prepare(world, request, [C.SUBSCRIBER])
    assert [i["category"] for i in disclosure.items] == ["subscriber"]


def test_a_2703d_order_gets_records_but_not_content(world: dict[str, Any]) -> None:
    request = _request(world, "us_court_order_2703d")

    with pytest.raises(DisclosureRefused, match="search warrant"):
        _prepare(world, request, [C.CONTENT])
    disclosure = _prepare(world, request, [C.SUBSCRIBER, C.RECORDS])
    assert sorted(i["category"] for i in disclosure.items) == ["records", "subscriber"]


def test_emergency_content_needs_the_good_faith_determination(world: dict[str, Any]) -> None:
    request = _request(world, "us_emergency_disclosure", danger="A meeting is planned tonight.")

    with pytest.raises(DisclosureRefused, match="determination"):
        _prepare(world, request, [C.CONTENT])
    le_request_determine_emergency(
        request=request,
        emergency=True,
        reasons="A child is to meet the suspect tonight; location needed now.",
        actor=world["preparer"],
        source=AuditSource.API,
    )
    disclosure = _prepare(world, request, [C.CONTENT])
    # Text content goes; media (abuse material) is withheld without a warrant.
    assert [i["path"] for i in disclosure.items] == ["files/content/thread_1.txt"]
    assert any("withheld" in note for note in disclosure.prepared_blobs["notes"])


def test_media_goes_only_under_a_warrant_with_a_reason(world: dict[str, Any]) -> None:
    order = _request(world, "us_court_order_2703d")
    with pytest.raises(DisclosureRefused, match="search warrant"):
        _prepare(world, order, [C.RECORDS], media_reason="needed")

    warrant = _request(world, "us_search_warrant")
    disclosure = _prepare(
        world, warrant, [C.CONTENT], media_reason="Warrant item 3 names the image."
    )
    assert sorted(i["path"] for i in disclosure.items) == [
        "files/content/image_demo-1.bin",
        "files/content/thread_1.txt",
    ]
    assert_audited(
        E.LE_DISCLOSURE_PREPARED,
        target=("le_disclosure", disclosure.pk),
        data={"manifest_sha256": disclosure.manifest_sha256},
    )
    # Each item put into the package has that as the last link of its chain of custody.
    image = ContentItem.objects.get(platform_id=IMAGE_ID)
    assert_audited(
        E.CONTENT_DISCLOSED,
        target=image,
        data={
            "disclosure": str(disclosure.pk),
            "request": str(warrant.pk),
            "sha256": image.blob_id,
        },
    )


def test_four_eyes_release_once_and_a_package_that_verifies_alone(world: dict[str, Any]) -> None:
    request = _request(world, "us_search_warrant")
    disclosure = _prepare(
        world, request, [C.SUBSCRIBER, C.RECORDS, C.CONTENT], media_reason="Warrant item 3."
    )

    with pytest.raises(FourEyes, match="second person"):
        disclosure_approve(disclosure=disclosure, actor=world["preparer"], source=AuditSource.API)
    with pytest.raises(FourEyes):
        disclosure_approve(
            disclosure=disclosure, actor=world["partner"].user, source=AuditSource.API
        )
    approved = disclosure_approve(
        disclosure=disclosure, actor=world["approver"], source=AuditSource.API
    )
    assert LERequest.objects.get(pk=request.pk).state == "approved"
    assert_audited(E.LE_DISCLOSURE_APPROVED, target=("le_disclosure", disclosure.pk))

    audit_sequence()
    released = disclosure_release(
        disclosure=approved, actor=world["approver"], source=AuditSource.API
    )
    assert LERequest.objects.get(pk=request.pk).state == "responded"
    assert_audited(E.LE_DISCLOSURE_RELEASED, target=("le_disclosure", disclosure.pk))

    report = verify_package(released.package, public_key())
    assert report.ok, report.problems
    assert report.files == 4
    assert report.custody_events >= 2  # stored and matched/scanned, at least
    names = zipfile.ZipFile(io.BytesIO(released.package)).namelist()
    assert {"summary.pdf", "manifest.json", "checkpoint.txt"} <= set(names)
    # Reviewers appear by role and account number, not by name.
    custody = [n for n in names if n.startswith("custody/")]
    text = b"".join(zipfile.ZipFile(io.BytesIO(released.package)).read(n) for n in custody)
    assert b"pat.prepares" not in text
    assert b'"actor_pseudonym":"account-' in text

    tampered = bytearray(released.package)
    zipped = zipfile.ZipFile(io.BytesIO(released.package))
    thread = zipped.read("files/content/thread_1.txt")
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w") as out:
        for info in zipped.infolist():
            data = zipped.read(info.filename)
            out.writestr(
                info, data.replace(thread, thread.upper()) if "thread_1" in info.filename else data
            )
    bad = verify_package(rebuilt.getvalue(), public_key())
    assert not bad.ok
    assert any("thread_1" in p.where for p in bad.problems)
    assert tampered  # the original bytes are untouched

    partner_user = world["partner"].user
    _, sealed = disclosure_download(
        token=released.link_token, actor=partner_user, source=AuditSource.API
    )
    assert decrypt_package(sealed, released.key) == released.package
    assert_audited(E.LE_DISCLOSURE_DOWNLOADED, target=("le_disclosure", disclosure.pk))
    with pytest.raises(LinkNotFound):
        disclosure_download(token=released.link_token, actor=partner_user, source=AuditSource.API)


def test_nothing_is_released_to_a_requester_whose_verification_expired(
    world: dict[str, Any],
) -> None:
    request = _request(world, "us_court_order_2703d")
    disclosure = _prepare(world, request, [C.RECORDS])
    approved = disclosure_approve(
        disclosure=disclosure, actor=world["approver"], source=AuditSource.API
    )
    Verification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    audit_sequence()

    with pytest.raises(DisclosureRefused, match="unverified requester"):
        disclosure_release(disclosure=approved, actor=world["approver"], source=AuditSource.API)
    assert LERequest.objects.get(pk=request.pk).state == "approved"


def test_another_agency_cannot_use_the_link(world: dict[str, Any]) -> None:
    request = _request(world, "us_court_order_2703d")
    disclosure = _prepare(world, request, [C.RECORDS])
    approved = disclosure_approve(
        disclosure=disclosure, actor=world["approver"], source=AuditSource.API
    )
    audit_sequence()
    released = disclosure_release(
        disclosure=approved, actor=world["approver"], source=AuditSource.API
    )
    stranger = h.partner(h.agency(world["preparer"], name="Example Elsewhere Police (fictional)"))

    with pytest.raises(LinkNotFound):
        disclosure_download(token=released.link_token, actor=stranger.user, source=AuditSource.API)


def test_the_api_prepares_approves_releases_and_downloads(
    world: dict[str, Any], api_for: Any
) -> None:
    from safeguard.accounts.services import api_token_create
    from tests.conftest import ApiClient

    request = _request(world, "us_court_order_2703d")

    def api(user: Any) -> ApiClient:
        token = api_token_create(user=user, name="t", actor=None, source=AuditSource.CLI)
        return ApiClient(user, token.plaintext)

    preparer, approver = api(world["preparer"]), api(world["approver"])
    prepared = preparer.post(
        f"/api/v1/le/requests/{request.pk}/disclosures", {"categories": ["records"]}
    )
    assert prepared.status_code == 201, prepared.content
    disclosure_id = prepared.json()["id"]
    assert preparer.post(f"/api/v1/le/disclosures/{disclosure_id}/approval").status_code == 403
    assert approver.post(f"/api/v1/le/disclosures/{disclosure_id}/approval").status_code == 200
    audit_sequence()
    released = approver.post(f"/api/v1/le/disclosures/{disclosure_id}/release")
    assert released.status_code == 200, released.content
    body = released.json()
    download = world["api"].post(
        "/api/v1/le/disclosures/download", {"token": body["download_token"]}
    )
    assert download.status_code == 200
    assert download["Cache-Control"] == "no-store"
    package = decrypt_package(download.content, body["decryption_key"])
    assert verify_package(package, public_key()).ok
    again = world["api"].post("/api/v1/le/disclosures/download", {"token": body["download_token"]})
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subscriber data; traffic data", {C.SUBSCRIBER, C.RECORDS}),
        ("Content data and subscriber data", {C.CONTENT, C.SUBSCRIBER}),
        ("non-content records", {C.RECORDS}),
        ("IP addresses for identifying the user", {C.RECORDS}),
        ("whatever the court deems fit", None),
        ("", None),
    ],
)
def test_an_orders_categories_are_read_from_its_words(text: str, expected: set[C] | None) -> None:
    found = ordered_categories(text)
    assert (set(found) if found is not None else None) == expected


def test_an_eu_order_gets_only_the_categories_it_orders(world: dict[str, Any]) -> None:
    request = _request(
        world,
        "eu_production_order",
        issuing_authority="Example Public Prosecutor (fictional)",
        data_categories="subscriber data; traffic data",
        enforcing_state="IE",
        offence="Art. 3 Directive 2011/93/EU (fictional case)",
    )

    with pytest.raises(DisclosureRefused, match="content goes beyond what it orders"):
        _prepare(world, request, [C.SUBSCRIBER, C.CONTENT])
    disclosure = _prepare(world, request, [C.SUBSCRIBER, C.RECORDS])
    assert sorted(i["category"] for i in disclosure.items) == ["records", "subscriber"]
