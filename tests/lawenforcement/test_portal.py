"""The portal at /le/ through Django's test client: partners submit and follow only their own
agency's requests; legal staff run the queue, requests, disclosures and agencies; every
refusal of a service is a message, never a 500, and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role, portal_allowed, second_factor_required
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_sequence
from safeguard.cases.models import Case
from safeguard.intake.models import Escalation
from safeguard.lawenforcement.models import (
    Agency,
    Disclosure,
    DisclosureState,
    LERequest,
    Partner,
    RequestDocument,
    Verification,
)
from safeguard.lawenforcement.services import le_request_transition
from safeguard.lawenforcement.views import clock_words
from safeguard.lawenforcement.workflow import RequestTransition
from tests.audit_helpers import assert_audited
from tests.conftest import escalation_body, sign_in_verified
from tests.factories import UserFactory
from tests.lawenforcement import helpers as h

pytestmark = pytest.mark.django_db
E = AuditEventType
URL = "/api/v1/escalations"


@pytest.fixture
def world(verified_client: Callable[[User], Client]) -> dict[str, Any]:
    """Two agencies, a partner in each (signed in with a second factor), two legal staff."""
    preparer, approver = h.legal("pat.prepares"), h.legal("alex.approves")
    mine = h.agency(preparer)
    theirs = h.agency(preparer, name="Other Police Service (fictional)", country="GB")
    partner = h.partner(mine, actor=preparer)
    other = h.partner(theirs, actor=preparer)
    return {
        "preparer": preparer,
        "approver": approver,
        "agency": mine,
        "partner": partner,
        "other": other,
        "partner_web": verified_client(partner.user),
        "other_web": verified_client(other.user),
        "legal_web": verified_client(preparer),
        "approver_web": verified_client(approver),
    }


def _filed(partner: Partner, legal_type: str, external_id: str, **block: Any) -> LERequest:
    """A request the partner sent through the API (not the portal under test)."""
    coarse = "emergency_disclosure" if "emergency" in legal_type else "legal_process"
    response = h.partner_api(partner).post(
        URL,
        escalation_body(
            external_id=external_id,
            channel="law_enforcement",
            category="grooming",
            subjects=[{"platform_id": "user:s1", "role": "suspect"}],
            content=[],
            law_enforcement=h.le_block(
                agency=partner.agency.name,
                country=partner.agency.country,
                request_type=block.pop("request_type", coarse),
                **({"legal_type": legal_type} if legal_type else {}),
                **block,
            ),
        ),
    )
    assert response.status_code == 201, response.content
    return LERequest.objects.get(escalation_id=response.json()["id"])


def _in_progress(world: dict[str, Any], request: LERequest) -> LERequest:
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


def _counts() -> dict[str, int]:
    return {
        "requests": LERequest.objects.count(),
        "escalations": Escalation.objects.count(),
        "cases": Case.objects.count(),
        "documents": RequestDocument.objects.count(),
    }


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _follow_messages(client: Client, response: Any) -> str:
    assert response.status_code == 302, response.content[:500]
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


# --- signing in -------------------------------------------------------------------------------


def test_a_partner_signs_in_to_the_portal_only_and_with_a_second_factor(db: None) -> None:
    assert portal_allowed(Role.LE_PARTNER.value)
    assert not portal_allowed(Role.LEGAL.value)
    assert second_factor_required(Role.LE_PARTNER.value)
    agency = h.agency()
    partner = h.partner(agency)
    client = Client()
    client.force_login(partner.user)

    # Signed in with the password only: sent to enrol an authenticator, the page it wanted kept.
    assert client.get("/le/")["Location"] == "/accounts/2fa/setup/?next=%2Fle%2F"
    assert client.get("/accounts/2fa/setup/").status_code == 200

    sign_in_verified(client, partner.user)
    assert client.get("/le/").status_code == 200
    # The console stays closed to partners, second factor or not.
    assert client.get("/console/queues/").status_code == 403
    assert client.get("/le/staff/").status_code == 403


def test_anonymous_people_are_sent_to_sign_in(client: Client, db: None) -> None:
    for path in ("/le/", "/le/new", "/le/staff/", "/le/staff/agencies"):
        assert client.get(path)["Location"].startswith("/accounts/login/?next=")


def test_staff_opening_the_portal_go_to_their_queue(world: dict[str, Any]) -> None:
    assert world["legal_web"].get("/le/")["Location"] == "/le/staff/"


# --- partner pages ----------------------------------------------------------------------------


def test_the_partner_list_shows_its_agency_newest_first_and_the_unverified_banner(
    world: dict[str, Any],
) -> None:
    older = _filed(world["partner"], "us_emergency_disclosure", "a", fields={"danger": "x" * 12})
    newer = _filed(world["partner"], "us_emergency_disclosure", "b", fields={"danger": "y" * 12})
    LERequest.objects.filter(pk=older.pk).update(received_at=timezone.now() - timedelta(hours=2))
    theirs = _filed(world["other"], "us_emergency_disclosure", "c", fields={"danger": "z" * 12})

    page = world["partner_web"].get("/le/").content.decode()

    assert page.index(newer.reference) < page.index(older.reference)
    assert theirs.reference not in page
    assert "nothing is disclosed to you until legal staff verify you" in page
    assert "is not verified" in page

    h.verify(newer, world["preparer"])
    page = world["partner_web"].get("/le/").content.decode()
    assert 'id="unverified"' not in page
    assert "You and your agency are verified" in page


def test_a_partner_never_sees_another_agencys_request(world: dict[str, Any]) -> None:
    theirs = _filed(world["other"], "us_emergency_disclosure", "c", fields={"danger": "z" * 12})

    assert world["partner_web"].get(f"/le/requests/{theirs.pk}").status_code == 404
    assert world["other_web"].get(f"/le/requests/{theirs.pk}").status_code == 200
    posted = world["partner_web"].post(
        f"/le/requests/{theirs.pk}/documents",
        {"document": SimpleUploadedFile("o.pdf", h.pdf_bytes())},
    )
    assert posted.status_code == 404
    assert not RequestDocument.objects.filter(request=theirs).exists()
    assert world["partner_web"].get(f"/le/staff/requests/{theirs.pk}").status_code == 403


def test_the_type_chooser_shows_each_types_clock_and_what_it_may_get(
    world: dict[str, Any],
) -> None:
    page = world["partner_web"].get("/le/new").content.decode()

    assert "EU emergency European Production Order" in page
    assert "8 hours" in page
    assert "basic subscriber information only" in page
    assert 'href="/le/new?type=us_subpoena"' in page
    form = world["partner_web"].get("/le/new?type=us_subpoena").content.decode()
    assert 'name="field_case_number"' in form
    assert "case or reference number" in form


def _submission(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "legal_type": "us_emergency_disclosure",
        "summary": "A child says she will meet the suspect tonight; we need his location now.",
        "category": "imminent_danger",
        "named_accounts": "user:suspect-1\nuser:suspect-2\n",
        "field_danger": "A meeting with a 12-year-old is planned for tonight.",
    }
    data.update(overrides)
    return data


def test_an_emergency_submission_is_p0_on_the_staff_side_at_once(world: dict[str, Any]) -> None:
    before = _counts()
    response = world["partner_web"].post(
        "/le/new",
        _submission(document=SimpleUploadedFile("order.pdf", h.pdf_bytes())),
    )

    assert response.status_code == 302, response.content[:2000]
    created = LERequest.objects.get()
    assert response["Location"] == f"/le/requests/{created.pk}"
    assert created.request_type == "us_emergency_disclosure"
    assert created.partner == world["partner"]
    assert created.named_accounts == ["user:suspect-1", "user:suspect-2"]
    assert created.fields["danger"].startswith("A meeting")
    # Intake triaged it in the same request: the case is P0 before the partner sees the page.
    assert created.case is not None
    assert created.case.priority == "P0"
    assert created.due_at is not None
    assert created.due_at - created.received_at == timedelta(hours=1)
    escalation = Escalation.objects.get(pk=created.escalation_id)
    block = escalation.payload["law_enforcement"]
    assert block["request_type"] == "emergency_disclosure"
    assert block["contact"] == world["partner"].user.email
    assert block["agency"] == world["agency"].name
    assert created.documents.get().media_type == "application/pdf"
    assert _counts()["requests"] == before["requests"] + 1
    assert_audited(E.LE_REQUEST_RECEIVED, target=("le_request", created.pk))
    assert_audited(E.LE_REQUEST_DOCUMENT_STORED, target=("le_request", created.pk))

    page = _follow_messages(world["partner_web"], response)
    assert created.reference in page
    assert "on-call team has been alerted" in page
    queue = world["legal_web"].get("/le/staff/").content.decode()
    row = re.search(rf"<tr>(?:(?!</tr>).)*{created.reference}(?:(?!</tr>).)*</tr>", queue, re.S)
    assert row is not None
    assert "prio-P0" in row.group(0)


def test_partners_see_times_in_their_own_zone(world: dict[str, Any]) -> None:
    found = _filed(world["partner"], "us_emergency_disclosure", "a", fields={"danger": "x" * 12})
    User.objects.filter(pk=world["partner"].user_id).update(time_zone="Asia/Tokyo")
    local = timezone.localtime(found.received_at, timezone=ZoneInfo("Asia/Tokyo"))

    page = world["partner_web"].get("/le/").content.decode()

    assert f"{local:%Y-%m-%d %H:%M} JST" in page


def test_an_eu_emergency_order_is_p0_too(world: dict[str, Any]) -> None:
    response = world["other_web"].post(
        "/le/new",
        _submission(
            legal_type="eu_emergency_production_order",
            field_issuing_authority="Investigating judge (fictional)",
            field_data_categories="subscriber, traffic",
            field_enforcing_state="IE",
        ),
    )
    assert response.status_code == 302, response.content[:2000]
    created = LERequest.objects.get()
    assert created.case is not None
    assert created.case.priority == "P0"
    assert created.due_at - created.received_at <= timedelta(hours=9)


def test_a_missing_required_field_is_shown_at_the_field_and_changes_nothing(
    world: dict[str, Any],
) -> None:
    before = _counts()
    response = world["partner_web"].post(
        "/le/new",
        _submission(
            legal_type="us_subpoena",
            category="grooming",
            field_return_date="2027-01-15",
            field_case_number="",
            document=SimpleUploadedFile("order.pdf", h.pdf_bytes()),
        ),
    )

    assert response.status_code == 400
    page = response.content.decode()
    error = re.search(r'id="field_case_number-error"[^>]*>(.*?)</p>', page, re.S)
    assert error is not None, page
    assert "case_number" in error.group(1)
    assert 'aria-invalid="true" aria-describedby="field_case_number-error"' in page
    # What was typed is kept.
    assert "2027-01-15" in page
    assert _counts() == before


def test_no_named_account_is_shown_at_that_field(world: dict[str, Any]) -> None:
    before = _counts()
    response = world["partner_web"].post("/le/new", _submission(named_accounts="  \n"))

    assert response.status_code == 400
    assert 'id="named_accounts-error"' in response.content.decode()
    assert _counts() == before


def test_a_document_that_is_not_a_pdf_or_image_changes_nothing(world: dict[str, Any]) -> None:
    before = _counts()
    response = world["partner_web"].post(
        "/le/new",
        _submission(document=SimpleUploadedFile("order.pdf", b"just some text, not a PDF\n")),
    )

    assert response.status_code == 400
    page = response.content.decode()
    error = re.search(r'id="document-error"[^>]*>(.*?)</p>', page, re.S)
    assert error is not None
    assert "PDF or an image" in error.group(1)
    # The request intake had accepted went back with the document: nothing was stored.
    assert _counts() == before


def test_a_contract_error_is_shown_at_its_field(world: dict[str, Any]) -> None:
    before = _counts()
    response = world["partner_web"].post(
        "/le/new", _submission(named_accounts="not an id with spaces and ünïcode\t\x00")
    )
    assert response.status_code == 400
    assert 'id="named_accounts-error"' in response.content.decode()
    response = world["partner_web"].post("/le/new", _submission(category="nonsense"))
    assert 'id="category-error"' in response.content.decode()
    assert _counts() == before


def test_a_partner_without_an_agency_cannot_submit(verified_client: Callable[..., Client]) -> None:
    lone = UserFactory(role=Role.LE_PARTNER.value)
    client = verified_client(lone)
    page = _follow_messages(client, client.post("/le/new", _submission()))
    assert "not attached to an agency" in page
    assert not LERequest.objects.exists()


def test_the_partner_request_page_shows_state_due_note_and_documents(
    world: dict[str, Any],
) -> None:
    found = _filed(world["partner"], "us_emergency_disclosure", "a", fields={"danger": "x" * 12})
    h.document(found, world["partner"].user)
    le_request_transition(
        request=found,
        transition=RequestTransition.REJECT,
        actor=world["preparer"],
        source=AuditSource.API,
        note="Please send the signed request on letterhead.",
    )

    page = world["partner_web"].get(f"/le/requests/{found.pk}").content.decode()

    assert "Rejected" in page
    assert "Please send the signed request on letterhead." in page
    assert "order.pdf" in page
    assert "<time datetime=" in page
    assert "Nothing has been released" in page


def test_a_partner_adds_a_document_and_a_bad_one_is_refused(world: dict[str, Any]) -> None:
    found = _filed(world["partner"], "us_emergency_disclosure", "a", fields={"danger": "x" * 12})
    url = f"/le/requests/{found.pk}/documents"

    page = _follow_messages(
        world["partner_web"],
        world["partner_web"].post(url, {"document": SimpleUploadedFile("s.png", h.png_bytes())}),
    )
    assert "Document s.png added" in page
    page = _follow_messages(
        world["partner_web"],
        world["partner_web"].post(url, {"document": SimpleUploadedFile("x.pdf", b"<html>")}),
    )
    assert "Document not added" in page
    assert found.documents.count() == 1


# --- staff pages ------------------------------------------------------------------------------


def test_the_staff_queue_puts_overdue_first_with_its_clock(world: dict[str, Any]) -> None:
    later = _filed(
        world["partner"],
        "us_subpoena",
        "a",
        fields={"case_number": "1", "return_date": "2027-01-01"},
    )
    late = _filed(world["other"], "us_emergency_disclosure", "b", fields={"danger": "x" * 12})
    LERequest.objects.filter(pk=late.pk).update(
        due_at=timezone.now() - timedelta(hours=2, minutes=1)
    )
    closed = _filed(world["partner"], "us_emergency_disclosure", "c", fields={"danger": "y" * 12})
    le_request_transition(
        request=closed,
        transition=RequestTransition.REJECT,
        actor=world["preparer"],
        source=AuditSource.API,
        note="duplicate",
    )

    response = world["legal_web"].get("/le/staff/")
    page = response.content.decode()

    assert response.status_code == 200
    assert page.index(late.reference) < page.index(later.reference)
    assert closed.reference not in page
    assert "OVERDUE by 2 h 1 min" in page
    assert re.search(r"due in 1[34] d", page)
    assert "NOT verified" in page
    assert "1 overdue" in page


def test_clock_words() -> None:
    now = timezone.now()
    assert clock_words(now + timedelta(hours=3, minutes=20, seconds=30), now) == (
        "due in 3 h 20 min",
        False,
    )
    assert clock_words(now - timedelta(hours=2), now) == ("OVERDUE by 2 h", True)
    assert clock_words(now + timedelta(days=9, hours=1), now) == ("due in 9 d 1 h", False)
    assert clock_words(None, now) == ("no response clock", False)


def test_a_lead_reads_the_queue_but_a_specialist_does_not(
    world: dict[str, Any], verified_client: Callable[[User], Client]
) -> None:
    lead = verified_client(UserFactory(role=Role.LEAD.value))
    assert lead.get("/le/staff/").status_code == 200
    assert lead.get("/le/staff/agencies").status_code == 403
    specialist = verified_client(UserFactory(role=Role.SPECIALIST.value))
    assert specialist.get("/le/staff/").status_code == 403


def test_the_staff_request_page_shows_holdings_cases_and_documents(
    world: dict[str, Any], service_api: Any
) -> None:
    filed = service_api.post(URL, escalation_body())
    assert filed.status_code == 201
    found = _filed(world["partner"], "us_emergency_disclosure", "a", fields={"danger": "x" * 12})
    doc = h.document(found, world["partner"].user)

    page = world["legal_web"].get(f"/le/staff/requests/{found.pk}").content.decode()

    assert "<code>user:s1</code>" in page
    case = Case.objects.filter(links__escalation_id=filed.json()["id"]).get()
    assert f'href="/console/cases/{case.pk}/"' in page
    assert "NOT VERIFIED" in page
    assert f"/le/staff/requests/{found.pk}/documents/{doc.pk}" in page
    assert "Good-faith emergency determination" in page

    got = world["legal_web"].get(f"/le/staff/requests/{found.pk}/documents/{doc.pk}")
    assert got.status_code == 200
    assert got.content == h.pdf_bytes()
    assert "no-store" in got["Cache-Control"]
    assert got["Content-Type"] == "application/pdf"
    assert "attachment" in got["Content-Disposition"]
    assert_audited(
        AuditEventType.LE_REQUEST_DOCUMENT_READ,
        target=("le_request", found.pk),
        data={"document": str(doc.pk), "sha256": doc.sha256},
    )
    other = _filed(world["other"], "us_emergency_disclosure", "b", fields={"danger": "x" * 12})
    crossed = world["legal_web"].get(f"/le/staff/requests/{other.pk}/documents/{doc.pk}")
    assert crossed.status_code == 404


def test_transitions_and_their_refusals_are_messages(world: dict[str, Any]) -> None:
    found = _filed(world["partner"], "us_emergency_disclosure", "a", fields={"danger": "x" * 12})
    client, url = world["legal_web"], f"/le/staff/requests/{found.pk}/transition"

    page = _follow_messages(client, client.post(url, {"transition": "start_verification"}))
    assert "now being verified" in page
    page = _follow_messages(client, client.post(url, {"transition": "verify"}))
    assert "Not done: cannot verify" in page
    assert "no legal document" in page
    page = _follow_messages(client, client.post(url, {"transition": "reject", "note": " "}))
    assert "needs a note" in page
    page = _follow_messages(client, client.post(url, {"transition": "respond"}))
    assert "Not done" in page
    page = _follow_messages(client, client.post(url, {"transition": "fly"}))
    assert "is not a transition" in page
    found.refresh_from_db()
    assert found.state == "verifying"
    assert_audited(
        E.LE_REQUEST_TRANSITIONED,
        target=("le_request", found.pk),
        data={"transition": "start_verification"},
    )


def test_classify_an_unclassified_request(world: dict[str, Any]) -> None:
    found = _filed(
        world["partner"], "", "a", request_type="legal_process", fields={"case_number": "1"}
    )
    assert found.request_type == ""
    client, url = world["legal_web"], f"/le/staff/requests/{found.pk}/classify"
    assert 'id="classify"' in client.get(f"/le/staff/requests/{found.pk}").content.decode()

    page = _follow_messages(client, client.post(url, {"request_type": "nonsense"}))
    assert "Not done: unknown request type" in page
    page = _follow_messages(client, client.post(url, {"request_type": "us_court_order_2703d"}))
    assert "classified as US court order" in page
    found.refresh_from_db()
    assert found.request_type == "us_court_order_2703d"
    assert found.due_at is not None


def test_the_emergency_determination(world: dict[str, Any]) -> None:
    found = _filed(world["partner"], "us_emergency_disclosure", "a", fields={"danger": "x" * 12})
    client, url = world["legal_web"], f"/le/staff/requests/{found.pk}/determination"

    page = _follow_messages(client, client.post(url, {"emergency": "yes", "reasons": "short"}))
    assert "10 characters" in page
    page = _follow_messages(client, client.post(url, {"reasons": "long enough reasons here"}))
    assert "yes or no" in page
    page = _follow_messages(
        client,
        client.post(url, {"emergency": "yes", "reasons": "A meeting tonight; location needed."}),
    )
    assert "Determination recorded: an emergency" in page
    found.refresh_from_db()
    assert found.determined_emergency is True
    assert found.determined_by == world["preparer"]


def test_a_preservation_is_extended_once(world: dict[str, Any]) -> None:
    found = _filed(
        world["partner"],
        "us_preservation",
        "a",
        request_type="preservation",
        fields={"issuing_authority": "Example County Sheriff (fictional)"},
    )
    client, url = world["legal_web"], f"/le/staff/requests/{found.pk}/extend"
    assert 'id="preservation"' in client.get(f"/le/staff/requests/{found.pk}").content.decode()

    page = _follow_messages(client, client.post(url, {"note": "renewed request"}))
    assert "Preservation extended until" in page
    page = _follow_messages(client, client.post(url, {"note": "again"}))
    assert "Not done" in page
    assert "already extended 1 time" in page
    found.refresh_from_db()
    assert found.preservation_extensions == 1


def test_prepare_four_eyes_release_once_and_the_partner_downloads_once(
    world: dict[str, Any],
) -> None:
    found = _in_progress(
        world,
        _filed(
            world["partner"],
            "us_subpoena",
            "a",
            fields={"case_number": "1", "return_date": "2027-01-01"},
        ),
    )
    preparer, approver = world["legal_web"], world["approver_web"]
    base = f"/le/staff/requests/{found.pk}"

    # A subpoena may not get records: refused, naming the rule, nothing prepared.
    page = _follow_messages(
        preparer, preparer.post(f"{base}/disclosures", {"categories": ["records"]})
    )
    assert "2703(c)(2)" in page
    assert not Disclosure.objects.exists()
    page = _follow_messages(
        preparer, preparer.post(f"{base}/disclosures", {"categories": ["subscriber"]})
    )
    assert "Disclosure prepared" in page
    disclosure = Disclosure.objects.get()
    # With a disclosure, approving goes through it: no bare "approve" transition is offered.
    assert 'name="transition" value="approve"' not in page
    # Intake's copy of the summary into `danger` is not shown on a subpoena.
    assert "the danger to life" not in page
    # The preparer's page explains why there is no approve button.
    assert 'id="four-eyes"' in page
    assert 'id="approve"' not in page
    page = _follow_messages(preparer, preparer.post(f"{base}/disclosures/{disclosure.pk}/approve"))
    assert "Not approved" in page
    assert "second person" in page

    page = _follow_messages(approver, approver.post(f"{base}/disclosures/{disclosure.pk}/approve"))
    assert "Disclosure approved" in page
    audit_sequence()
    released = approver.post(f"{base}/disclosures/{disclosure.pk}/release")
    assert released.status_code == 200
    assert "no-store" in released["Cache-Control"]
    shown = released.content.decode()
    key = re.search(r'id="release-key">([^<]+)<', shown)
    link = re.search(r'id="release-link">[^<]*/le/download/([^<]+)<', shown)
    assert key is not None
    assert link is not None
    assert "another channel" in shown
    # Shown once: the page read again carries neither.
    again = approver.get(base).content.decode()
    assert key.group(1) not in again
    assert link.group(1) not in again
    disclosure.refresh_from_db()
    assert disclosure.state == DisclosureState.RELEASED

    partner = world["partner_web"]
    request_page = partner.get(f"/le/requests/{found.pk}").content.decode()
    assert "Download the package (once)" in request_page
    confirm = partner.get(f"/le/download/{link.group(1)}")
    assert confirm.status_code == 200
    assert link.group(1) in confirm.content.decode()
    # Another agency's partner holding the link gets nothing.
    assert world["other_web"].post("/le/download", {"token": link.group(1)}).status_code == 404
    got = partner.post("/le/download", {"token": link.group(1)})
    assert got.status_code == 200
    assert got["Content-Type"] == "application/octet-stream"
    assert "no-store" in got["Cache-Control"]
    assert got.content[:4] != b"PK\x03\x04"  # encrypted, not a bare zip
    assert_audited(E.LE_DISCLOSURE_DOWNLOADED, target=("le_disclosure", disclosure.pk))
    second = partner.post("/le/download", {"token": link.group(1)})
    assert second.status_code == 404
    assert "expired or been used" in second.content.decode()


def test_release_to_an_unverified_requester_is_refused_as_a_message(
    world: dict[str, Any],
) -> None:
    found = _in_progress(
        world,
        _filed(
            world["partner"],
            "us_subpoena",
            "a",
            fields={"case_number": "1", "return_date": "2027-01-01"},
        ),
    )
    base = f"/le/staff/requests/{found.pk}"
    world["legal_web"].post(f"{base}/disclosures", {"categories": ["subscriber"]})
    disclosure = Disclosure.objects.get()
    world["approver_web"].post(f"{base}/disclosures/{disclosure.pk}/approve")
    Verification.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    page = _follow_messages(
        world["approver_web"],
        world["approver_web"].post(f"{base}/disclosures/{disclosure.pk}/release"),
    )
    assert "Not released" in page
    assert "unverified requester" in page
    disclosure.refresh_from_db()
    assert disclosure.state == DisclosureState.APPROVED


# --- agencies ---------------------------------------------------------------------------------


def test_agencies_are_created_partners_attached_and_verified(world: dict[str, Any]) -> None:
    client = world["legal_web"]
    page = _follow_messages(
        client,
        client.post(
            "/le/staff/agencies",
            {
                "name": "Harbour Police (fictional)",
                "country": "ie",
                "jurisdiction": "EU Member State: IE",
                "email_domains": "harbour.example, police.example",
                "published_phone": "+353 1 555 0100",
                "phone_source": "the force's public website (fictional)",
            },
        ),
    )
    assert "Agency Harbour Police (fictional) saved" in page
    made = Agency.objects.get(name="Harbour Police (fictional)")
    assert made.country == "IE"
    assert made.email_domains == ["harbour.example", "police.example"]
    page = _follow_messages(
        client,
        client.post("/le/staff/agencies", {"name": "Bad (fictional)", "country": "Ireland"}),
    )
    assert "Agency not saved" in page
    assert "ISO 3166" in page
    assert not Agency.objects.filter(name="Bad (fictional)").exists()

    newcomer = UserFactory(role=Role.LE_PARTNER.value, email="officer@harbour.example")
    attach = f"/le/staff/agencies/{made.pk}/partners"
    page = _follow_messages(client, client.post(attach, {"username": newcomer.username}))
    assert f"{newcomer.username} is now a partner" in page
    page = _follow_messages(client, client.post(attach, {"username": world["preparer"].username}))
    assert "not a law-enforcement partner account" in page
    page = _follow_messages(client, client.post(attach, {"username": "nobody"}))
    assert "no active account" in page

    found = _filed(world["partner"], "us_emergency_disclosure", "a", fields={"danger": "x" * 12})
    doc = h.document(found, world["partner"].user)
    verify = f"/le/staff/agencies/{world['agency'].pk}/verifications"
    called = timezone.localtime(timezone.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    checklist = {
        "partner": world["partner"].user.username,
        "email_domain": h.DOMAIN,
        "callback_number": "+1 555 0100 999",
        "callback_at": called,
        "document": str(doc.pk),
    }
    page = _follow_messages(client, client.post(verify, checklist))
    assert "not done" in page
    assert "published number" in page
    assert not Verification.objects.exists()
    page = _follow_messages(client, client.post(verify, {**checklist, "callback_number": h.PHONE}))
    assert f"Verification of {world['partner'].user.username} recorded" in page
    assert Verification.objects.get().partner == world["partner"]
    page = _follow_messages(client, client.post(verify, {**checklist, "document": ""}))
    assert "choose the legal document" in page

    listing = client.get("/le/staff/agencies").content.decode()
    assert "Harbour Police (fictional)" in listing
    assert newcomer.username in listing


def test_every_form_needs_its_csrf_token(world: dict[str, Any]) -> None:
    found = _filed(world["partner"], "us_emergency_disclosure", "a", fields={"danger": "x" * 12})
    for user, path in (
        (world["partner"].user, "/le/new"),
        (world["preparer"], f"/le/staff/requests/{found.pk}/transition"),
        (world["preparer"], "/le/staff/agencies"),
    ):
        client = Client(enforce_csrf_checks=True)
        sign_in_verified(client, user)
        assert client.post(path, {"transition": "start_verification"}).status_code == 403
    found.refresh_from_db()
    assert found.state == "received"
    form = world["partner_web"].get("/le/new?type=us_subpoena").content.decode()
    assert 'name="csrfmiddlewaretoken"' in form


def test_the_partner_list_costs_the_same_queries_for_one_request_or_many(
    world: dict[str, Any],
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert world["partner_web"].get("/le/").status_code == 200
        return len(seen.captured_queries)

    _filed(world["partner"], "us_emergency_disclosure", "q0", fields={"danger": "x" * 12})
    one = queries()
    for n in range(1, 5):
        _filed(
            world["partner"],
            "us_subpoena",
            f"q{n}",
            fields={"case_number": str(n), "return_date": "2027-01-01"},
        )
    assert queries() == one


def test_the_staff_queue_costs_the_same_queries_for_one_request_or_many(
    world: dict[str, Any],
) -> None:
    _filed(world["partner"], "us_emergency_disclosure", "q0", fields={"danger": "x" * 12})
    with CaptureQueriesContext(connection) as one:
        assert world["legal_web"].get("/le/staff/").status_code == 200
    for n in range(1, 6):
        who = world["partner"] if n % 2 else world["other"]
        _filed(who, "us_emergency_disclosure", f"q{n}", fields={"danger": "x" * 12})
    with CaptureQueriesContext(connection) as many:
        assert world["legal_web"].get("/le/staff/").status_code == 200

    assert len(many.captured_queries) == len(one.captured_queries)
