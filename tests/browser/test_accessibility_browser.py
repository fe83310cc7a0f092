"""Accessibility: axe-core finds no serious or critical violation on the console's pages, in the
light and the dark theme (tests/browser/a11y.py runs it, in a context of its own)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from safeguard.accounts.permissions import Role
from safeguard.cases.models import Case
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import ReviewCase, Staff
from tests.factories import PageFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SignedIn = Callable[[Role], tuple[Page, Staff]]
MakeCase = Callable[..., ReviewCase]
SCHEMES = ["light", "dark"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_queues_page(signed_in: SignedIn, review_case: MakeCase, scheme: str) -> None:
    review_case(external_id="a11y-queues", queue="grooming")
    Case.objects.update(priority="P0")  # a queue holding a P0, and the banner, are on the page
    page, _ = signed_in(Role.SPECIALIST)

    assert_accessible(page, "/console/queues/", color_scheme=scheme, wait_for=".p0-banner")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_case_page(signed_in: SignedIn, review_case: MakeCase, scheme: str) -> None:
    review = review_case(external_id="a11y-case")
    page, _ = signed_in(Role.SPECIALIST)
    page.goto("/console/queues/")
    page.get_by_role("button", name="Start reviewing the grooming queue").click()
    page.wait_for_url(f"**/console/cases/{review.case_id}/")

    assert_accessible(page, f"/console/cases/{review.case_id}/", color_scheme=scheme)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_dashboard_and_the_other_pages(
    signed_in: SignedIn, review_case: MakeCase, scheme: str
) -> None:
    review = review_case(external_id="a11y-home", image_seed=None)
    page, person = signed_in(Role.LEAD)
    PageFactory(case=Case.objects.get(pk=review.case_id), recipient=person.user)

    for url in ("/", "/pages/", "/accounts/preferences/", "/console/wellbeing/"):
        assert_accessible(page, url, color_scheme=scheme)


def test_the_check_fails_on_a_serious_violation(signed_in: SignedIn) -> None:
    """The scanner can fail: a button without a name and an image without a text alternative,
    put on the page in the scanner's own context, are each reported."""
    page, _ = signed_in(Role.SPECIALIST)

    def spoil(scanned: Page) -> None:
        scanned.evaluate(
            """() => {
              const main = document.querySelector("main");
              main.appendChild(document.createElement("button"));
              const img = document.createElement("img");
              img.src = "/static/review/none.png";
              main.appendChild(img);
            }"""
        )

    with pytest.raises(AssertionError) as failed:
        assert_accessible(page, "/console/queues/", prepare=spoil)

    assert "button-name (critical)" in str(failed.value)
    assert "image-alt (critical)" in str(failed.value)
