"""A thread sent as messages, in chromium: one line per message with its time and sender, the
harm time highlighted beside the meeting words, and the explanation saying when and in which
zone the words were read."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from safeguard.accounts.permissions import Role
from tests.browser.conftest import Staff, save_screenshot
from tests.conftest import ApiClient, case_of, escalation_body

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_spanish_thread_reads_as_a_meeting_tonight_in_madrid(
    signed_in: Callable[[Role], tuple[Page, Staff]], service_api: ApiClient
) -> None:
    sent = (timezone.now() - timedelta(minutes=20)).astimezone(UTC)
    stamp = sent.isoformat().replace("+00:00", "Z")
    body = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            external_id="thread-es",
            summary="Una madre informa de mensajes de un adulto a su hija de 13 años.",
            subjects=[
                {"platform_id": "user:es-suspect", "role": "suspect"},
                {"platform_id": "user:es-child", "role": "victim", "age": 13, "country": "ES"},
            ],
            content=[
                {
                    "platform_id": "thread:es",
                    "kind": "message_thread",
                    "messages": [
                        {"sent_at": stamp, "author": "user:es-suspect", "text": "hola guapa"},
                        {
                            "sent_at": stamp,
                            "author": "user:es-suspect",
                            "text": "nos vemos esta noche en la estación, ven sola",
                        },
                    ],
                }
            ],
        ),
    ).json()
    case = case_of(body)
    assert case.priority == "P0", case.explanation
    page, _ = signed_in(Role.SPECIALIST)
    page.goto(f"/console/cases/{case.pk}/")

    thread = page.locator("p.thread")
    expect(thread).to_contain_text("user:es-suspect: nos vemos esta noche en la estación")
    expect(thread.locator("mark.signal", has_text="esta noche").first).to_be_visible()
    # Each line's own timestamp is where the message sits in time, not a time someone wrote.
    expect(thread.locator("mark.signal", has_text=re.compile(r"^\d{4}-\d\d-\d\d"))).to_have_count(0)
    expect(page.locator("body")).to_contain_text("Europe/Madrid")
    save_screenshot(page, "case-thread-messages.png")
