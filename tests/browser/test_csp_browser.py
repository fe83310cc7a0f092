"""The Content-Security-Policy in Debian's chromium: markup injected into a console page can
neither run nor load anything, and the pages that need more than the strict policy still work.

Every browser test also fails on any violation the browser reports (tests/browser/conftest.py),
so the console's own pages are checked on every page those tests visit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import enrolment_invite_issue
from safeguard.accounts.totp import totp_now
from safeguard.audit.events import AuditSource
from tests.browser.conftest import PASSWORD, BrowserProblems, ReviewCase, Staff
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SignedIn = Callable[[Role], tuple[Page, Staff]]
MakeCase = Callable[..., ReviewCase]

# What a template that forgot to escape a field would let through: script, an inline handler,
# inline style, an image from elsewhere and one inlined, a <base> and a form to another origin.
INJECTED = (
    '<script id="inj-script">window.injectedRan = true;</script>'
    '<button id="inj-handler" onclick="window.injectedClicked = true">x</button>'
    '<p id="inj-styled" style="color: rgb(255, 0, 0)">styled</p>'
    "<style>body { background: rgb(255, 0, 0) !important; }</style>"
    '<img id="inj-remote" alt="" src="http://elsewhere.invalid/beacon.png">'
    '<img id="inj-inlined" alt="" src="data:image/gif;base64,R0lGODlhAQABAAAAACwAAAAAAQABAAA=">'
    '<base href="http://elsewhere.invalid/">'
    '<form id="inj-form" method="post" action="http://elsewhere.invalid/collect">'
    '<button id="inj-send">send</button></form>'
)


def inject_into_case_pages(page: Page) -> None:
    """Serve the real case page, with the server's own headers, and the markup inside <main>."""

    def handle(route: Route) -> None:
        if route.request.resource_type != "document":
            route.fallback()
            return
        response = route.fetch()
        body = response.text().replace("</main>", INJECTED + "</main>", 1)
        route.fulfill(response=response, body=body)

    page.route(re.compile(r"/console/cases/[0-9a-f-]+/$"), handle)


def directives(problems: list[str]) -> set[str]:
    return {m.group(1) for p in problems if (m := re.match(r"CSP on \S+: (\S+) refused", p))}


def test_markup_injected_into_a_case_page_can_neither_run_nor_load(
    signed_in: SignedIn, review_case: MakeCase, browser_problems: BrowserProblems
) -> None:
    review = review_case(external_id="csp-inject")
    page, _ = signed_in(Role.SPECIALIST)
    inject_into_case_pages(page)

    page.goto(f"/console/cases/{review.case_id}/")
    expect(page.locator("#inj-handler")).to_have_count(1)  # the markup is on the page
    page.click("#inj-handler")
    # The console itself still works under the same policy: its script answers `?`.
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    # Submitted from script: a click would wait for a navigation that the policy never starts.
    page.evaluate('() => document.getElementById("inj-form").requestSubmit()')

    state: dict[str, Any] = page.evaluate(
        """() => ({
          ran: window.injectedRan === true,
          clicked: window.injectedClicked === true,
          styled: getComputedStyle(document.getElementById("inj-styled")).color,
          background: getComputedStyle(document.body).backgroundColor,
          remote: document.getElementById("inj-remote").naturalWidth,
          inlined: document.getElementById("inj-inlined").naturalWidth,
          base: document.baseURI,
          location: location.href,
        })"""
    )
    assert state == {
        "ran": False,
        "clicked": False,
        "styled": "rgb(29, 35, 42)",  # the console's text colour, not the injected red
        "background": "rgb(246, 247, 249)",  # the console's background, not the injected red
        "remote": 0,
        "inlined": 0,
        "base": state["location"],
        "location": state["location"],  # the form was not sent elsewhere
    }
    assert state["location"].endswith(f"/console/cases/{review.case_id}/")
    reported = directives(browser_problems.take(page))
    assert {
        "script-src-elem",
        "script-src-attr",
        "style-src-attr",
        "style-src-elem",
        "img-src",
        "base-uri",
        "form-action",
    } <= reported


def test_script_cannot_write_markup_from_strings(
    signed_in: SignedIn, browser_problems: BrowserProblems
) -> None:
    page, _ = signed_in(Role.SPECIALIST)

    # Trusted Types: a string reaching innerHTML is refused, so a DOM-based injection through
    # the console's own script cannot turn text into markup either.
    outcome = page.evaluate(
        """() => {
          try { document.querySelector("main").innerHTML = "<b>x</b>"; return "written"; }
          catch (error) { return error.name; }
        }"""
    )

    assert outcome == "TypeError"
    assert "require-trusted-types-for" in directives(browser_problems.take(page))


def test_the_console_stylesheet_applies(signed_in: SignedIn) -> None:
    page, _ = signed_in(Role.SPECIALIST)

    styles = page.evaluate(
        """() => ({
          header: getComputedStyle(document.querySelector("header")).backgroundColor,
          brand: getComputedStyle(document.querySelector("header a.brand")).textDecorationLine,
          table: getComputedStyle(document.querySelector("table")).borderCollapse,
        })"""
    )

    assert styles == {"header": "rgb(29, 53, 87)", "brand": "none", "table": "collapse"}


def test_enrolment_shows_its_qr_code_under_its_policy(new_page: Callable[[], Page]) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    issued = enrolment_invite_issue(user=user, actor=None, source=AuditSource.CLI)
    page = new_page()
    page.goto("/console/queues/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.fill("#id_invite", issued.code)
    page.get_by_role("button", name="Continue").click()

    qr = page.get_by_alt_text("QR code for your authenticator app")
    expect(qr).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#id_code", totp_now(secret))
    page.get_by_role("button", name="Confirm").click()

    expect(page.locator("#recovery-codes li")).not_to_have_count(0)
    # Any violation on these pages fails the test when it ends (conftest.new_page).


def test_the_api_documentation_works_under_its_policy(new_page: Callable[[], Page]) -> None:
    page = new_page()

    page.goto("/api/v1/docs")

    expect(page.get_by_role("heading", name=re.compile("Safeguard API"))).to_be_visible()
    operation = page.locator(".opblock-summary").first
    expect(operation).to_be_visible()
    operation.click()
    page.get_by_role("button", name="Try it out").click()
    expect(page.get_by_role("button", name="Execute")).to_be_visible()
