"""A livestream case in a real browser: the platform's viewer, played from a real loopback
server, blurred, greyscale and muted until revealed (audited); the link clickable only then; the
case page alone allowed to load media from the stream's origin; and a plain "ended" notice."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import av
import numpy as np
import pytest
from csp.constants import SELF
from playwright.sync_api import Page, expect

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType
from safeguard.cases.models import Case
from safeguard.evidence.models import ContentItem
from tests.audit_helpers import assert_audited, assert_not_audited
from tests.browser.conftest import Staff, save_screenshot
from tests.conftest import ApiClient, case_of, escalation_body

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

STREAM_PAGE = "https://platform.example/live/42"


def webm(seconds: float = 3.0, fps: int = 10, size: int = 96) -> bytes:
    """A generated VP8 WebM: coloured bars that move, so a frame has edges and colour to blur."""
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        bars = np.zeros((size, size, 3), dtype=np.uint8)
        for i in range(size):
            bars[:, i] = [(i * 37) % 256, (i * 91) % 256, 255 - (i * 53) % 256]
        for n in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.roll(bars, 4 * n, axis=1), format="rgb24")
            frame.pts = n
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


@dataclass
class StreamServer:
    origin: str = ""
    requests: list[str] = field(default_factory=list)

    @property
    def viewer_url(self) -> str:
        return f"{self.origin}/live/42.webm"


@contextmanager
def stream_server(body: bytes) -> Iterator[StreamServer]:
    """A platform's stream host on loopback: serves the video, records every request."""
    state = StreamServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            if self.path != "/live/42.webm":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/webm")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stream(settings: Any) -> Iterator[StreamServer]:
    with stream_server(webm()) as server:
        settings.SAFEGUARD_STREAM_ORIGINS = [server.origin]
        routes = dict(settings.SAFEGUARD_CSP_ROUTES)
        routes["console-case"] = {
            **routes.get("console-case", {}),
            "media-src": [SELF, server.origin],
        }
        settings.SAFEGUARD_CSP_ROUTES = routes
        yield server


def file_livestream(service_api: ApiClient, n: int, **item: Any) -> dict[str, Any]:
    answer = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            external_id=f"live-ui-{n}",
            category="imminent_danger",
            summary="A viewer reports a child in distress on a livestream.",
            subjects=[{"platform_id": "user:streamer-42", "role": "suspect"}],
            content=[{"platform_id": "live:42", "kind": "livestream", **item}],
        ),
    )
    assert answer.status_code == 201, answer.content
    return dict(answer.json())


# The video's computed filter and state, as the page has it.
VIDEO_JS = """v => ({
  filter: getComputedStyle(v).filter,
  muted: v.muted,
  controls: v.controls,
  readyState: v.readyState,
  width: v.videoWidth,
})"""


def video_state(page: Page, selector: str) -> dict[str, Any]:
    video = page.locator(selector)
    expect(video).to_have_count(1)
    # Loaded from the loopback stream host: the case page's policy allowed its origin.
    page.wait_for_function("v => v.readyState >= 2", arg=video.element_handle())
    result: dict[str, Any] = video.evaluate(VIDEO_JS)
    return result


def test_a_livestream_plays_blurred_and_muted_until_revealed_then_says_when_it_ended(
    signed_in: Callable[[Role], tuple[Page, Staff]],
    service_api: ApiClient,
    stream: StreamServer,
) -> None:
    filed = file_livestream(
        service_api, 1, live=True, stream_url=STREAM_PAGE, viewer_url=stream.viewer_url
    )
    case = case_of(filed)
    Case.objects.filter(pk=case.pk).update(queue="emergency")
    item = ContentItem.objects.get(platform_id="live:42")
    page, person = signed_in(Role.SPECIALIST)

    elsewhere = page.goto("/console/queues/")
    opened = page.goto(f"/console/cases/{case.pk}/")

    assert elsewhere is not None
    assert opened is not None
    # Only the case page may load media from the stream's origin.
    assert stream.origin not in elsewhere.headers["content-security-policy"]
    assert f"media-src 'self' {stream.origin}" in opened.headers["content-security-policy"]
    article = page.locator(f"#content-{item.pk}")
    expect(article.locator(".stream-live")).to_contain_text("Live")
    before = video_state(page, "video.stream.protected")
    assert "blur(" in before["filter"]
    assert "grayscale(1)" in before["filter"]
    assert (before["muted"], before["controls"], before["width"]) == (True, False, 96)
    # The platform's link is text until revealed: nothing to click by accident.
    expect(article.locator("code.stream-link-text")).to_have_text(STREAM_PAGE)
    expect(article.locator("a.stream-link")).to_have_count(0)
    assert "/live/42.webm" in stream.requests
    assert_not_audited(AuditEventType.MEDIA_REVEALED, target=item)
    assert not ContentItem.objects.get(pk=item.pk).viewed_by_person
    article.scroll_into_view_if_needed()
    save_screenshot(page, "livestream.png")

    article.get_by_role("button", name=re.compile(r"^Reveal the stream")).click()

    expect(page).to_have_url(re.compile(rf"/console/cases/{case.pk}/#content-{item.pk}$"))
    after = video_state(page, "video.stream.revealed")
    assert "blur(" not in after["filter"]
    assert "grayscale" not in after["filter"]
    assert (after["muted"], after["controls"]) == (True, True)
    link = page.locator(f"#content-{item.pk} a.stream-link")
    expect(link).to_have_attribute("href", STREAM_PAGE)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(page.locator("video.stream.protected")).to_have_count(0)
    assert_audited(
        AuditEventType.MEDIA_REVEALED, target=item, actor=person.user, data={"case": str(case.pk)}
    )
    assert ContentItem.objects.get(pk=item.pk).viewed_by_person

    # The platform says the stream ended: the case page says so, plainly.
    file_livestream(service_api, 2, live=False, ended_at="2026-11-30T03:40:00Z")
    page.reload()

    ended = page.locator(f"#content-{item.pk} .stream-ended")
    expect(ended).to_contain_text("The stream ended at")
    expect(ended.locator("time")).to_have_attribute("datetime", "2026-11-30T03:40:00Z")
    expect(page.locator(f"#content-{item.pk} .stream-live")).to_have_count(0)


def test_a_livestream_with_only_a_link_shows_it_as_text_until_revealed(
    signed_in: Callable[[Role], tuple[Page, Staff]], service_api: ApiClient
) -> None:
    filed = file_livestream(service_api, 3, live=True, stream_url=STREAM_PAGE)
    case = case_of(filed)
    Case.objects.filter(pk=case.pk).update(queue="emergency")
    item = ContentItem.objects.get(platform_id="live:42")
    page, _person = signed_in(Role.SPECIALIST)

    page.goto(f"/console/cases/{case.pk}/")

    article = page.locator(f"#content-{item.pk}")
    expect(article.locator("video")).to_have_count(0)
    expect(article.locator("code.stream-link-text")).to_have_text(STREAM_PAGE)
    article.get_by_role("button", name=re.compile(r"^Reveal the stream")).click()
    expect(page.locator(f"#content-{item.pk} a.stream-link")).to_have_attribute("href", STREAM_PAGE)
