"""The law-enforcement portal in Debian's chromium: a partner signs in with both factors,
submits an emergency request with its legal document, and legal staff see it as P0 at the top
of their queue; a prepared disclosure on the staff page (screenshots for docs/screenshots)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import totp_device_create
from safeguard.accounts.totp import secret_b32
from safeguard.audit.events import AuditSource
from safeguard.audit.services import audit_sequence
from safeguard.lawenforcement.disclosures import disclosure_prepare
from safeguard.lawenforcement.models import LERequest, Partner
from safeguard.lawenforcement.request_types import DataCategory
from safeguard.lawenforcement.services import le_request_transition, partner_attach
from safeguard.lawenforcement.workflow import RequestTransition
from tests.browser.conftest import Staff, save_screenshot, sign_in
from tests.conftest import ApiClient, escalation_body
from tests.factories import UserFactory
from tests.lawenforcement import helpers as h

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _partner_staff() -> tuple[Partner, Staff]:
    """A partner of a fictional agency, with an authenticator whose secret the test knows."""
    agency = h.agency(h.legal("pat.legal"))
    user = UserFactory(
        role=Role.LE_PARTNER.value, username="dana.detective", email=f"dana@{h.DOMAIN}"
    )
    secret = os.urandom(20)
    totp_device_create(user=user, actor=None, source=AuditSource.CLI, secret=secret, confirmed=True)
    partner = partner_attach(actor=h.legal(), user=user, agency=agency, source=AuditSource.CLI)
    return partner, Staff(user=user, totp_secret=secret_b32(secret))


def _a_prepared_subpoena(partner: Partner, legal: Staff, service_api: ApiClient) -> LERequest:
    """An earlier subpoena of the same agency, verified, with a disclosure prepared."""
    filed = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            external_id="held-1",
            subjects=[{"platform_id": "user:s1", "role": "suspect", "country": "us"}],
        ),
    )
    assert filed.status_code == 201, filed.content
    response = h.partner_api(partner).post(
        "/api/v1/escalations",
        escalation_body(
            external_id="subpoena-1",
            channel="law_enforcement",
            category="grooming",
            summary="Subpoena for the subscriber information of user:s1 (fictional case).",
            subjects=[{"platform_id": "user:s1", "role": "suspect"}],
            content=[],
            law_enforcement=h.le_block(
                request_type="legal_process",
                legal_type="us_subpoena",
                fields={"case_number": "2026-CR-0042", "return_date": "2027-01-15"},
            ),
        ),
    )
    assert response.status_code == 201, response.content
    request = LERequest.objects.get(escalation_id=response.json()["id"])
    le_request_transition(
        request=request,
        transition=RequestTransition.START_VERIFICATION,
        actor=legal.user,
        source=AuditSource.CONSOLE,
    )
    h.verify(request, legal.user)
    request = le_request_transition(
        request=request,
        transition=RequestTransition.VERIFY,
        actor=legal.user,
        source=AuditSource.CONSOLE,
    )
    disclosure_prepare(
        request=request,
        categories=[DataCategory.SUBSCRIBER],
        actor=legal.user,
        source=AuditSource.CONSOLE,
    )
    return request


def test_an_emergency_request_from_the_portal_is_p0_in_the_staff_queue(
    new_page: Callable[[], Page],
    staff: Callable[[Role], Staff],
    service_api: ApiClient,
    tmp_path: Path,
) -> None:
    partner, person = _partner_staff()
    legal = staff(Role.LEGAL)
    earlier = _a_prepared_subpoena(partner, legal, service_api)
    # Its clock ran out two hours ago, so the queue shows an overdue request too.
    due = timezone.now() - timedelta(hours=2, minutes=5)
    LERequest.objects.filter(pk=earlier.pk).update(received_at=due - timedelta(days=14), due_at=due)

    page = new_page()
    sign_in(page, person, then="/le/")
    expect(page.locator("#requests")).to_contain_text(earlier.reference)
    save_screenshot(page, "le-partner-list.png")

    page.goto("/le/new")
    page.click("#choose-us_emergency_disclosure")
    page.wait_for_url(re.compile(r"/le/new\?type=us_emergency_disclosure$"))
    page.fill("#summary", "A 12-year-old says she will meet user:suspect-9 tonight (fictional).")
    page.fill("#named_accounts", "user:suspect-9")
    page.fill("#field_danger", "A planned meeting with a child tonight; location unknown.")
    pdf = tmp_path / "emergency-request.pdf"
    pdf.write_bytes(h.pdf_bytes())
    page.set_input_files("#document", str(pdf))
    save_screenshot(page, "le-submit-form.png")
    started = time.monotonic()
    page.click("#submit")
    page.wait_for_url(re.compile(r"/le/requests/[0-9a-f-]{36}$"))
    expect(page.locator(".messages")).to_contain_text("on-call team has been alerted")

    created = LERequest.objects.select_related("case").get(request_type="us_emergency_disclosure")
    assert created.case is not None
    assert created.case.priority == "P0"
    assert created.documents.count() == 1

    staff_page = new_page()
    sign_in(staff_page, legal, then="/le/staff/")
    row = staff_page.locator("#queue tbody tr", has_text=created.reference)
    expect(row).to_contain_text("P0")
    expect(row).to_contain_text(re.compile(r"due in (59|58) min"))
    assert time.monotonic() - started < 30  # two sign-ins included; intake itself is synchronous
    # Overdue first, then the emergency due in an hour.
    rows = staff_page.locator("#queue tbody tr")
    expect(rows.nth(0)).to_contain_text(earlier.reference)
    expect(rows.nth(0)).to_contain_text(re.compile(r"OVERDUE by 2 h \d+ min"))
    expect(rows.nth(1)).to_contain_text(created.reference)
    save_screenshot(staff_page, "le-staff-queue.png")

    staff_page.goto(f"/le/staff/requests/{earlier.pk}")
    expect(staff_page.locator("#disclosures")).to_contain_text("Disclosure PREPARED")
    expect(staff_page.locator("#four-eyes")).to_contain_text("second person")
    expect(staff_page.locator("#clock")).to_contain_text(re.compile(r"OVERDUE by 2 h \d+ min"))
    expect(staff_page.locator("#verification")).to_contain_text("Verified")
    save_screenshot(staff_page, "le-staff-request.png")
    expect(staff_page.locator("#approve")).to_have_count(0)

    # A second legal person approves and releases: the key and the link are shown once.
    approver = staff(Role.LEGAL)
    second = new_page()
    sign_in(second, approver, then=f"/le/staff/requests/{earlier.pk}")
    second.click("#approve")
    expect(second.locator(".messages").first).to_contain_text("Disclosure approved")
    audit_sequence()
    second.click("#release")
    expect(second.locator("#released")).to_contain_text("shown only this once")
    link = second.locator("#release-link").inner_text()
    assert re.fullmatch(r"https?://[^/]+/le/download/[A-Za-z0-9_-]{20,}", link), link
    expect(second.locator("#release-key")).to_have_text(re.compile(r"^[A-Za-z0-9_-]{43}$"))
    save_screenshot(second, "le-staff-released.png")
    second.reload()
    expect(second.locator("#released")).to_have_count(0)

    # The partner follows the link and downloads the encrypted package, once.
    page.goto(link)
    with page.expect_download() as download:
        page.click("button:has-text('Download the package (once)')")
    assert download.value.suggested_filename == f"{earlier.reference}-package.zip.enc"
    page.goto(link)
    page.click("button:has-text('Download the package (once)')")
    expect(page.locator("#download-error")).to_contain_text("expired or been used")
