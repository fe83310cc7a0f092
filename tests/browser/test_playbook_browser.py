"""A case's playbook in Debian's chromium: a self-harm P0 lists its steps, a step is ticked with
a note (who and when shown, and audited), a refused tick keeps the note beside its error, and a
lead closes with a step unticked only with a reason.

The case page shows the playbook through `{% include "review/_playbook.html" %}` in
review/case.html, with `playbook_context(...)` from safeguard.review.playbook_views in its
context.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case, PlaybookStepTick
from safeguard.cases.workflow import CaseState, Priority
from tests.audit_helpers import assert_audited
from tests.browser.conftest import ReviewCase, Staff, save_screenshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SignedIn = Callable[[Role], tuple[Page, Staff]]
MakeCase = Callable[..., ReviewCase]

# Written out by hand: the built-in self-harm P0 playbook (issue 10).
STEPS = [
    "Contact the local emergency service through a referral",
    "Send the platform's safety resources to the user",
    "Preserve the accounts involved",
    "File a report when the law requires one",
]


def _self_harm_p0(review_case: MakeCase) -> str:
    review = review_case(
        external_id="pb-self-harm",
        queue="general",
        category="self_harm",
        image_seed=None,
        summary="A teenager writes that they will hurt themselves tonight.",
        text="i cant do this anymore, tonight i will hurt myself",
    )
    Case.objects.filter(pk=review.case_id).update(priority=Priority.P0.value)
    return review.case_id


def test_a_self_harm_p0_lists_its_steps_and_ticking_one_is_audited(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    case_id = _self_harm_p0(review_case)
    page, person = signed_in(Role.SPECIALIST)
    page.goto(f"/console/cases/{case_id}/")

    panel = page.locator("section#playbook")
    expect(panel).to_be_visible()
    expect(panel.locator(".step-title")).to_have_text(STEPS)
    expect(panel.locator(".playbook-progress")).to_have_text("0 of 4 steps done")

    # A note of only spaces is refused by the server: the note stays, the error sits beside it.
    step = panel.locator("#playbook-step-emergency-referral")
    step.get_by_label(re.compile("Note: what you did")).fill("   ")
    step.get_by_role("button", name="Mark done").click()
    step = page.locator("#playbook-step-emergency-referral")
    expect(step.locator(".field-error")).to_contain_text("needs a note")
    expect(step.locator("textarea")).to_have_attribute("aria-invalid", "true")
    assert not PlaybookStepTick.objects.filter(case_id=case_id).exists()

    step.locator("textarea").fill("Called the county emergency line, reference 4471.")
    step.get_by_role("button", name="Mark done").click()

    step = page.locator("#playbook-step-emergency-referral")
    expect(step.locator(".step-state")).to_have_text(re.compile("Done"))
    expect(step.locator(".step-tick")).to_contain_text(f"Ticked by {person.user.username}")
    expect(step.locator(".step-note")).to_have_text(
        "Called the county emergency line, reference 4471."
    )
    expect(step.locator(".field-error")).to_have_count(0)
    expect(page.locator(".playbook-progress")).to_have_text("1 of 4 steps done")
    save_screenshot(page, "playbook.png")
    assert_audited(
        AuditEventType.PLAYBOOK_STEP_TICKED,
        target=Case.objects.get(pk=case_id),
        actor=person.user,
        source=AuditSource.CONSOLE,
        data={"step": "emergency-referral", "required": True},
    )


def test_a_lead_closes_with_steps_unticked_only_with_a_reason(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    case_id = _self_harm_p0(review_case)
    Case.objects.filter(pk=case_id).update(state=CaseState.DECIDED.value)
    page, lead = signed_in(Role.LEAD)
    page.goto(f"/console/cases/{case_id}/")

    close = page.locator("form#playbook-close")
    expect(close.locator(".close-blocked")).to_contain_text(STEPS[0])
    close.get_by_label(re.compile("close it anyway")).fill("  ")
    close.get_by_role("button", name="Close with steps skipped").click()
    expect(page.locator("#close-error")).to_contain_text("give a reason")
    assert Case.objects.get(pk=case_id).state == CaseState.DECIDED

    page.locator("#close-reason").fill("A duplicate of a case handled an hour ago.")
    page.get_by_role("button", name="Close with steps skipped").click()

    expect(page.locator(".messages")).to_contain_text("Case closed.")
    assert Case.objects.get(pk=case_id).state == CaseState.CLOSED
    assert_audited(
        AuditEventType.PLAYBOOK_STEPS_WAIVED,
        target=Case.objects.get(pk=case_id),
        actor=lead.user,
        data={"reason": "A duplicate of a case handled an hour ago."},
    )
