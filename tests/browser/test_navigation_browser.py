"""Getting to the work in Debian's chromium: `n` takes the most urgent case across every queue,
the queues are listed by urgency, case ids link to their cases, times are in the person's zone,
and the second-factor page shows no navigation (issue 10, items 4, 7, 8 and 11)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from safeguard.accounts.permissions import Role
from safeguard.cases.models import Case
from tests.browser.conftest import (
    PASSWORD,
    BrowserProblems,
    ReviewCase,
    Staff,
    save_screenshot,
    sign_in,
)
from tests.factories import PageFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SignedIn = Callable[[Role], tuple[Page, Staff]]
MakeCase = Callable[..., ReviewCase]


def test_n_on_queues_opens_the_oldest_p0_across_every_queue(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    """The reproduction: with two P0s in `emergency`, `n` on Queues opened a P1 in `csam`."""
    now = timezone.now()
    p1 = review_case(external_id="nav-p1", queue="csam", image_seed=None)
    older_p0 = review_case(external_id="nav-p0-old", queue="emergency", image_seed=None)
    newer_p0 = review_case(external_id="nav-p0-new", queue="emergency", image_seed=None)
    # The P1 is the oldest and the most overdue: priority still comes first.
    Case.objects.filter(pk=p1.case_id).update(
        priority="P1", opened_at=now - timedelta(hours=3), first_action_due=now - timedelta(hours=2)
    )
    Case.objects.filter(pk=older_p0.case_id).update(
        priority="P0",
        opened_at=now - timedelta(minutes=9),
        first_action_due=now + timedelta(minutes=6),
    )
    Case.objects.filter(pk=newer_p0.case_id).update(
        priority="P0",
        opened_at=now - timedelta(minutes=2),
        first_action_due=now + timedelta(minutes=13),
    )
    page, _ = signed_in(Role.SPECIALIST)
    page.goto("/console/queues/")

    # Listed by urgency: the queue holding the P0s first, marked in words, not colour alone.
    first_row = page.locator("table.queues tbody tr").first
    expect(first_row.locator("th")).to_contain_text("emergency")
    expect(first_row.locator("th")).to_contain_text("P0 waiting")
    expect(first_row).to_have_class(re.compile(r"\bhas-p0\b"))
    # One `n`: the start button above the table; the per-queue buttons carry no key.
    expect(page.locator('[data-key="n"]')).to_have_count(1)
    expect(page.locator('[data-key="n"]')).to_contain_text("Start reviewing (most urgent first)")
    save_screenshot(page, "queues.png")
    page.emulate_media(color_scheme="dark")
    save_screenshot(page, "queues-dark.png")
    page.emulate_media(color_scheme="light")

    page.keyboard.press("n")

    page.wait_for_url(f"**/console/cases/{older_p0.case_id}/")
    assert Case.objects.get(pk=older_p0.case_id).holder is not None


def test_start_reviewing_with_every_queue_empty_says_so(signed_in: SignedIn) -> None:
    page, _ = signed_in(Role.SPECIALIST)
    page.goto("/console/queues/")

    page.get_by_role("button", name=re.compile(r"^Start reviewing \(most urgent first\)")).click()

    page.wait_for_url("**/console/queues/")
    expect(page.locator(".messages")).to_contain_text("Every queue you work is empty")


def test_case_ids_link_to_their_cases_on_pages_and_home(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="nav-links", queue="grooming", image_seed=None)
    page, person = signed_in(Role.SPECIALIST)
    case = Case.objects.get(pk=review.case_id)
    # An escalated page quotes the first one, which named the case too (issue 10, item 1).
    PageFactory(
        case=case,
        recipient=person.user,
        message=f"UNACKNOWLEDGED P0 case {case.pk}: P0 case {case.pk}: a minor states intent",
    )

    page.goto("/pages/")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("UNACKNOWLEDGED P0 case")
    expect(row).to_contain_text(": a minor states intent")
    assert row.inner_text().count(str(case.pk)) == 1
    save_screenshot(page, "pages.png")
    row.get_by_role("link", name=str(case.pk)).click()
    page.wait_for_url(f"**/console/cases/{case.pk}/")

    page.goto("/")
    page.get_by_role("link", name=str(case.pk)).click()
    page.wait_for_url(f"**/console/cases/{case.pk}/")


def test_times_follow_the_browser_zone_until_the_person_chooses_one(
    browser: Browser,
    live_server: Any,
    browser_problems: BrowserProblems,
    staff: Callable[[Role], Staff],
    review_case: MakeCase,
) -> None:
    review_case(external_id="nav-tz", image_seed=None)
    # A browser in Tokyo: live.js puts its zone in the sg_tz cookie on the first page.
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, timezone_id="Asia/Tokyo"
    )
    browser_problems.watch(context)
    page = context.new_page()
    sign_in(page, staff(Role.LEAD), then="/")
    page.goto("/")
    opened = page.locator("tbody time").first
    expect(opened).to_contain_text("JST")
    expect(opened).to_have_attribute("title", re.compile(r" UTC$"))
    expect(page.locator("header")).to_contain_text("times in Asia/Tokyo")

    page.goto("/accounts/preferences/")
    page.fill("#id_time_zone", "Not/AZone")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator("#time_zone-error")).to_contain_text("not a time zone name")
    expect(page.locator("#id_time_zone")).to_have_value("Not/AZone")
    save_screenshot(page, "preferences-error.png")
    page.fill("#id_time_zone", "America/Chicago")
    page.select_option("#id_p0_sound", "beep")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator(".messages")).to_contain_text("Preferences saved.")
    save_screenshot(page, "preferences.png")

    page.goto("/")
    expect(page.locator("tbody time").first).to_contain_text("CST")
    expect(page.locator("body")).to_have_attribute("data-p0-sound", "beep")
    save_screenshot(page, "home.png")
    assert browser_problems.take(page) == []
    context.close()


def test_the_second_factor_page_shows_no_navigation(
    new_page: Callable[[], Page], staff: Callable[[Role], Staff]
) -> None:
    person = staff(Role.SPECIALIST)
    page = new_page()
    page.goto("/console/queues/")
    page.fill("#id_username", person.user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/verify/"))

    header = page.locator("header")
    for name in ("Queues", "Pages", "Wellbeing", "Search", "Preferences"):
        expect(header.get_by_role("link", name=name)).to_have_count(0)
    expect(header.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("#live-banner")).to_have_count(0)
    save_screenshot(page, "verify.png")
