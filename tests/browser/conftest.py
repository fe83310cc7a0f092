"""Browser fixtures: Debian's chromium, driven by Playwright, against a live server.

Playwright's own browser download is never used; `make test` installs Debian's `chromium` when
/usr/bin/chromium is missing, and without it these tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.accounts.services import totp_device_create
from safeguard.accounts.totp import secret_b32, totp_now
from safeguard.audit.events import AuditSource
from safeguard.cases.models import Case
from safeguard.cases.workflow import CaseState
from safeguard.config.demo import pattern_png
from tests.conftest import ApiClient, escalation_body
from tests.factories import UserFactory

CHROMIUM = Path("/usr/bin/chromium")
# The flags the machine notes list for a closed network: without the background-networking
# ones Chromium keeps trying to reach Google's hosts, and the refused connections slow it down.
# Playwright itself adds a fresh, empty --user-data-dir to every launch (and refuses one in
# `args`), so no profile survives between runs.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct-horse-battery"  # tests/factories.UserFactory's password
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def browser(django_db_setup: None) -> Iterator[Browser]:
    """One Chromium for all the browser tests, closed once they are done.

    It needs the test database made first (`django_db_setup`), before Playwright starts: see
    `_carry_test_snapshots` for why.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"Debian's chromium is not installed at {CHROMIUM}: `make test` installs it with "
            "apt-get (as root); where apt-get is not available, install the chromium package"
        )
    snapshots = {
        alias: getattr(connections[alias], "_test_serialized_contents", None)
        for alias in connections
    }
    with _playwright_running(), sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        _carry_test_snapshots(snapshots)
        yield chromium
        chromium.close()
        # The connections Django opened while Playwright ran; the suite's own come back after.
        connections.close_all()


@contextlib.contextmanager
def _playwright_running() -> Iterator[None]:
    """Let the ORM run in this thread while Playwright's sync API is in use.

    Playwright marks its event loop as running in this thread between calls, so Django refuses
    the ORM here (SynchronousOnlyOperation) although every call is synchronous. The flag lasts
    only while the browser is open, and the fixture's scope is this package, so the rest of the
    suite still gets Django's check.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _carry_test_snapshots(snapshots: dict[str, str | None]) -> None:
    """Give the connections Django opens under Playwright the test database's snapshot.

    With an event loop marked as running, asgiref's Local hands this thread a second set of
    database connections. The snapshot that `serialized_rollback` restores after each flush
    (the default queues, made by a data migration) was taken on the first set only; without it
    every browser test after the first would find no queues.
    """
    for alias, snapshot in snapshots.items():
        if snapshot is not None:
            connections[alias]._test_serialized_contents = snapshot


@pytest.fixture
def new_page(browser: Browser, live_server: Any) -> Iterator[Callable[[], Page]]:
    """Open a page in a fresh browser context (its own cookies) on the live server."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@dataclass(frozen=True)
class Staff:
    user: User
    totp_secret: str  # base32, as an authenticator app holds it


@pytest.fixture
def staff(db: None) -> Callable[[Role], Staff]:
    """A fresh account holding `role`, with a confirmed authenticator whose secret we know."""

    def make(role: Role) -> Staff:
        user = UserFactory(role=role.value)
        secret = os.urandom(20)
        totp_device_create(
            user=user, actor=None, source=AuditSource.CLI, secret=secret, confirmed=True
        )
        return Staff(user=user, totp_secret=secret_b32(secret))

    return make


def sign_in(page: Page, person: Staff, *, then: str = "/console/queues/") -> None:
    """Sign in as a person does: the password, then the current code from the authenticator."""
    page.goto(then)
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", person.user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/accounts/2fa/verify/"))
    page.fill("#id_code", totp_now(person.totp_secret))
    page.click("button:has-text('Verify')")
    page.wait_for_url(re.compile(re.escape(then) + "$"))


@pytest.fixture
def signed_in(
    new_page: Callable[[], Page], staff: Callable[[Role], Staff]
) -> Callable[[Role], tuple[Page, Staff]]:
    """A page in a fresh context, signed in (both factors) as a new account holding `role`."""

    def make(role: Role) -> tuple[Page, Staff]:
        page = new_page()
        person = staff(role)
        sign_in(page, person)
        return page, person

    return make


@dataclass(frozen=True)
class ReviewCase:
    case_id: str
    image_id: str | None


@pytest.fixture
def review_case(service_api: ApiClient) -> Callable[..., ReviewCase]:
    """File an escalation as the platform (with a generated pattern image) and queue its case.

    Triage ranks it as it would any escalation: the default text (secrecy, age probing, reported
    as grooming) comes out ahead of `category="other"` with plain text.
    """

    def make(
        *,
        external_id: str,
        queue: str = "grooming",
        category: str = "grooming",
        image_seed: int | None = 4,
        summary: str = "A parent reports an adult asking their child to keep their chats secret.",
        text: str = "hi! how old are you? dont tell your parents about our chats",
    ) -> ReviewCase:
        content: list[dict[str, Any]] = [
            {"platform_id": f"thread:{external_id}", "kind": "message_thread", "text": text}
        ]
        if image_seed is not None:
            content.insert(0, {"platform_id": f"img:{external_id}", "kind": "image"})
        created = service_api.post(
            "/api/v1/escalations",
            escalation_body(
                external_id=external_id,
                category=category,
                summary=summary,
                subjects=[
                    {"platform_id": f"user:{external_id}-suspect", "role": "suspect"},
                    {"platform_id": f"user:{external_id}-child", "role": "victim", "age": 13},
                ],
                content=content,
            ),
        )
        assert created.status_code == 201, created.content
        body = created.json()
        image_id = None
        if image_seed is not None:
            image_id = body["content"][0]["id"]
            uploaded = service_api.upload(
                f"/api/v1/content/{image_id}/media",
                {
                    "file": SimpleUploadedFile(
                        "pattern.png", pattern_png("circles", image_seed), content_type="image/png"
                    )
                },
            )
            assert uploaded.status_code in (200, 201), uploaded.content
        # Triage has ranked the case; the test chooses the queue it waits in.
        case = Case.objects.get(pk=body["case_id"])
        assert case.state == CaseState.TRIAGED, case.state
        Case.objects.filter(pk=case.pk).update(queue=queue)
        return ReviewCase(case_id=body["case_id"], image_id=image_id)

    return make


def save_screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page for the README when SAVE_SCREENSHOTS=1."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
