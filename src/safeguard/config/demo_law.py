"""The demo's law-enforcement part: an invented sheriff's office whose partner files an
emergency disclosure request, answered by two legal staff with a package that verifies with the
audit log's public key alone; a referral of a P0 case to the demo country's agency, with its
acknowledgement; and held evidence that no path can delete.

Everything is invented: the agency, its domain and number are fictional (`example` domains).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.audit.events import AuditSource
from safeguard.cases.deciding import case_decide
from safeguard.cases.decisions import ActionKind, DecisionLabel, Referral
from safeguard.cases.models import Case
from safeguard.cases.queues import case_claim, lease_length
from safeguard.core.pdf import PdfDocument
from safeguard.evidence.deletion import content_delete
from safeguard.evidence.holds import ContentHeld, hold_place
from safeguard.evidence.models import ContentItem
from safeguard.evidence.store import vault
from safeguard.intake.models import Subject
from safeguard.intake.schemas import EscalationIn
from safeguard.intake.services import escalation_intake
from safeguard.lawenforcement.disclosures import (
    disclosure_approve,
    disclosure_prepare,
    disclosure_release,
)
from safeguard.lawenforcement.models import Disclosure, DisclosureState, LERequest
from safeguard.lawenforcement.referrals import referral_acknowledge, referral_send
from safeguard.lawenforcement.request_types import DataCategory
from safeguard.lawenforcement.services import (
    agency_save,
    le_request_determine_emergency,
    le_request_document_add,
    le_request_transition,
    partner_attach,
    verification_record,
)
from safeguard.lawenforcement.workflow import RequestTransition

AGENCY = "Example County Sheriff (fictional)"
DOMAIN = "sheriff.example"
PHONE = "+1 555 0100 911"
PACKAGE_FILE = "demo-disclosure.zip"
SEALED_FILE = "demo-disclosure.zip.sgenc"
EXTERNAL_ID = "demo-le-emergency-0001"


def _request_form() -> bytes:
    """The partner's signed request form, as a PDF (invented)."""
    doc = PdfDocument(
        "Emergency disclosure request (fictional)",
        AGENCY,
        footer="Synthetic demo document - every name and number is invented",
    )
    doc.key_values(
        [
            ("Requesting officer", "Duty sergeant, Example County Sheriff (fictional)"),
            ("Accounts", "user:demo-s01"),
            ("Danger", "A child is believed to be meeting the account holder tonight."),
            ("Legal basis", "18 U.S.C. 2702(b)(8), (c)(4): emergency disclosure"),
        ]
    )
    return doc.render()


def demo_law_enforcement_seed(*, partner: User, legal: User, second_legal: User) -> LERequest:
    """Inside the demo's seeding transaction: the agency and its verified partner, and an
    emergency request from the partner run up to a disclosure approved by a second lawyer."""
    User.objects.filter(pk=partner.pk).update(email=f"duty@{DOMAIN}")
    partner.refresh_from_db()
    agency = agency_save(
        actor=legal,
        name=AGENCY,
        country="US",
        jurisdiction="county (fictional)",
        email_domains=[DOMAIN],
        published_phone=PHONE,
        phone_source="the sheriff's public website (fictional)",
        source=AuditSource.CLI,
    )
    member = partner_attach(actor=legal, user=partner, agency=agency, source=AuditSource.CLI)
    result = escalation_intake(
        payload=EscalationIn.model_validate(
            {
                "channel": "law_enforcement",
                "external_id": EXTERNAL_ID,
                "category": "imminent_danger",
                "summary": "Deputies believe a child is meeting the account holder tonight; "
                "we ask for the account's details and recent messages.",
                "subjects": [{"platform_id": "user:demo-s01", "role": "suspect"}],
                "content": [],
                "law_enforcement": {
                    "agency": AGENCY,
                    "country": "US",
                    "request_type": "emergency_disclosure",
                    "legal_type": "us_emergency_disclosure",
                    "contact": f"duty@{DOMAIN}",
                },
            }
        ),
        caller=partner,
        source=AuditSource.CLI,
    )
    request = LERequest.objects.get(escalation=result.escalation)
    document = le_request_document_add(
        request=request,
        upload=io.BytesIO(_request_form()),
        name="emergency-request-form.pdf",
        actor=partner,
        source=AuditSource.CLI,
    )
    le_request_transition(
        request=request,
        transition=RequestTransition.START_VERIFICATION,
        actor=legal,
        source=AuditSource.CLI,
    )
    called = timezone.now() - timedelta(minutes=3)
    for who in (None, member):
        verification_record(
            actor=legal,
            agency=agency,
            partner=who,
            email_domain=DOMAIN,
            callback_number=PHONE,
            callback_at=called,
            document=document,
            note="Called the published duty desk number back; the sergeant confirmed.",
            source=AuditSource.CLI,
        )
    le_request_transition(
        request=request, transition=RequestTransition.VERIFY, actor=legal, source=AuditSource.CLI
    )
    le_request_determine_emergency(
        request=request,
        emergency=True,
        reasons="The messages on file and the deputies' statement indicate a planned meeting "
        "with a child tonight: danger of serious physical injury requires disclosure now.",
        actor=legal,
        source=AuditSource.CLI,
    )
    disclosure = disclosure_prepare(
        request=request,
        categories=[DataCategory.SUBSCRIBER, DataCategory.RECORDS, DataCategory.CONTENT],
        actor=legal,
        source=AuditSource.CLI,
    )
    disclosure_approve(disclosure=disclosure, actor=second_legal, source=AuditSource.CLI)
    # What was disclosed may be asked for again by process: legal staff hold the account.
    suspect = Subject.objects.get(platform_id="user:demo-s01")
    hold_place(
        target_type="subject",
        target_id=str(suspect.pk),
        reason=f"Disclosed to {AGENCY} under {request.reference}; kept for the process to follow",
        hold_source="request",
        source_reference=str(request.pk),
        ends_at=timezone.now() + timedelta(days=90),
        actor=legal,
        source=AuditSource.CLI,
    )
    return request


def demo_emergency_case_acted(*, lead: User, request: LERequest) -> None:
    """The lead on duty takes the sheriff's P0 at once and acts: the account is preserved on
    the platform and the case referred to legal staff, who answer the request (above). Legal
    process does not stop a case's clock; acting on it does."""
    if request.case is None:
        return
    case = case_claim(
        case=request.case, actor=lead, lease=lease_length(None), source=AuditSource.CLI
    )
    case_decide(
        case=case,
        actor=lead,
        labels=[DecisionLabel.LAW_ENFORCEMENT_REQUEST, DecisionLabel.GROOMING],
        actions=[ActionKind.PRESERVE],
        referrals=[Referral.LAW_ENFORCEMENT],
        reason="Demo: the sheriff's emergency request; accounts preserved, legal answers it.",
        source=AuditSource.CLI,
    )


def demo_held_content() -> ContentItem | None:
    """A content item of the held demo account: the one the demo tries, and fails, to delete."""
    return (
        ContentItem.objects.filter(
            mentions__escalation__subjects__subject__platform_id="user:demo-s01"
        )
        .order_by("first_seen_at", "platform_id")
        .first()
    )


def demo_deletion_refused(*, legal: User) -> str:
    """Try to delete held evidence as legal staff would, and return the refusal (nothing is
    deleted: the item is under the account's hold)."""
    item = demo_held_content()
    if item is None:
        return ""
    try:
        content_delete(
            content_id=item.pk,
            reason="demo: try to delete held evidence",
            actor=legal,
            source=AuditSource.CLI,
        )
    except ContentHeld as exc:
        return f"content {item.platform_id} ({item.pk}): {exc}"
    raise RuntimeError("the demo deleted held evidence: the hold check is broken")


def demo_referral_seed(*, specialist: User) -> None:
    """A specialist refers the demo's US P0 case to the demo country's agency; the agency's
    acknowledgement and reference are recorded."""
    subject = Subject.objects.filter(platform_id="user:demo-v04").first()
    case = (
        Case.objects.filter(links__escalation__subjects__subject=subject, priority="P0")
        .distinct()
        .first()
    )
    if case is None:
        return
    referral = referral_send(
        case=case,
        agency_key="us-demo-emergency",
        reason="Deputies and the messages say a 14-year-old is at risk tonight.",
        actor=specialist,
        source=AuditSource.CLI,
    )
    referral_acknowledge(
        referral=referral,
        agency_reference="EX-DEMO-0001",
        actor=specialist,
        source=AuditSource.CLI,
    )


@dataclass(frozen=True)
class DemoPackage:
    path: Path
    sealed: Path
    key: str | None


def demo_release_package(*, legal: User) -> DemoPackage | None:
    """After the log has sequenced the seed: release the approved disclosure and leave the
    package under var/ (as the partner would decrypt it, and sealed with its key), so a
    newcomer can run `safeguard custody verify` at once. Done once; later runs keep it."""
    var = Path(settings.SAFEGUARD_VAR_DIR)
    path, sealed = var / PACKAGE_FILE, var / SEALED_FILE
    disclosure = (
        Disclosure.objects.filter(request__escalation__external_id=EXTERNAL_ID)
        .order_by("-prepared_at")
        .first()
    )
    if disclosure is None:
        return None
    if disclosure.state != DisclosureState.APPROVED:
        return DemoPackage(path, sealed, None) if path.exists() else None
    with transaction.atomic():
        released = disclosure_release(disclosure=disclosure, actor=legal, source=AuditSource.CLI)
    path.write_bytes(released.package)
    # What the partner downloads, and the key legal staff send by another channel.
    sealed.write_bytes(vault().read(released.disclosure.package_sha256))
    return DemoPackage(path, sealed, released.key)
