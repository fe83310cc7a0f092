"""The case page in Debian's chromium at 1280x720, under the strict Content-Security-Policy: two
panes with the decision in view, the help dialog in view, refused submits that keep the work,
the clock, the dark theme, and an accessibility scan (in its own context, the only one that
may bypass the policy, because axe-core is injected as a script)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from safeguard.accounts.permissions import Role
from safeguard.cases.models import Case, Decision
from safeguard.cases.workflow import CaseState
from tests.browser.conftest import (
    SCREENSHOTS,
    TIMEOUT_MS,
    ReviewCase,
    Staff,
    save_screenshot,
    sign_in,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SignedIn = Callable[[Role], tuple[Page, Staff]]
MakeCase = Callable[..., ReviewCase]
WIDTH, HEIGHT = 1280, 720

# Everything a person needs to decide: each must be on screen without scrolling.
DECIDE_CONTROLS = [
    ".panel .prio",
    "#clock",
    "#decide legend",
    '#decide input[name="labels"]',
    "#decide select.industry-class",
    '#decide input[name="actions"]',
    '#decide input[name="referrals"]',
    "#reason",
    '#decide button[type="submit"]',
]


def p0(review: ReviewCase, *, due_in: timedelta = timedelta(minutes=12)) -> None:
    """Make the case a P0 with its first-action deadline `due_in` from now."""
    now = timezone.now()
    Case.objects.filter(pk=review.case_id).update(
        priority="P0",
        opened_at=now - timedelta(minutes=3),
        first_action_due=now + due_in,
        explanation="P0 because: a child's safety is at risk tonight (synthetic).",
    )


def open_case(page: Page, review: ReviewCase, queue: str = "grooming") -> None:
    """Claim the case from its queue, as a person does, at 1280x720."""
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.goto("/console/queues/")
    page.locator(f'form[action="/console/queues/{queue}/start"] button').click()
    expect(page).to_have_url(re.compile(rf"/console/cases/{review.case_id}/(#.*)?$"))


def off_screen(page: Page, selectors: list[str]) -> list[str]:
    """The elements among `selectors` not wholly inside the viewport (each match checked)."""
    missing = []
    for selector in selectors:
        found = page.locator(selector)
        assert found.count() > 0, f"nothing matches {selector}"
        for n in range(found.count()):
            box = found.nth(n).bounding_box()
            if (
                box is None
                or box["y"] < 0
                or box["x"] < 0
                or box["y"] + box["height"] > HEIGHT
                or box["x"] + box["width"] > WIDTH
            ):
                missing.append(f"{selector}[{n}] at {box}")
    return missing


def viewport_shot(page: Page, name: str) -> None:
    """A picture of what the person sees at 1280x720 (not the whole page), when asked for."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name))


def test_the_decision_panel_is_in_view_at_1280x720_and_stays_while_the_evidence_scrolls(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="two-pane")
    p0(review)
    second = review_case(external_id="two-pane-next", image_seed=5)
    page, _ = signed_in(Role.SPECIALIST)
    open_case(page, review)

    assert page.evaluate("() => window.scrollY") == 0
    assert off_screen(page, DECIDE_CONTROLS) == []
    expect(page.locator(".panel .prio")).to_have_text("P0")
    expect(page.locator(".panel .prio-icon")).to_have_count(1)
    expect(page.locator(".panel .explanation")).to_contain_text("P0 because")
    expect(page.locator("#clock time.countdown")).to_have_text(re.compile(r"^due in 1[12]m \d+s$"))
    # Two panes: the evidence on the left, the panel on the right, side by side.
    evidence = page.locator(".evidence").bounding_box()
    panel = page.locator(".panel").bounding_box()
    assert evidence is not None
    assert panel is not None
    assert evidence["x"] + evidence["width"] <= panel["x"]
    viewport_shot(page, "case-1280x720.png")
    save_screenshot(page, "case-two-pane.png")

    # The evidence scrolls; the panel does not leave the screen.
    page.locator("#h-trail").scroll_into_view_if_needed()
    assert page.evaluate("() => window.scrollY") > 0
    assert off_screen(page, DECIDE_CONTROLS) == []

    # And the keys still decide, with the panel never out of view.
    page.keyboard.press("g")
    page.keyboard.press("1")
    page.keyboard.press("c")
    page.keyboard.type("Secrecy and age probing (synthetic).")
    page.keyboard.press("Control+Enter")

    # The next case, with the message of the last one: the panel is still wholly in view.
    expect(page).to_have_url(re.compile(rf"/console/cases/{second.case_id}/$"))
    expect(page.locator(".messages li.success")).to_have_text("Decision recorded.")
    assert off_screen(page, DECIDE_CONTROLS) == []
    viewport_shot(page, "case-1280x720-next.png")
    decision = Decision.objects.get(case_id=review.case_id)
    assert (decision.labels, decision.item_labels) == (["grooming"], {review.image_id: "A1"})

    page.goto(f"/console/cases/{review.case_id}/")
    # The clock stopped at the decision and says so; nothing counts down any more.
    expect(page.locator("time.countdown")).to_have_count(0)
    expect(page.locator("#clock")).to_have_text(
        re.compile(r"^First action \d+ m after intake, within target \(\d\d:\d\d \S+\)$")
    )
    expect(page.locator("#clock")).to_have_class(re.compile(r"\bclock-met\b"))
    expect(page.locator(".history")).to_contain_text("Labels: Grooming")
    expect(page.locator(".history")).to_contain_text("img:two-pane (image) — A1")
    expect(page.locator(".casehead .state")).to_have_text("Decided")


def test_an_overdue_case_counts_up_in_red_with_a_shape_as_well(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="overdue")
    p0(review, due_in=timedelta(seconds=-35))
    page, _ = signed_in(Role.SPECIALIST)
    open_case(page, review)

    countdown = page.locator("#clock time.countdown")
    expect(countdown).to_have_text(re.compile(r"^overdue by 0m \d+s$"))
    expect(countdown).to_have_class(re.compile(r"\boverdue\b"))
    clock = page.locator("#clock")
    icon = clock.locator(".clock-icon").evaluate("el => getComputedStyle(el, '::before').content")
    assert icon == '"⚠"'
    assert clock.evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"


def test_the_help_opens_in_view_takes_the_focus_and_gives_it_back(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="help")
    page, _ = signed_in(Role.SPECIALIST)
    open_case(page, review)
    page.locator("#h-trail").scroll_into_view_if_needed()  # `?` from far down the page
    page.locator('input[data-key="g"]').focus()

    page.keyboard.press("?")

    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    assert dialog.get_attribute("aria-modal") == "true"
    assert off_screen(page, ["#shortcut-help"]) == []
    assert page.evaluate("() => document.activeElement.closest('#shortcut-help') !== null")
    # Modal: in the top layer, over a dimmed page.
    assert page.evaluate("() => document.querySelector('#shortcut-help:modal') !== null")
    backdrop = dialog.evaluate("el => getComputedStyle(el, '::backdrop').backgroundColor")
    assert backdrop == "rgba(0, 0, 0, 0.55)"
    # The page behind does not answer keys while the help is open.
    page.keyboard.press("s")
    expect(page.locator('input[data-key="s"]')).not_to_be_checked()
    viewport_shot(page, "case-help.png")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcut-help")).to_have_count(0)
    assert page.evaluate("() => document.activeElement.getAttribute('data-key')") == "g"

    page.keyboard.press("?")
    dialog.get_by_role("button", name=re.compile("Close")).click()
    expect(page.locator("#shortcut-help")).to_have_count(0)

    # In a text box `?` is a question mark.
    page.locator("#reason").focus()
    page.keyboard.type("why?")
    expect(page.locator("#reason")).to_have_value("why?")
    expect(page.locator("#shortcut-help")).to_have_count(0)


def _submit_and_status(page: Page, button: str) -> int:
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator(button).click()
    return answer.value.status


def test_a_refused_label_rule_keeps_the_ticks_and_reason_and_shows_the_error_as_an_error(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="refused-rule")
    page, _ = signed_in(Role.SPECIALIST)
    open_case(page, review)
    page.keyboard.press("0")  # not violating
    page.keyboard.press("p")  # preserve: not allowed with "not violating"
    page.keyboard.press("2")
    page.locator("#reason").fill("Friends joking, I think.")

    status = _submit_and_status(page, '#decide button:has-text("Submit ctrl+s")')

    assert status == 422
    error = page.locator("#labels-error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("Error Not recorded: 'not_violating' stands alone")
    # Read out as "⚠ Error: …" (the mark and colon come from the stylesheet).
    lead = error.locator("strong")
    assert lead.evaluate("el => getComputedStyle(el, '::before').content") == '"⚠ "'
    assert lead.evaluate("el => getComputedStyle(el, '::after').content") == '":"'
    expect(page.locator("#decide fieldset").first).to_have_attribute(
        "aria-describedby", "labels-error"
    )
    expect(page.locator('input[data-key="0"]')).to_be_checked()
    expect(page.locator('input[data-key="p"]')).to_be_checked()
    expect(page.locator("select.industry-class")).to_have_value("A2")
    expect(page.locator("#reason")).to_have_value("Friends joking, I think.")
    assert off_screen(page, ["#labels-error", "#reason", '#decide button[type="submit"]']) == []
    # Red, with its own icon: nothing like the blue of information or the green of success.
    colour = error.evaluate("el => getComputedStyle(el).color")
    assert colour == "rgb(164, 22, 26)"
    assert error.evaluate("el => getComputedStyle(el).borderLeftWidth") == "4px"
    viewport_shot(page, "case-refused.png")
    assert not Decision.objects.filter(case_id=review.case_id).exists()

    # Corrected in place and sent again: recorded, in a different style.
    page.locator('input[data-key="0"]').uncheck()
    page.keyboard.press("g")
    page.locator('#decide button:has-text("Submit ctrl+s")').click()
    success = page.locator(".messages li.success")
    expect(success).to_have_text("Decision recorded.")
    assert success.evaluate("el => getComputedStyle(el).color") != colour
    assert Decision.objects.get(case_id=review.case_id).requested_actions == ["preserve"]


def test_a_whitespace_reason_is_refused_beside_the_reason_with_the_ticks_kept(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="refused-space")
    page, _ = signed_in(Role.SPECIALIST)
    open_case(page, review)
    page.keyboard.press("g")
    page.keyboard.press("s")
    page.keyboard.press("m")
    page.locator("#reason").fill("   ")

    status = _submit_and_status(page, '#decide button:has-text("Submit ctrl+s")')

    assert status == 422
    expect(page.locator("#reason-error")).to_contain_text(
        "Error Not recorded: a decision needs a reason"
    )
    expect(page.locator("#reason")).to_have_attribute("aria-describedby", "reason-error")
    expect(page.locator("#reason")).to_be_focused()
    for key in ("g", "s", "m"):
        expect(page.locator(f'input[data-key="{key}"]')).to_be_checked()
    assert Case.objects.get(pk=review.case_id).state == CaseState.IN_REVIEW


def test_a_stale_claim_is_refused_with_409_and_nothing_typed_is_lost(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="refused-stale")
    page, _ = signed_in(Role.SPECIALIST)
    open_case(page, review)
    page.keyboard.press("g")
    page.keyboard.press("b")
    page.locator("#reason").fill("A long reason written over ten minutes (synthetic).")
    # Meanwhile the lease lapsed and someone else claimed the case.
    Case.objects.filter(pk=review.case_id).update(holder=UserFactory(role=Role.SPECIALIST.value))

    status = _submit_and_status(page, '#decide button:has-text("Submit ctrl+s")')

    assert status == 409
    expect(page.locator("#decide-error")).to_contain_text("no longer hold this case's claim")
    expect(page.locator("#decide-error")).to_have_attribute("role", "alert")
    expect(page.locator('input[data-key="g"]')).to_be_checked()
    expect(page.locator('input[data-key="b"]')).to_be_checked()
    expect(page.locator("#reason")).to_have_value(
        "A long reason written over ten minutes (synthetic)."
    )
    assert not Decision.objects.filter(case_id=review.case_id).exists()


def test_what_was_typed_survives_a_reveal_and_a_note(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="draft")
    page, _ = signed_in(Role.SPECIALIST)
    open_case(page, review)
    page.keyboard.press("g")
    page.locator("#reason").fill("Half a reason")
    page.locator("#reason").blur()

    page.keyboard.press("r")

    expect(page.locator("img.media.revealed")).to_have_count(1)
    expect(page.locator("#reason")).to_have_value("Half a reason")
    expect(page.locator('input[data-key="g"]')).to_be_checked()

    # A refused note comes back with its own text and error; the decision's draft is kept too.
    page.locator("#note-text").fill("  ")
    assert _submit_and_status(page, '.note-form button[type="submit"]') == 422
    expect(page.locator("#note-text-error")).to_be_visible()
    expect(page.locator("#reason")).to_have_value("Half a reason")
    expect(page.locator('input[data-key="g"]')).to_be_checked()
    # A note added: the note's own draft goes, the decision's stays.
    page.locator("#note-text").fill("Checked the reporter's history.")
    page.locator('.note-form button[type="submit"]').click()
    expect(page.locator(".messages li.success")).to_have_text("Note added.")
    expect(page.locator("#note-text")).to_have_value("")
    expect(page.locator("#reason")).to_have_value("Half a reason")
    expect(page.locator('input[data-key="g"]')).to_be_checked()


def test_dark_mode_follows_the_system_can_be_chosen_and_dims_revealed_media(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    review = review_case(external_id="dark")
    page, _ = signed_in(Role.SPECIALIST)
    open_case(page, review)
    page.keyboard.press("r")
    expect(page.locator("img.media.revealed")).to_have_count(1)
    body_bg = "() => getComputedStyle(document.body).backgroundColor"
    media_filter = "el => getComputedStyle(el).filter"
    assert page.evaluate(body_bg) == "rgb(246, 247, 249)"
    assert page.locator("img.media.revealed").evaluate(media_filter) == "none"

    page.emulate_media(color_scheme="dark")
    assert page.evaluate(body_bg) == "rgb(18, 22, 27)"
    assert "brightness(0.7)" in page.locator("img.media.revealed").evaluate(media_filter)
    expect(page.locator("#theme-toggle")).to_have_attribute("aria-pressed", "true")
    page.evaluate("() => window.scrollTo(0, 0)")
    viewport_shot(page, "case-1280x720-dark.png")

    # The person's own choice wins over the system's, and is kept in this browser.
    page.locator("#theme-toggle").click()
    assert page.evaluate(body_bg) == "rgb(246, 247, 249)"
    page.reload()
    assert page.evaluate("() => document.documentElement.dataset.theme") == "light"
    assert page.evaluate(body_bg) == "rgb(246, 247, 249)"
    page.locator("#theme-toggle").click()
    page.emulate_media(color_scheme="light")
    assert page.evaluate(body_bg) == "rgb(18, 22, 27)"
    expect(page.locator("#theme-toggle")).to_have_attribute("aria-pressed", "true")


def _serious(results: Any) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] for n in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_case_page_has_no_serious_accessibility_violation(
    browser: Browser, live_server: Any, staff: Callable[[Role], Staff], review_case: MakeCase
) -> None:
    review = review_case(external_id="axe")
    p0(review)
    # Its own context: axe-core is a script injected into the page, which the policy refuses.
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": WIDTH, "height": HEIGHT}, bypass_csp=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page, staff(Role.SPECIALIST))
        open_case(page, review)
        axe = Axe()
        found = {"light": _serious(axe.run(page))}
        page.locator("#reason").fill(" ")
        page.locator('#decide button:has-text("Submit ctrl+s")').click()
        expect(page.locator("#reason-error")).to_be_visible()
        found["refused"] = _serious(axe.run(page))
        page.emulate_media(color_scheme="dark")
        found["dark"] = _serious(axe.run(page))
        page.keyboard.press("Escape")
        page.locator("body").click(position={"x": 5, "y": 700})
        page.keyboard.press("?")
        expect(page.locator("#shortcut-help")).to_be_visible()
        found["help"] = _serious(axe.run(page))
    finally:
        context.close()
    assert found == {"light": [], "refused": [], "dark": [], "help": []}
