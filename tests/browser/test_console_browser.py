"""The reviewer console in Debian's chromium: sign-in with TOTP, claim, reveal, decide, escalate.

Everything a specialist does here goes through the page (clicks or keys); the database is read
only to check what the page caused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from safeguard.accounts.permissions import Role
from safeguard.accounts.totp import totp_now
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.models import AuditEvent
from safeguard.cases.grants import read_grant_create
from safeguard.cases.models import Case, Decision
from safeguard.cases.workflow import CaseState
from safeguard.evidence.models import ContentItem
from tests.browser.conftest import PASSWORD, ReviewCase, Staff, save_screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SignedIn = Callable[[Role], tuple[Page, Staff]]
MakeCase = Callable[..., ReviewCase]

# Reads an <img> back through a canvas (same origin, so not tainted): its size, how many pixels
# have colour (R, G and B not all equal), and the largest step between neighbouring pixels,
# which is small for a blurred image and large at the sharp edges of the generated pattern.
PIXELS_JS = """img => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let coloured = 0, step = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) { coloured++; }
    if ((i / 4) % canvas.width !== 0) {
      for (let c = 0; c < 3; c++) { step = Math.max(step, Math.abs(d[i + c] - d[i + c - 4])); }
    }
  }
  return {width: canvas.width, height: canvas.height, coloured: coloured, step: step};
}"""


# An escalation that triage ranks below the default one of `review_case`.
LESS_URGENT: dict[str, Any] = {
    "category": "other",
    "image_seed": None,
    "summary": "A user reports spam links in a public group.",
    "text": "cheap followers, click the link in my profile",
}


def priority(review: ReviewCase) -> str:
    return str(Case.objects.get(pk=review.case_id).priority)


def pixels(page: Page, selector: str) -> dict[str, int]:
    image = page.locator(selector)
    expect(image).to_have_count(1)
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    result: dict[str, int] = image.evaluate(PIXELS_JS)
    return result


def queue_row(page: Page, name: str) -> Any:
    return page.locator("tbody tr").filter(
        has=page.locator("strong", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def case_url(case_id: str) -> re.Pattern[str]:
    return re.compile(rf"/console/cases/{case_id}/(#.*)?$")


def start_reviewing(page: Page, queue: str) -> None:
    queue_row(page, queue).get_by_role("button", name=re.compile("Start reviewing")).click()


def test_sign_in_takes_the_password_then_the_code_from_the_authenticator(
    new_page: Callable[[], Page], staff: Callable[[Role], Staff]
) -> None:
    page = new_page()
    person = staff(Role.SPECIALIST)

    page.goto("/console/queues/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/console/queues/"))
    page.fill("#id_username", person.user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # The password alone is not enough: the console asks for the second factor first.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/verify/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Type your code")
    page.goto("/console/queues/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/verify/"))

    page.fill("#id_code", totp_now(person.totp_secret))
    page.get_by_role("button", name="Verify").click()

    expect(page).to_have_url(re.compile(r"/console/queues/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Queues")
    assert AuditEvent.objects.filter(
        event_type=AuditEventType.USER_SIGNED_IN_SECOND_FACTOR, actor=person.user
    ).exists()


def test_start_reviewing_claims_the_most_urgent_case_with_its_media_blurred(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    urgent = review_case(external_id="ui-urgent", image_seed=4)
    later = review_case(external_id="ui-later", **LESS_URGENT)
    assert priority(urgent) < priority(later)
    page, person = signed_in(Role.SPECIALIST)
    row = queue_row(page, "grooming")
    expect(row.locator("td").nth(1)).to_have_text("2")  # open cases
    save_screenshot(page, "queues.png")

    start_reviewing(page, "grooming")

    expect(page).to_have_url(case_url(urgent.case_id))
    expect(page.locator("h1")).to_contain_text(urgent.case_id)
    expect(page.locator("mark.signal").first).to_have_text("how old are you")
    preview = pixels(page, "img.media.protected")
    assert "/preview?" in (page.locator("img.media.protected").get_attribute("src") or "")
    expect(page.locator("img.media.revealed")).to_have_count(0)
    assert preview["coloured"] == 0  # greyscale
    assert preview["step"] < 16  # blurred: no sharp edges left
    save_screenshot(page, "case.png")
    case = Case.objects.get(pk=urgent.case_id)
    assert (case.holder, case.state) == (person.user, CaseState.IN_REVIEW)
    assert AuditEvent.objects.filter(
        event_type=AuditEventType.CASE_CLAIMED, actor=person.user, target_id=urgent.case_id
    ).exists()
    assert not ContentItem.objects.get(pk=urgent.image_id).viewed_by_person


def test_reveal_shows_the_original_of_one_item_and_is_audited(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="ui-reveal", image_seed=4)
    page, person = signed_in(Role.SPECIALIST)
    start_reviewing(page, "grooming")
    expect(page).to_have_url(case_url(review.case_id))
    before = pixels(page, "img.media.protected")
    assert (before["coloured"], before["step"] < 16) == (0, True)
    expect(page.locator("img.media.revealed")).to_have_count(0)
    assert not AuditEvent.objects.filter(event_type=AuditEventType.MEDIA_REVEALED).exists()

    page.get_by_role("button", name=re.compile(r"^Reveal")).click()

    expect(page).to_have_url(case_url(review.case_id))
    after = pixels(page, "img.media.revealed")
    assert "/full?" in (page.locator("img.media.revealed").get_attribute("src") or "")
    expect(page.locator("img.media.protected")).to_have_count(0)
    assert after["width"] == 256  # the original size, not the preview
    assert after["coloured"] > 0
    assert after["step"] > 64  # the pattern's sharp edges
    expect(page.get_by_text("(viewed by a person)")).to_be_visible()
    event = AuditEvent.objects.get(event_type=AuditEventType.MEDIA_REVEALED)
    assert (event.actor, event.target_id) == (person.user, review.image_id)
    assert ContentItem.objects.get(pk=review.image_id).viewed_by_person


def test_decide_and_submit_and_next_with_the_keyboard_only(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    # `n` on the queues page starts the first queue listed, which for a specialist is csam.
    first = review_case(external_id="kb-first", queue="csam")
    second = review_case(external_id="kb-second", queue="csam", **LESS_URGENT)
    assert priority(first) < priority(second)
    page, person = signed_in(Role.SPECIALIST)
    expect(page.locator("tbody tr").first.locator("strong")).to_have_text("csam")
    keyboard = page.keyboard

    keyboard.press("n")
    expect(page).to_have_url(case_url(first.case_id))
    keyboard.press("r")
    expect(page.locator("img.media.revealed")).to_have_count(1)
    keyboard.press("1")
    expect(page.locator("select.industry-class")).to_have_value("A1")
    keyboard.press("g")
    expect(page.locator('input[data-key="g"]')).to_be_checked()
    keyboard.press("p")
    expect(page.locator('input[data-key="p"]')).to_be_checked()
    keyboard.press("c")
    expect(page.locator("#reason")).to_be_focused()
    keyboard.type("Age probing and a request for secrecy.")
    keyboard.press("Control+Enter")

    expect(page).to_have_url(case_url(second.case_id))
    expect(page.locator(".messages")).to_contain_text("Decision recorded.")
    decision = Decision.objects.get(case_id=first.case_id)
    assert decision.decided_by == person.user
    assert decision.labels == ["grooming"]
    assert decision.item_labels == {first.image_id: "A1"}
    assert decision.requested_actions == ["preserve"]
    assert decision.reason == "Age probing and a request for secrecy."
    assert Case.objects.get(pk=first.case_id).state == CaseState.DECIDED
    nxt = Case.objects.get(pk=second.case_id)
    assert (nxt.holder, nxt.state) == (person.user, CaseState.IN_REVIEW)


def test_escalate_to_lead_moves_the_case_to_the_lead_queue(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="ui-escalate")
    page, person = signed_in(Role.SPECIALIST)
    start_reviewing(page, "grooming")
    expect(page).to_have_url(case_url(review.case_id))

    page.keyboard.press("l")
    expect(page.locator("#note")).to_be_focused()
    page.keyboard.type("Possible sextortion as well; please take a look.")
    page.keyboard.press("Control+l")

    expect(page).to_have_url(re.compile(r"/console/queues/$"))
    expect(page.locator(".messages")).to_contain_text("Escalated to the lead queue.")
    case = Case.objects.get(pk=review.case_id)
    assert (case.queue, case.state, case.holder) == ("lead", CaseState.TRIAGED, None)
    event = AuditEvent.objects.get(
        event_type=AuditEventType.CASE_ESCALATED_TO_LEAD, target_id=review.case_id
    )
    assert event.actor == person.user
    assert event.data["note"] == "Possible sextortion as well; please take a look."
    lead_page, _ = signed_in(Role.LEAD)
    expect(queue_row(lead_page, "lead").locator("td").nth(1)).to_have_text("1")


def test_the_help_overlay_opens_on_question_mark(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="ui-help")
    page, _ = signed_in(Role.SPECIALIST)
    start_reviewing(page, "grooming")
    expect(page).to_have_url(case_url(review.case_id))
    help_overlay = page.locator("#shortcut-help")
    expect(help_overlay).to_have_count(0)

    page.keyboard.press("?")

    expect(help_overlay).to_be_visible()
    expect(help_overlay.get_by_role("heading")).to_have_text("Keyboard shortcuts")
    for key, meaning in [
        ("r", "reveal the next blurred item"),
        ("ctrl+enter", "submit and claim the next case"),
        ("ctrl+l", "escalate to lead"),
    ]:
        expect(help_overlay.locator("tr").filter(has_text=meaning).locator("kbd")).to_have_text(key)
    page.keyboard.press("Escape")
    expect(help_overlay).to_have_count(0)
    page.keyboard.press("?")
    expect(help_overlay).to_be_visible()
    page.keyboard.press("?")
    expect(help_overlay).to_have_count(0)


def test_a_case_page_and_a_media_url_are_not_found_without_permission(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="ui-denied")
    page, _ = signed_in(Role.SPECIALIST)
    start_reviewing(page, "grooming")
    expect(page).to_have_url(case_url(review.case_id))
    media_url = page.locator("img.media.protected").get_attribute("src")
    assert media_url
    own = page.request.get(media_url)
    assert (own.status, own.headers["content-type"]) == (200, "image/png")

    other_specialist, _ = signed_in(Role.SPECIALIST)
    other = other_specialist.goto(media_url)
    assert other is not None
    assert other.status == 404  # the URL is signed for the first specialist only

    auditor, auditor_staff = signed_in(Role.AUDITOR)
    auditor_media = auditor.goto(media_url)
    assert auditor_media is not None
    assert auditor_media.status == 404  # may read cases, not see media
    ungranted = auditor.goto(f"/console/cases/{review.case_id}/")
    assert ungranted is not None
    assert ungranted.status == 404  # an auditor reads only under a lead's grant
    read_grant_create(
        grantee=auditor_staff.user,
        actor=UserFactory(role=Role.LEAD.value),
        reason="Quarterly review of grooming decisions (invented).",
        expires_at=timezone.now() + timedelta(hours=1),
        source=AuditSource.CLI,
        case=Case.objects.get(pk=review.case_id),
    )
    auditor_case = auditor.goto(f"/console/cases/{review.case_id}/")
    assert auditor_case is not None
    assert auditor_case.status == 200
    expect(auditor.locator("img")).to_have_count(0)

    admin, _ = signed_in(Role.ADMIN)
    admin_case = admin.goto(f"/console/cases/{review.case_id}/")
    assert admin_case is not None
    assert admin_case.status == 404
    expect(admin.locator("body")).not_to_contain_text(review.case_id)
