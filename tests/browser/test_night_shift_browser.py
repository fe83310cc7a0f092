"""Issue 10's "done when", in the demo at a simulated 3 a.m., in Debian's chromium.

The demo is seeded as `safeguard demo` seeds it, with its on-call list, and its staff's display
zone set to one where it is about 03:22 now. A specialist presses `n` and gets the oldest P0,
decides it at 1280x720 without scrolling, and its page stops; a P0 nobody claims breaches and
pages; the countdown of an actioned case says when it was actioned.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from safeguard.accounts.models import User
from safeguard.accounts.totp import totp_now
from safeguard.audit.events import AuditEventType
from safeguard.audit.models import AuditEvent
from safeguard.cases.models import Case
from safeguard.cases.queues import SERVING_ORDER
from safeguard.cases.selectors import workable_queue_names
from safeguard.cases.workflow import CaseState
from safeguard.config.demo import demo_night_shift, demo_seed
from safeguard.rota.models import Page as PageRecord
from safeguard.rota.models import PageKind
from tests.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def night(settings: Any, tmp_path: Any) -> dict[str, Any]:
    settings.SAFEGUARD_VAR_DIR = tmp_path
    # The on-call list `safeguard demo` sets (config/cli.py).
    settings.SAFEGUARD_ONCALL = ["sam.specialist"]
    settings.SAFEGUARD_ONCALL_LEAD = "lee.lead"
    logins = demo_seed()
    zone = demo_night_shift()
    return {"logins": logins, "zone": zone}


def _sign_in(page: Page, username: str, password: str, secret: str) -> None:
    page.goto("/console/queues/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/accounts/2fa/verify/"))
    page.fill("#id_code", totp_now(secret))
    page.click("button:has-text('Verify')")
    page.wait_for_url(re.compile(r"/console/queues/$"))


def _inside_viewport(page: Page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    assert box is not None
    assert size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


def test_the_night_shift(new_page: Callable[[], Page], night: dict[str, Any]) -> None:
    sam = User.objects.get(username="sam.specialist")
    zone = ZoneInfo(night["zone"])
    assert timezone.now().astimezone(zone).hour in (2, 3, 4)
    open_p0 = Case.objects.filter(
        priority="P0",
        state=CaseState.TRIAGED,
        queue__in=workable_queue_names(sam),
    ).order_by(*SERVING_ORDER)
    assert open_p0.count() >= 2, "the demo has P0s waiting"
    oldest = open_p0.first()
    assert oldest is not None
    # The demo pages the on-call specialist about each P0 at intake.
    assert PageRecord.objects.filter(case=oldest, kind=PageKind.P0, recipient=sam).exists()

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 720})
    _sign_in(
        page, "sam.specialist", night["logins"].staff["sam.specialist"], night["logins"].totp_secret
    )
    # Times are the specialist's: the hour shown is the night's, with UTC on hover.
    shown = page.locator("time[title$='UTC']").first
    expect(shown).to_be_attached()

    page.keyboard.press("n")
    page.wait_for_url(re.compile(rf"/console/cases/{oldest.pk}/$"))
    for control in ("#decide input[name=labels]", "#reason", "#decide button.primary"):
        assert _inside_viewport(page, control), f"{control} is below the fold at 1280x720"
    page.check("#decide input[value=imminent_danger]")
    page.check("#decide input[value=law_enforcement]")
    page.fill("#reason", "Synthetic demo: emergency referral made; account preserved.")
    page.keyboard.press("Control+s")
    expect(page.locator(".messages")).to_contain_text("Decision recorded")
    expect(page.locator("#clock")).to_contain_text("after intake")
    expect(page.locator("#clock")).to_contain_text("within target")

    # The page is answered by the decision: at its acknowledgement window nobody else is paged.
    assert not PageRecord.objects.filter(case=oldest, acknowledged_at__isnull=True).exists()
    run_tasks(within=timedelta(minutes=6))
    assert not AuditEvent.objects.filter(
        event_type=AuditEventType.PAGE_ESCALATED, target_id=str(oldest.pk)
    ).exists()

    # Another P0 nobody claims or acts on (the demo referred one to the police: its clock
    # stopped) breaches at its deadline and pages.
    left = open_p0.exclude(pk=oldest.pk).filter(first_action_at__isnull=True).first()
    assert left is not None
    run_tasks(within=timedelta(minutes=16))
    left.refresh_from_db()
    assert left.breached_at is not None
    assert PageRecord.objects.filter(case=left, kind=PageKind.DEADLINE_BREACH).exists()
    assert PageRecord.objects.filter(case=left, kind=PageKind.P0, round__gte=1).exists()

    # The actioned case's clock still says when it was acted on, not "overdue".
    page.goto(f"/console/cases/{oldest.pk}/")
    expect(page.locator("#clock")).to_contain_text("first action", ignore_case=True)
    expect(page.locator("#clock")).not_to_contain_text("overdue")
