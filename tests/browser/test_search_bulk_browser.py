"""Search and bulk changes in a real browser: a result links to its case; a lead's refused batch
keeps the ticks and the choices with the error beside the field, and a good one changes each
case, audited."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case
from tests.audit_helpers import assert_audited, assert_audited_many, last_event_id
from tests.browser.conftest import ReviewCase, Staff, save_screenshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SignedIn = Callable[[Role], tuple[Page, Staff]]
MakeCase = Callable[..., ReviewCase]


def test_a_search_result_links_to_its_case_and_a_bad_search_is_explained_by_the_box(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    seen = review_case(external_id="find-me", image_seed=None)
    hidden = review_case(external_id="find-hidden", image_seed=None, queue="le-requests")
    page, person = signed_in(Role.SPECIALIST)

    page.goto("/console/search/")
    page.get_by_label("Platform id, content id, hash or escalation id").fill("user:find-")
    page.get_by_role("button", name="Search").click()

    rows = page.locator("table.search-results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("subject user:find-me-suspect (suspect)")
    expect(page.get_by_text(hidden.case_id)).to_have_count(0)
    save_screenshot(page, "search.png")
    assert_audited(
        AuditEventType.CASES_SEARCHED,
        actor=person.user,
        source=AuditSource.CONSOLE,
        data={"query": "user:find-", "cases": [seen.case_id]},
    )
    rows.first.get_by_role("link", name=seen.case_id).click()
    expect(page).to_have_url(re.compile(rf"/console/cases/{seen.case_id}/$"))

    page.goto("/console/search/?q=" + "x" * 201)

    box = page.get_by_label("Platform id, content id, hash or escalation id")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#search-error")).to_have_text(
        "a search is at most 200 characters; this one is 201"
    )


def test_a_lead_changes_many_cases_and_a_refused_batch_keeps_what_was_entered(
    signed_in: SignedIn, review_case: MakeCase
) -> None:
    first = review_case(external_id="bulk-1", image_seed=None)
    second = review_case(external_id="bulk-2", image_seed=None)
    untouched = review_case(external_id="bulk-3", image_seed=None)
    page, lead = signed_in(Role.LEAD)
    page.goto("/console/cases/bulk/?queue=grooming")
    for review in (first, second):
        page.locator(f"#pick-{review.case_id}").check()
    page.locator("#bulk-to-queue").select_option("general")

    # No reason: refused, with every tick and choice still there and the error by the box.
    page.get_by_role("button", name="Reassign the ticked cases").click()

    expect(page.locator("#reason-error")).to_contain_text("needs a reason")
    expect(page.locator("#bulk-reason")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#pick-{first.case_id}")).to_be_checked()
    expect(page.locator(f"#pick-{second.case_id}")).to_be_checked()
    expect(page.locator(f"#pick-{untouched.case_id}")).not_to_be_checked()
    expect(page.locator("#bulk-to-queue")).to_have_value("general")
    assert set(Case.objects.values_list("queue", flat=True)) == {"grooming"}
    save_screenshot(page, "bulk-refused.png")
    before = last_event_id()

    page.locator("#bulk-reason").fill("the general team has capacity tonight")
    page.get_by_role("button", name="Reassign the ticked cases").click()

    expect(page.locator(".messages")).to_contain_text("Reassigned 2 case(s) to queue general.")
    queues = dict(Case.objects.values_list("id", "queue"))
    assert [queues[Case.objects.get(pk=r.case_id).pk] for r in (first, second, untouched)] == [
        "general",
        "general",
        "grooming",
    ]
    assert_audited_many(
        AuditEventType.CASE_REASSIGNED,
        count=2,
        actor=lead.user,
        source=AuditSource.CONSOLE,
        data={"reason": "the general team has capacity tonight"},
        after=before,
    )
    assert_audited(
        AuditEventType.CASES_BULK_CHANGED,
        actor=lead.user,
        data={"action": "reassign", "count": 2, "cases": [first.case_id, second.case_id]},
        after=before,
    )
