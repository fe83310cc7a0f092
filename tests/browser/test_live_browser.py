"""Live updates in Debian's chromium, under the strict Content-Security-Policy (Trusted Types
included): the P0 banner on every page, the queues table and htmx's own parser.

Every browser test fails on any policy violation or script error (tests/browser/conftest.py),
so each poll htmx makes here is also a check that its parsing passes the Trusted Types policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditSource
from safeguard.cases.models import Case, Queue
from safeguard.cases.queues import queue_claim_next
from tests.browser.conftest import BrowserProblems, ReviewCase, Staff, save_screenshot
from tests.conftest import ApiClient, case_of, escalation_body
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SignedIn = Callable[[Role], tuple[Page, Staff]]
MakeCase = Callable[..., ReviewCase]
# A law-enforcement emergency: triage ranks it P0 (docs/triage.md).
EMERGENCY = escalation_body(
    channel="law_enforcement",
    category="imminent_danger",
    summary="Police report a credible plan to meet a 13-year-old tonight (synthetic).",
    law_enforcement={
        "agency": "Example Police (fictional)",
        "country": "US",
        "request_type": "emergency_disclosure",
        "contact": "desk@police.example",
    },
)
LIVE_TIMEOUT_MS = 8_000


@pytest.fixture(autouse=True)
def _fast_polls(settings: Any) -> None:
    # Every live region polls each second here (5 s by default), so a test waits little.
    settings.SAFEGUARD_LIVE_POLL_SECONDS = 1


def test_a_new_p0_shows_a_banner_on_another_page_without_a_reload(
    signed_in: SignedIn, service_api: ApiClient, browser_problems: BrowserProblems
) -> None:
    page, person = signed_in(Role.SPECIALIST)
    person.user.p0_sound = "chime"
    person.user.save(update_fields=["p0_sound"])
    page.goto("/console/wellbeing/")
    page.wait_for_timeout(1_500)  # at least one poll with nothing waiting
    expect(page.locator(".p0-banner")).to_have_count(0)
    page.evaluate("() => { window.notReloaded = true; }")

    created = service_api.post("/api/v1/escalations", EMERGENCY)
    assert created.status_code == 201, created.content
    case = case_of(created.json())
    assert case.priority == "P0"

    banner = page.locator("#live-banner .p0-banner")
    expect(banner).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(banner).to_contain_text("1 P0 case waiting")
    link = banner.get_by_role("link", name=f"Case {str(case.pk)[:8]} in {case.queue}")
    expect(link).to_have_attribute("href", f"/console/cases/{case.pk}/")
    assert page.evaluate("() => window.notReloaded") is True
    assert page.url.endswith("/console/wellbeing/")
    # The chosen sound played, or, where the browser holds sound back until the person has
    # clicked on the page, the banner offers a button that plays it.
    expect(page.locator("#live-banner")).to_have_attribute(
        "data-sound", re.compile("^(played|blocked)$")
    )
    if page.locator("#live-banner").get_attribute("data-sound") == "blocked":
        page.get_by_role("button", name="Play the P0 sound").click()
        expect(page.get_by_role("button", name="Play the P0 sound")).to_have_count(0)
    save_screenshot(page, "p0-banner.png")

    # The banner follows the person to every page, and goes once the P0 is taken.
    page.goto("/pages/")
    expect(page.locator("#live-banner .p0-banner")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    # Heard once in this tab: moving to another page does not play it again.
    page.wait_for_timeout(300)
    assert page.locator("#live-banner").get_attribute("data-sound") is None
    page.locator("#live-banner").get_by_role("button", name="Take the most urgent").click()
    page.wait_for_url(f"**/console/cases/{case.pk}/")
    expect(page.locator("#live-banner .p0-banner")).to_have_count(0, timeout=LIVE_TIMEOUT_MS)
    assert browser_problems.take(page) == []


def test_the_queues_table_shows_a_claim_by_someone_else_without_a_reload(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="live-claim", queue="grooming", image_seed=None)
    page, _ = signed_in(Role.SPECIALIST)
    page.goto("/console/queues/")
    row = page.locator("table.queues tr", has=page.locator("th", has_text="grooming"))
    being_reviewed = row.locator("td").nth(2)
    expect(being_reviewed).to_have_text("0")
    page.evaluate("() => { window.notReloaded = true; }")
    focused = page.get_by_role("button", name="Start reviewing the grooming queue")
    focused.focus()
    page.wait_for_timeout(1_500)
    # Polls that find nothing new swap nothing: the focus stays where the person left it.
    assert page.evaluate("() => document.activeElement.textContent") == (
        "Start reviewing the grooming queue"
    )

    colleague = UserFactory(role=Role.SPECIALIST.value)
    queue_claim_next(
        queue=Queue.objects.get(name="grooming"),
        actor=colleague,
        lease=timedelta(minutes=10),
        source=AuditSource.CONSOLE,
    )
    assert Case.objects.get(pk=review.case_id).holder == colleague

    expect(being_reviewed).to_have_text("1", timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("() => window.notReloaded") is True


def test_markup_reaches_the_page_through_htmx_only(
    signed_in: SignedIn, browser_problems: BrowserProblems
) -> None:
    page, _ = signed_in(Role.SPECIALIST)
    page.goto("/console/queues/")
    expect(page.locator("#queues-live table.queues")).to_be_visible()

    # The one Trusted Types policy passes htmx's parser and nothing else: the same string is
    # refused at innerHTML and by DOMParser outside htmx's wrapper, and no other policy can be
    # made. (eval cannot be tried from here: the DevTools protocol Playwright evaluates through
    # allows it whatever the page's policy says.)
    outcome = page.evaluate(
        """() => {
          const WRAPPED =
            '<body><template class="internal-htmx-wrapper"><b>x</b></template></body>';
          const tries = {
            innerHTML: () => { document.querySelector("main").innerHTML = "<b>x</b>"; },
            parser: () => new DOMParser().parseFromString("<b>x</b>", "text/html"),
            // What htmx parses: its wrapper around a fragment, at either parsing sink.
            wrapped: () => new DOMParser().parseFromString(WRAPPED, "text/html"),
            unsafe: () => Document.parseHTMLUnsafe(WRAPPED),
            policy: () => trustedTypes.createPolicy("mine", { createHTML: (s) => s }),
          };
          const out = {};
          for (const [name, run] of Object.entries(tries)) {
            try { run(); out[name] = "allowed"; } catch (error) { out[name] = error.name; }
          }
          return out;
        }"""
    )

    assert outcome == {
        "innerHTML": "TypeError",
        "parser": "TypeError",
        "wrapped": "allowed",
        "unsafe": "allowed",
        "policy": "TypeError",
    }
    reported = browser_problems.take(page)
    assert any("require-trusted-types-for" in p for p in reported), reported
    assert any("trusted-types" in p and "mine" in p for p in reported), reported


def test_the_case_page_shows_a_claim_by_someone_else_without_a_reload(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="live-case", queue="grooming", image_seed=None)
    page, _ = signed_in(Role.SPECIALIST)
    page.goto(f"/console/cases/{review.case_id}/")
    live = page.locator("#case-live")
    expect(live).to_contain_text("Holder: nobody", timeout=LIVE_TIMEOUT_MS)
    page.evaluate("() => { window.notReloaded = true; }")

    colleague = UserFactory(role=Role.SPECIALIST.value, username="colleague-live")
    queue_claim_next(
        queue=Queue.objects.get(name="grooming"),
        actor=colleague,
        lease=timedelta(minutes=10),
        source=AuditSource.CONSOLE,
    )

    expect(live).to_contain_text(
        "colleague-live is working on this case now", timeout=LIVE_TIMEOUT_MS
    )
    assert page.evaluate("() => window.notReloaded") is True
    save_screenshot(page, "case-claimed-by-other.png")


def test_a_p0_followed_from_the_banner_is_claimed_on_its_own_page(
    signed_in: SignedIn, service_api: ApiClient
) -> None:
    page, person = signed_in(Role.SPECIALIST)
    created = service_api.post("/api/v1/escalations", EMERGENCY)
    assert created.status_code == 201, created.content
    case = case_of(created.json())
    page.goto("/console/wellbeing/")

    banner = page.locator("#live-banner .p0-banner")
    banner.get_by_role("link", name=f"Case {str(case.pk)[:8]} in {case.queue}").click()
    page.wait_for_url(f"**/console/cases/{case.pk}/")
    page.get_by_role("button", name="Claim this case").click()

    page.wait_for_url(f"**/console/cases/{case.pk}/")
    expect(page.locator("#decide")).to_be_visible()
    case.refresh_from_db()
    assert case.holder_id == person.user.pk
