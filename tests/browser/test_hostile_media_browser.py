"""Hostile media in Debian's chromium: a file that pretends to be an image never runs script in
the console's origin, however it is named, declared or opened."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page

from safeguard.accounts.permissions import Role
from safeguard.cases.models import Case
from safeguard.config.demo import pattern_png
from safeguard.evidence.models import ContentItem
from tests.browser.conftest import Staff, save_screenshot
from tests.conftest import ApiClient, escalation_body
from tests.tasks import run_tasks

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Each payload, if it ever ran, would set a flag on the window and on the opener's title.
SCRIPT = (
    b"<script>window.__pwned = 1; try { opener.document.title = 'pwned' } catch (e) {}</script>"
)
HOSTILE = {
    "html": (b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>", "text/html"),
    "svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1">' + SCRIPT + b"</svg>",
        "image/svg+xml",
    ),
    "polyglot": (pattern_png("stripes", 3) + b"<html><body>" + SCRIPT, "image/png"),
}


def _queue_hostile(service_api: ApiClient, name: str) -> tuple[str, str]:
    data, declared = HOSTILE[name]
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            external_id=f"hostile-{name}",
            category="other",
            summary="A user reports a file in a group chat.",
            subjects=[{"platform_id": f"user:hostile-{name}", "role": "suspect"}],
            content=[{"platform_id": f"img:hostile-{name}", "kind": "image"}],
        ),
    ).json()
    content_id = created["content"][0]["id"]
    uploaded = service_api.upload(
        f"/api/v1/content/{content_id}/media",
        {"file": SimpleUploadedFile(f"{name}.html", data, content_type=declared)},
    )
    assert uploaded.status_code == 201, uploaded.content
    run_tasks()
    case = ContentItem.objects.get(pk=content_id).mentions.get().escalation.case_link.case
    Case.objects.filter(pk=case.pk).update(queue="general")
    return str(case.pk), content_id


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_media_never_runs_script_in_the_console(
    signed_in: Callable[[Role], tuple[Page, Staff]], service_api: ApiClient, name: str
) -> None:
    case_id, content_id = _queue_hostile(service_api, name)
    page, _ = signed_in(Role.SPECIALIST)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"/console/cases/{case_id}/")
    reveal = page.locator(f"form[action$='/reveal/{content_id}'] button")
    if reveal.count():
        reveal.click()
        page.wait_for_load_state()
    save_screenshot(page, f"hostile-{name}.png")
    html = page.content()
    urls = {
        u.replace("&amp;", "&") for u in re.findall(r'(?:src|href)="(/console/media/[^"]+)"', html)
    }
    assert urls, "the case page offers some rendering or the download"

    downloads = [u for u in urls if "/download?" in u]
    for url in downloads:
        # The stored file is only ever a download: chromium saves it and renders nothing.
        with page.expect_download() as started:
            page.locator(f"a[href='{url}']").first.click()
        assert started.value.suggested_filename == f"{content_id}.bin"
        assert page.evaluate("() => window.__pwned") is None

    for url in urls - set(downloads):
        # Opened directly, as a reviewer might open an image in a new tab.
        response = page.goto(url)
        assert response is not None
        headers: dict[str, Any] = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in headers["content-security-policy"]
        assert headers["content-type"].split(";")[0] not in ("text/html", "image/svg+xml")
        assert page.evaluate("() => window.__pwned") is None
        page.goto(f"/console/cases/{case_id}/")

    assert page.evaluate("() => window.__pwned") is None
    assert page.title() != "pwned"
    assert dialogs == []
