"""Inbound requests: intake to request, required fields, verification, preservation holds and
their one extension, non-disclosure orders, emergency determinations and the clocks."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from safeguard.accounts.permissions import Role
from safeguard.actions.models import Action
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.evidence.models import LegalHold
from safeguard.lawenforcement.models import LERequest, Verification
from safeguard.lawenforcement.selectors import requests_for_case
from safeguard.lawenforcement.services import (
    LERequestError,
    NotLegalStaff,
    PreservationError,
    agency_save,
    le_preservation_extend,
    le_request_deadline_fire,
    le_request_determine_emergency,
    le_request_transition,
    verification_record,
)
from safeguard.lawenforcement.workflow import IllegalRequestTransition, RequestTransition
from safeguard.rota.models import Page
from tests.audit_helpers import assert_audited
from tests.conftest import case_of, escalation_body
from tests.factories import UserFactory
from tests.lawenforcement import helpers as h

E = AuditEventType
pytestmark = pytest.mark.django_db
URL = "/api/v1/escalations"


def _file(api: Any, **block: Any) -> Any:
    return api.post(
        URL,
        escalation_body(
            channel="law_enforcement",
            category="imminent_danger",
            content=[],
            law_enforcement=h.le_block(**block),
        ),
    )


@pytest.fixture
def setup(settings: Any) -> dict[str, Any]:
    staff = h.legal("lena.legal")
    agency = h.agency(staff)
    partner = h.partner(agency, actor=staff)
    oncall = UserFactory(username="olly.oncall", role=Role.SPECIALIST.value)
    settings.SAFEGUARD_ONCALL = [oncall.username]
    return {"staff": staff, "agency": agency, "partner": partner, "api": h.partner_api(partner)}


def test_an_emergency_request_from_a_partner_is_a_p0_request_that_pages_on_call(
    setup: dict[str, Any],
) -> None:
    response = _file(setup["api"])

    assert response.status_code == 201, response.content
    case = case_of(response)
    assert case.priority == "P0"
    request = LERequest.objects.get(escalation_id=response.json()["id"])
    assert request.request_type == "us_emergency_disclosure"
    assert request.partner == setup["partner"]
    assert request.case == case
    # The type's clock is a team target of one hour ("without delay" in the law).
    assert request.due_at == request.received_at + timedelta(hours=1)
    assert request.fields["danger"] == case.links.get().escalation.summary
    assert Page.objects.filter(case=case, recipient__username="olly.oncall").exists()
    assert_audited(E.LE_REQUEST_RECEIVED, target=("le_request", request.pk))
    assert list(requests_for_case(case)) == [request]


def test_a_named_type_without_its_required_fields_is_refused_and_nothing_is_written(
    setup: dict[str, Any], snapshot_counts: Any
) -> None:
    before = snapshot_counts()

    response = _file(setup["api"], request_type="legal_process", legal_type="us_search_warrant")

    assert response.status_code == 422
    assert "case_number" in response.json()["detail"]
    assert snapshot_counts() == before
    assert not LERequest.objects.exists()


def test_an_unknown_request_type_is_refused_with_the_known_ones(
    setup: dict[str, Any], snapshot_counts: Any
) -> None:
    before = snapshot_counts()

    response = _file(setup["api"], legal_type="us_letter_of_marque")

    assert response.status_code == 422
    assert "us_search_warrant" in response.json()["detail"]
    assert snapshot_counts() == before


def test_bare_legal_process_waits_to_be_classified_and_has_no_clock(setup: dict[str, Any]) -> None:
    response = _file(setup["api"], request_type="legal_process")

    request = LERequest.objects.get(escalation_id=response.json()["id"])
    assert request.request_type == ""
    assert request.due_at is None
    le_request_transition(
        request=request,
        transition=RequestTransition.START_VERIFICATION,
        actor=setup["staff"],
        source=AuditSource.API,
    )
    with pytest.raises(LERequestError, match="not classified"):
        le_request_transition(
            request=request,
            transition=RequestTransition.VERIFY,
            actor=setup["staff"],
            source=AuditSource.API,
        )


def test_a_preservation_holds_at_once_asks_the_platform_and_extends_only_once(
    setup: dict[str, Any],
) -> None:
    response = _file(
        setup["api"],
        request_type="preservation",
        legal_type="us_preservation",
        fields={"issuing_authority": "Example County Court (fictional)"},
    )
    request = LERequest.objects.get(escalation_id=response.json()["id"])

    holds = LegalHold.objects.filter(source="request", source_reference=str(request.pk))
    assert holds.count() == 2  # the suspect and the victim the escalation names
    assert all(hold.placed_by is None for hold in holds)
    assert request.preserved_until == request.received_at + timedelta(days=90)
    sent = Action.objects.filter(case=request.case, kind="preserve", target_type="account")
    assert sorted(sent.values_list("target_id", flat=True)) == ["user:s1", "user:v1"]

    extended = le_preservation_extend(request=request, actor=setup["staff"], source=AuditSource.API)

    assert extended.preserved_until == request.received_at + timedelta(days=180)
    assert all(h.ends_at == extended.preserved_until for h in holds.all())
    assert_audited(E.LE_REQUEST_PRESERVATION_EXTENDED, target=("le_request", request.pk))
    with pytest.raises(PreservationError, match=r"may be extended 1 time\(s\)"):
        le_preservation_extend(request=extended, actor=setup["staff"], source=AuditSource.API)
    assert LERequest.objects.get(pk=request.pk).preservation_extensions == 1


def test_a_non_disclosure_order_suppresses_the_user_notice_and_says_so(
    setup: dict[str, Any],
) -> None:
    response = _file(setup["api"], non_disclosure=True, non_disclosure_until="2027-06-30")

    request = LERequest.objects.get(escalation_id=response.json()["id"])
    assert request.non_disclosure
    assert "non_disclosure" in request.case.tags
    assert_audited(
        E.LE_REQUEST_USER_NOTICE_SUPPRESSED,
        target=("le_request", request.pk),
        data={"until": "2027-06-30"},
    )


def test_verify_needs_both_verifications_unexpired_and_a_document(setup: dict[str, Any]) -> None:
    response = _file(setup["api"])
    request = LERequest.objects.get(escalation_id=response.json()["id"])
    staff = setup["staff"]
    le_request_transition(
        request=request,
        transition=RequestTransition.START_VERIFICATION,
        actor=staff,
        source=AuditSource.API,
    )
    with pytest.raises(LERequestError) as refused:
        le_request_transition(
            request=request,
            transition=RequestTransition.VERIFY,
            actor=staff,
            source=AuditSource.API,
        )
    assert "agency" in str(refused.value)
    assert "requester" in str(refused.value)
    assert "no legal document" in str(refused.value)

    h.verify(request, staff)
    Verification.objects.filter(partner=setup["partner"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(LERequestError, match=r"requester \S+ is not verified"):
        le_request_transition(
            request=request,
            transition=RequestTransition.VERIFY,
            actor=staff,
            source=AuditSource.API,
        )

    h.verify(request, staff)
    moved = le_request_transition(
        request=request, transition=RequestTransition.VERIFY, actor=staff, source=AuditSource.API
    )
    assert moved.state == "in_progress"
    assert_audited(
        E.LE_REQUEST_TRANSITIONED,
        target=("le_request", request.pk),
        data={"transition": "verify"},
    )


def test_verification_checks_each_item_against_what_is_known(setup: dict[str, Any]) -> None:
    response = _file(setup["api"])
    request = LERequest.objects.get(escalation_id=response.json()["id"])
    doc = h.document(request, setup["staff"])
    good: dict[str, Any] = {
        "actor": setup["staff"],
        "agency": setup["agency"],
        "partner": setup["partner"],
        "email_domain": h.DOMAIN,
        "callback_number": h.PHONE,
        "callback_at": timezone.now(),
        "document": doc,
        "note": "",
        "source": AuditSource.API,
    }
    for change, message in (
        ({"email_domain": "gmail.example"}, "not an official e-mail domain"),
        ({"callback_number": "+1 555 0199 999"}, "published number"),
        ({"callback_at": timezone.now() - timedelta(days=30)}, "last seven days"),
    ):
        with pytest.raises(LERequestError, match=message):
            verification_record(**{**good, **change})
    assert not Verification.objects.exists()
    verification_record(**good)
    assert_audited(E.LE_VERIFICATION_RECORDED, target=("le_agency", setup["agency"].pk), after=0)


def test_a_document_must_be_a_pdf_or_an_image(setup: dict[str, Any]) -> None:
    response = _file(setup["api"])
    request_id = LERequest.objects.get(escalation_id=response.json()["id"]).pk
    api = setup["api"]
    url = f"/api/v1/le/requests/{request_id}/documents"

    refused = api.upload(url, {"file": ("order.pdf", io.BytesIO(b"<html><script>x</script>"))})
    assert refused.status_code == 422
    assert "PDF or an image" in refused.json()["detail"]
    assert not LERequest.objects.get(pk=request_id).documents.exists()

    for name, data in (("order.pdf", h.pdf_bytes()), ("scan.png", h.png_bytes())):
        stored = api.upload(url, {"file": (name, io.BytesIO(data))})
        assert stored.status_code == 201, stored.content
    assert LERequest.objects.get(pk=request_id).documents.count() == 2
    assert_audited(
        E.LE_REQUEST_DOCUMENT_STORED,
        target=("le_request", request_id),
        data={"media_type": "application/pdf"},
    )


def test_a_partner_sees_only_its_own_agencys_requests(setup: dict[str, Any]) -> None:
    mine = _file(setup["api"])
    other_agency = h.agency(setup["staff"], name="Example Other Police (fictional)")
    other_api = h.partner_api(h.partner(other_agency, actor=setup["staff"]))
    request_id = LERequest.objects.get(escalation_id=mine.json()["id"]).pk

    assert other_api.get(f"/api/v1/le/requests/{request_id}").status_code == 404
    assert other_api.get("/api/v1/le/requests").json() == []
    seen = setup["api"].get(f"/api/v1/le/requests/{request_id}").json()
    assert seen["reference"].startswith("LE-")
    assert "summary" not in seen
    assert "case_id" not in seen


def test_only_legal_staff_move_requests(setup: dict[str, Any]) -> None:
    response = _file(setup["api"])
    request = LERequest.objects.get(escalation_id=response.json()["id"])

    with pytest.raises(NotLegalStaff):
        le_request_transition(
            request=request,
            transition=RequestTransition.REJECT,
            actor=setup["partner"].user,
            source=AuditSource.API,
            note="no",
        )
    with pytest.raises(IllegalRequestTransition, match="from received a request can"):
        le_request_transition(
            request=request,
            transition=RequestTransition.RESPOND,
            actor=setup["staff"],
            source=AuditSource.API,
        )


def test_the_emergency_determination_is_recorded_with_its_reasons(setup: dict[str, Any]) -> None:
    response = _file(setup["api"])
    request = LERequest.objects.get(escalation_id=response.json()["id"])

    with pytest.raises(LERequestError, match="reasons"):
        le_request_determine_emergency(
            request=request,
            emergency=True,
            reasons="yes",
            actor=setup["staff"],
            source=AuditSource.API,
        )
    done = le_request_determine_emergency(
        request=request,
        emergency=True,
        reasons="Officers state a child is to meet the suspect tonight.",
        actor=setup["staff"],
        source=AuditSource.API,
    )
    assert done.determined_emergency is True
    assert_audited(
        E.LE_REQUEST_EMERGENCY_DETERMINED,
        target=("le_request", request.pk),
        data={"emergency": True},
    )


def test_an_overdue_request_warns_then_pages_legal_on_call(
    setup: dict[str, Any], settings: Any
) -> None:
    on_call = h.legal("lou.legal")
    settings.SAFEGUARD_LEGAL_ONCALL = [on_call.username]
    response = _file(setup["api"])
    request = LERequest.objects.get(escalation_id=response.json()["id"])
    due = request.due_at.isoformat()

    assert le_request_deadline_fire(
        request_id=request.pk, due="2020-01-01T00:00:00+00:00", warning=True
    ).startswith("deadline moved")
    assert (
        le_request_deadline_fire(request_id=request.pk, due=due, warning=True) == "warning: paged 1"
    )
    assert (
        le_request_deadline_fire(request_id=request.pk, due=due, warning=False) == "breach: paged 1"
    )
    assert (
        le_request_deadline_fire(request_id=request.pk, due=due, warning=False)
        == "already breached"
    )

    pages = Page.objects.filter(recipient=on_call, case=request.case)
    assert sorted(pages.values_list("kind", flat=True)) == ["deadline_breach", "deadline_warning"]
    assert_audited(E.LE_REQUEST_DEADLINE_WARNED, target=("le_request", request.pk))
    assert_audited(
        E.LE_REQUEST_DEADLINE_BREACHED,
        target=("le_request", request.pk),
        data={"paged": [on_call.username]},
    )


def test_an_answered_request_does_not_breach(setup: dict[str, Any]) -> None:
    response = _file(setup["api"])
    request = LERequest.objects.get(escalation_id=response.json()["id"])
    le_request_transition(
        request=request,
        transition=RequestTransition.REJECT,
        actor=setup["staff"],
        source=AuditSource.API,
        note="The account does not exist on the platform.",
    )

    assert (
        le_request_deadline_fire(
            request_id=request.pk, due=request.due_at.isoformat(), warning=False
        )
        == "already answered"
    )


def test_an_agency_needs_official_domains_and_a_published_number(setup: dict[str, Any]) -> None:
    base: dict[str, Any] = {
        "actor": setup["staff"],
        "name": "Example Harbour Police (fictional)",
        "country": "GB",
        "jurisdiction": "",
        "email_domains": ["harbour.example"],
        "published_phone": "+44 20 7946 0000",
        "phone_source": "the agency's website",
        "source": AuditSource.API,
    }
    for change, message in (
        ({"email_domains": ["not a domain"]}, "not an e-mail domain"),
        ({"published_phone": "12"}, "published phone number"),
        ({"country": "United Kingdom"}, "two-letter"),
    ):
        with pytest.raises(LERequestError, match=message):
            agency_save(**{**base, **change})
    saved = agency_save(**base)
    assert_audited(E.LE_AGENCY_SAVED, target=("le_agency", saved.pk), data={"created": True})
    with pytest.raises(NotLegalStaff):
        agency_save(**{**base, "actor": setup["partner"].user})
