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
from tests.conftest import ApiClient, case_of, escalation_body
from tests.factories import UserFactory
from tests.tasks import run_tasks

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
# SCREENSHOTS_DIR sends the pictures elsewhere, to compare pages without touching the README's.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR")
    or Path(__file__).resolve().parents[2] / "docs" / "screenshots"
)
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


# Runs in every document before its own scripts: each Content-Security-Policy violation the
# browser reports (script, style, images, Trusted Types) is passed to the test.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__safeguardViolation(
    e.effectiveDirective + " refused " + (e.blockedURI || "inline") + " at " +
    (e.sourceFile || e.documentURI) + ":" + e.lineNumber + (e.sample ? " (" + e.sample + ")" : "")
  );
}, true);
"""


class BrowserProblems:
    """What the browser reported on the pages of a test: every Content-Security-Policy violation
    and every uncaught script error. A test fails if any is left unclaimed at the end."""

    def __init__(self) -> None:
        self._seen: dict[BrowserContext, list[str]] = {}

    def watch(self, context: BrowserContext) -> None:
        seen = self._seen.setdefault(context, [])

        def violation(source: dict[str, Any], text: str) -> None:
            seen.append(f"CSP on {source['frame'].url}: {text}")

        context.expose_binding("__safeguardViolation", violation)
        context.add_init_script(_REPORT_VIOLATIONS)
        context.on("weberror", lambda error: seen.append(f"script error: {error.error}"))

    def take(self, page: Page) -> list[str]:
        """The problems reported so far in this page's context, which the test then owns."""
        _settle(page)
        seen = self._seen.get(page.context, [])
        taken = list(seen)
        seen.clear()
        return taken

    def unclaimed(self) -> list[str]:
        for context in self._seen:
            for page in context.pages:
                _settle(page)
        return [problem for seen in self._seen.values() for problem in seen]


def _settle(page: Page) -> None:
    # Reports arrive as messages from the browser; a round trip lets the pending ones in.
    if not page.is_closed():
        page.evaluate("() => new Promise((done) => setTimeout(done, 50))")


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def new_page(
    browser: Browser, live_server: Any, browser_problems: BrowserProblems
) -> Iterator[Callable[[], Page]]:
    """Open a page in a fresh browser context (its own cookies) on the live server.

    Every page it opens is watched: the test fails if the browser refused anything under the
    Content-Security-Policy, or a script failed, and the test did not claim it
    (`browser_problems.take`).
    """
    contexts: list[BrowserContext] = []

    def make() -> Page:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        browser_problems.watch(context)
        contexts.append(context)
        return context.new_page()

    yield make
    unclaimed = browser_problems.unclaimed()
    for context in contexts:
        context.close()
    assert unclaimed == [], "the browser reported problems on the pages of this test"


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
            run_tasks()  # the previews are rendered off the request path
        # Triage has ranked the case; the test chooses the queue it waits in.
        case = case_of(body)
        assert case.state == CaseState.TRIAGED, case.state
        Case.objects.filter(pk=case.pk).update(queue=queue)
        return ReviewCase(case_id=str(case_of(body).pk), image_id=image_id)

    return make


def save_screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page for the README when SAVE_SCREENSHOTS=1."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
