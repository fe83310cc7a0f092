"""Security headers: a strict Content-Security-Policy on every response, pages with nothing inline
for it to block, and production's HTTPS settings (HSTS, the redirect, the proxy, check --deploy)."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from safeguard.accounts.permissions import Role
from safeguard.accounts.services import enrolment_invite_issue, invite_path, totp_device_create
from safeguard.accounts.totp import totp_now
from safeguard.audit.events import AuditSource
from safeguard.cases.models import Case
from safeguard.config.csp import RoutePolicyMiddleware
from safeguard.config.demo import pattern_png
from tests.cli import clean_env, safeguard
from tests.conftest import ApiClient, case_of, escalation_body, sign_in_verified
from tests.factories import UserFactory
from tests.matching.test_video import timeline, write_video
from tests.tasks import run_tasks

PASSWORD = "correct-horse-battery"  # tests/factories.UserFactory's password

# The policy every response carries, written out here rather than read from the settings.
STRICT: dict[str, list[str]] = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "media-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
    "require-trusted-types-for": ["'script'"],
    "trusted-types": ["default"],
}
# The enrolment page shows its QR code as a data: image.
ENROL = {**STRICT, "img-src": ["'self'", "data:"]}
# Swagger UI writes through innerHTML and draws its icons as data: images.
DOCS = {
    k: v
    for k, v in {**STRICT, "img-src": ["'self'", "data:"]}.items()
    if k not in ("require-trusted-types-for", "trusted-types")
}
FETCH_DIRECTIVES = ("script-src", "style-src", "img-src", "media-src", "connect-src", "object-src")


def policy(response: Any) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code} {response.request}"
    assert "Content-Security-Policy-Report-Only" not in response
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sorted(sources) for name, *sources in directives}


def sorted_policy(wanted: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: sorted(sources) for name, sources in wanted.items()}


# --- What a page asks the browser to run and load ------------------------------------------


class PageScan(HTMLParser):
    """Everything inline a CSP without 'unsafe-inline' refuses, and every URL the page loads
    with the directive that governs it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inline: list[str] = []
        self.loads: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        for name, value in attr.items():
            if name.startswith("on"):
                self.inline.append(f"<{tag} {name}=...> (event handler)")
            elif name == "style":
                self.inline.append(f"<{tag} style={value!r}>")
            elif value.strip().lower().startswith("javascript:"):
                self.inline.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            if "src" in attr:
                self.loads.append(("script-src", attr["src"]))
            elif attr.get("type") != "application/json":  # a data block is never run
                self.inline.append("<script> without src")
        elif tag == "style":
            self.inline.append("<style> element")
        elif tag == "link":
            rel = attr.get("rel", "").lower().split()
            if "stylesheet" in rel:
                self.loads.append(("style-src", attr.get("href", "")))
            elif "icon" in rel:
                self.loads.append(("img-src", attr.get("href", "")))
        elif tag == "img":
            self.loads.append(("img-src", attr.get("src", "")))
        elif tag in ("video", "audio", "source", "track"):
            if "src" in attr:
                self.loads.append(("media-src", attr["src"]))
            if "poster" in attr:
                self.loads.append(("img-src", attr["poster"]))
        elif tag == "form":
            self.loads.append(("form-action", attr.get("action", "")))
        elif tag in ("iframe", "frame", "object", "embed", "base"):
            self.inline.append(f"<{tag}> (the policy refuses it)")
        if "formaction" in attr:
            self.loads.append(("form-action", attr["formaction"]))


def allowed(directives: dict[str, list[str]], directive: str, url: str) -> bool:
    # form-action has no fallback; the fetch directives fall back to default-src.
    sources = directives.get(directive)
    if sources is None:
        sources = [] if directive == "form-action" else directives.get("default-src", [])
    parts = urlsplit(url)
    if parts.scheme == "data":
        return "data:" in sources
    same_origin = parts.scheme in ("", "http", "https") and parts.netloc in ("", "testserver")
    return same_origin and "'self'" in sources


def assert_nothing_inline_and_every_load_allowed(response: Any) -> None:
    scan = PageScan()
    scan.feed(response.content.decode())
    scan.close()
    assert scan.inline == []
    directives = policy(response)
    refused = [(d, url) for d, url in scan.loads if not allowed(directives, d, url)]
    assert refused == []
    assert scan.loads, "the scan found nothing to check"


# --- Every console page, the API and the rest -------------------------------------------------


@dataclass
class World:
    image_reviewer: Client  # holds the image case
    video_reviewer: Client  # holds the video case
    lead: Client
    case_id: str
    image_id: str
    video_case_id: str
    video_id: str
    specialist_api: ApiClient
    platform_api: ApiClient


def _file_case(
    service_api: ApiClient, kind: str, queue: str, name: str, body: bytes, content_type: str
) -> tuple[str, str]:
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            external_id=f"csp-{kind}",
            category="grooming",
            summary="A parent reports an adult asking their child to keep their chats secret.",
            subjects=[{"platform_id": f"user:{kind}-suspect", "role": "suspect"}],
            content=[
                {"platform_id": f"{kind}:1", "kind": kind},
                {
                    "platform_id": f"thread:{kind}",
                    "kind": "message_thread",
                    "text": "hi! how old are you? dont tell your parents",
                },
            ],
        ),
    )
    assert created.status_code == 201, created.content
    content_id = created.json()["content"][0]["id"]
    uploaded = service_api.upload(
        f"/api/v1/content/{content_id}/media",
        {"file": SimpleUploadedFile(name, body, content_type=content_type)},
    )
    assert uploaded.status_code in (200, 201), uploaded.content
    case_id = str(case_of(created.json()).pk)
    Case.objects.filter(pk=case_id).update(queue=queue)
    return case_id, content_id


def _reviewer_holding(queue: str) -> Client:
    client = Client()
    sign_in_verified(client, UserFactory(role=Role.SPECIALIST.value))
    assert client.post(f"/console/queues/{queue}/start").status_code == 302
    return client


@pytest.fixture
def world(
    service_api: ApiClient, specialist_api: ApiClient, tmp_path: Path, settings: Any
) -> World:
    # A break is suggested after the first item revealed, so the banner is on the pages too.
    settings.SAFEGUARD_BREAK_AFTER_ITEMS = 1
    case_id, image_id = _file_case(
        service_api, "image", "general", "p.png", pattern_png("circles", 4), "image/png"
    )
    video = write_video(tmp_path / "v.mp4", timeline([3, 4]))
    video_case_id, video_id = _file_case(
        service_api, "video", "grooming", "v.mp4", video.read_bytes(), "video/mp4"
    )
    run_tasks()  # the previews are rendered off the request path
    lead = Client()
    sign_in_verified(lead, UserFactory(role=Role.LEAD.value))
    return World(
        image_reviewer=_reviewer_holding("general"),
        video_reviewer=_reviewer_holding("grooming"),
        lead=lead,
        case_id=case_id,
        image_id=image_id,
        video_case_id=video_case_id,
        video_id=video_id,
        specialist_api=specialist_api,
        platform_api=service_api,
    )


def _enrolling() -> Client:
    """A specialist signed in with their password who opened their enrolment invite."""
    user = UserFactory(role=Role.SPECIALIST.value)
    issued = enrolment_invite_issue(user=user, actor=None, source=AuditSource.CLI)
    client = Client()
    client.force_login(user)
    client.get(invite_path(issued.code))
    return client


def _enrolment_page(w: World) -> Any:
    page = _enrolling().get("/accounts/2fa/setup/")
    assert b'src="data:image/svg+xml' in page.content  # the QR code
    return page


def _recovery_codes_shown(w: World) -> Any:
    client = _enrolling()
    page = client.get("/accounts/2fa/setup/").content.decode()
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page)
    assert secret, "no secret on the enrolment page"
    shown = client.post("/accounts/2fa/setup/", {"code": totp_now(secret.group(1))})
    assert b'id="recovery-codes"' in shown.content
    return shown


def _invite_page(w: World) -> Any:
    client = Client()
    client.force_login(UserFactory(role=Role.SPECIALIST.value))
    return client.get("/accounts/2fa/setup/")


def _verify_page(w: World) -> Any:
    user = UserFactory(role=Role.SPECIALIST.value)
    totp_device_create(user=user, actor=None, source=AuditSource.CLI, confirmed=True)
    client = Client()
    client.force_login(user)
    return client.get("/accounts/2fa/verify/")


def _revealed(reviewer: Client, case_id: str, content_id: str) -> Any:
    reviewer.post(f"/console/cases/{case_id}/reveal/{content_id}")
    page = reviewer.get(f"/console/cases/{case_id}/")
    assert b'class="media revealed' in page.content
    return page


def _escalated(w: World) -> Any:
    return w.image_reviewer.post(
        f"/console/cases/{w.case_id}/escalate", {"note": "please look"}, follow=True
    )


def _locked_out(w: World) -> Any:
    client = Client()
    wrong = {"username": "guessed", "password": "wrong"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", wrong)
    return client.post("/accounts/login/", wrong)


def _csrf_refused(w: World) -> Any:
    return Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x"})


def _blurred(w: World) -> Any:
    page = w.image_reviewer.get(f"/console/cases/{w.case_id}/")
    assert b'class="media protected"' in page.content
    return page


# name: (how to get there, the policy it has, its status when not 200)
HTML_PAGES: dict[str, tuple[Any, ...]] = {
    "sign-in": (lambda w: Client().get("/accounts/login/"), STRICT),
    "sign-in refused": (
        lambda w: Client().post("/accounts/login/", {"username": "nobody", "password": "wrong"}),
        STRICT,
    ),
    "enrolment invite": (_invite_page, ENROL),
    "enrolment with its QR code": (_enrolment_page, ENROL),
    "recovery codes after enrolling": (_recovery_codes_shown, ENROL),
    "verify": (_verify_page, STRICT),
    "recovery": (lambda w: w.image_reviewer.get("/accounts/2fa/recovery/"), STRICT),
    "home": (lambda w: w.image_reviewer.get("/"), STRICT),
    "queues": (lambda w: w.image_reviewer.get("/console/queues/"), STRICT),
    "queues after escalating": (_escalated, STRICT),
    "case, blurred": (_blurred, STRICT),
    "case, image revealed": (lambda w: _revealed(w.image_reviewer, w.case_id, w.image_id), STRICT),
    "case, video revealed": (
        lambda w: _revealed(w.video_reviewer, w.video_case_id, w.video_id),
        STRICT,
    ),
    "case, lead": (lambda w: w.lead.get(f"/console/cases/{w.case_id}/"), STRICT),
    "pages": (lambda w: w.image_reviewer.get("/pages/"), STRICT),
    "wellbeing": (lambda w: w.image_reviewer.get("/console/wellbeing/"), STRICT),
    "wellbeing, lead": (lambda w: w.lead.get("/console/wellbeing/"), STRICT),
    "api docs": (lambda w: Client().get("/api/v1/docs"), DOCS),
    "a form refused by the csrf check": (_csrf_refused, STRICT, 403),
    "sign-in paused after wrong passwords": (_locked_out, STRICT, 429),
}


@pytest.mark.parametrize("name", HTML_PAGES)
def test_each_page_has_its_policy_and_nothing_inline_for_it_to_block(
    world: World, name: str
) -> None:
    visit, wanted, *status = HTML_PAGES[name]

    response = visit(world)

    assert response.status_code == (status[0] if status else 200), response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    assert policy(response) == sorted_policy(wanted)
    assert_nothing_inline_and_every_load_allowed(response)


def test_the_scan_finds_what_the_policy_would_block() -> None:
    # The checks above pass only because the pages are clean, not because the scan sees nothing.
    page = HttpResponse(
        '<p style="color:red" onclick="go()">x</p><style>p{}</style><script>go()</script>'
        '<a href="javascript:go()">y</a><img src="data:image/png;base64,AA==">'
        '<img src="https://elsewhere.example/x.png"><script src="/static/review/console.js">'
        "</script>"
    )
    page["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; script-src 'self'"
    scan = PageScan()
    scan.feed(page.content.decode())

    assert len(scan.inline) == 5
    assert [(d, url) for d, url in scan.loads if not allowed(policy(page), d, url)] == [
        ("img-src", "data:image/png;base64,AA=="),
        ("img-src", "https://elsewhere.example/x.png"),
    ]


OTHER_RESPONSES: dict[str, tuple[Callable[[World], Any], int]] = {
    "api, anonymous": (lambda w: Client().get("/api/v1/cases"), 401),
    "api, a token": (lambda w: w.specialist_api.get("/api/v1/cases"), 200),
    "api, an error": (lambda w: w.platform_api.post("/api/v1/escalations", raw="{"), 400),
    "openapi schema": (lambda w: Client().get("/api/v1/openapi.json"), 200),
    "health check": (lambda w: Client().get("/healthz"), 200),
    "static script": (lambda w: Client().get("/static/review/console.js"), 200),
    "static stylesheet": (lambda w: Client().get("/static/review/console.css"), 200),
    "not found": (lambda w: w.image_reviewer.get(f"/console/cases/{uuid.uuid4()}/"), 404),
    "sign-out": (lambda w: w.image_reviewer.post("/accounts/logout/"), 302),
}


@pytest.mark.parametrize("name", OTHER_RESPONSES)
def test_the_api_errors_redirects_and_static_files_carry_the_strict_policy(
    world: World, name: str
) -> None:
    visit, status = OTHER_RESPONSES[name]

    response = visit(world)
    response.close()  # a static file is streamed from an open file

    assert response.status_code == status
    assert policy(response) == sorted_policy(STRICT)
    assert response["X-Content-Type-Options"] == "nosniff"


def test_protected_media_has_a_policy_no_looser_than_the_pages(world: World) -> None:
    scan = PageScan()
    scan.feed(_blurred(world).content.decode())
    media = [url for d, url in scan.loads if d == "img-src" and "/console/media/" in url]
    assert media

    response = world.image_reviewer.get(media[0])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    # Media carries its own, stricter policy (review.media); whatever it is, it loosens nothing.
    own = policy(response)
    for directive in FETCH_DIRECTIVES:
        effective = set(own.get(directive, own.get("default-src", []))) - {"'none'"}
        assert effective <= set(STRICT[directive]), (directive, effective)


def test_a_policy_a_view_already_set_is_kept(rf: RequestFactory) -> None:
    own = "default-src 'none'; sandbox"

    def view(request: Any) -> HttpResponse:
        response = HttpResponse(b"\x89PNG", content_type="image/png")
        response["Content-Security-Policy"] = own
        return response

    response = RoutePolicyMiddleware(view)(rf.get("/console/media/x"))

    assert response["Content-Security-Policy"] == own


def test_every_route_with_its_own_policy_exists() -> None:
    # A renamed route would leave a stale exception behind (and its page under the strict one).
    names = _route_names()
    for name in settings.SAFEGUARD_CSP_ROUTES:
        assert name in names, f"SAFEGUARD_CSP_ROUTES names {name!r}, which is no route"


def _route_names() -> set[str]:
    """Every named route as `reverse` spells it ("ns:name"), arguments or not (the case page's,
    which the livestream origins widen, takes one)."""
    names: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(
                    entry.url_patterns, f"{prefix}{entry.namespace}:" if entry.namespace else prefix
                )
            elif isinstance(entry, URLPattern) and entry.name:
                names.add(prefix + entry.name)

    walk(get_resolver().url_patterns, "")
    return names


# --- Production: HTTPS and `safeguard check --deploy` ----------------------------------------


def production_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """What a real deployment sets (README, "Running it for real"), production mode."""
    return clean_env(
        SAFEGUARD_SECRET_KEY=secrets.token_urlsafe(50),
        SAFEGUARD_VAULT_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        SAFEGUARD_AUDIT_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        SAFEGUARD_VAR_DIR=str(var_dir),
        SAFEGUARD_ALLOWED_HOSTS="safeguard.example,testserver,127.0.0.1",
        **extra,
    )


def test_check_deploy_is_clean_in_production(tmp_path: Path) -> None:
    done = safeguard(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    output = done.stdout + done.stderr
    assert "WARNING" not in output
    assert "?: (" not in output  # no check's message, at any level


def test_check_deploy_still_warns_where_https_is_not_set_up(tmp_path: Path) -> None:
    # Development mode leaves HTTPS to the developer: the same command then names what is off.
    env = production_env(tmp_path, SAFEGUARD_ENV="development")

    done = safeguard(env, "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 1
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in done.stderr


# Requests through Django's whole stack in a production-mode process; prints what came back.
_REQUESTS = """
import json
from django.test import Client
out = {}
for name, secure, headers, path in [
    ("https", True, {}, "/accounts/login/"),
    ("http", False, {}, "/accounts/login/"),
    ("http health", False, {}, "/healthz"),
    ("forwarded https", False, {"X-Forwarded-Proto": "https"}, "/accounts/login/"),
]:
    r = Client().get(path, secure=secure, headers=headers)
    cookie = r.cookies.get("csrftoken")
    out[name] = {
        "status": r.status_code,
        "location": r.get("Location"),
        "hsts": r.get("Strict-Transport-Security"),
        "csp": r.get("Content-Security-Policy"),
        "secure_cookie": bool(cookie and cookie["secure"]),
    }
print(json.dumps(out))
"""


def production_requests(tmp_path: Path, **extra: str) -> dict[str, dict[str, Any]]:
    done = safeguard(production_env(tmp_path, **extra), "shell", "-c", _REQUESTS)
    assert done.returncode == 0, done.stderr
    result: dict[str, dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_production_redirects_to_https_and_pins_it_with_hsts(tmp_path: Path) -> None:
    seen = production_requests(tmp_path)

    https = seen["https"]
    assert https["status"] == 200
    assert https["hsts"] == "max-age=31536000; includeSubDomains"
    assert https["secure_cookie"]
    assert https["csp"]
    assert (seen["http"]["status"], seen["http"]["location"]) == (
        301,
        "https://testserver/accounts/login/",
    )
    # Load balancers probe over plain HTTP.
    assert seen["http health"]["status"] == 200
    # Without SAFEGUARD_BEHIND_PROXY a client's X-Forwarded-Proto is not believed.
    assert seen["forwarded https"]["status"] == 301


def test_behind_a_proxy_its_forwarded_proto_is_believed(tmp_path: Path) -> None:
    seen = production_requests(tmp_path, SAFEGUARD_BEHIND_PROXY="true")

    forwarded = seen["forwarded https"]
    assert forwarded["status"] == 200
    assert forwarded["hsts"] == "max-age=31536000; includeSubDomains"
    assert seen["http"]["status"] == 301


def test_the_redirect_can_be_left_to_the_proxy_and_preload_chosen(tmp_path: Path) -> None:
    seen = production_requests(
        tmp_path, SAFEGUARD_SSL_REDIRECT="false", SAFEGUARD_HSTS_PRELOAD="true"
    )

    assert seen["http"]["status"] == 200
    assert seen["https"]["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["https"]["secure_cookie"]


@contextlib.contextmanager
def _serving(env: dict[str, str]) -> Iterator[str]:
    """`safeguard serve` with `env` on a port the system chooses, until the block ends.

    Waitress says "Serving on http://host:port" once its socket listens; the test waits for
    that line (or for the process to end), not for a connection to succeed in a polling loop.
    """
    server = subprocess.Popen(
        [sys.executable, "-m", "safeguard.config.cli", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    said: list[str] = []
    listening: list[str] = []
    answered = threading.Event()

    def watch(stream: IO[str]) -> None:
        for line in stream:
            said.append(line)
            if line.startswith("Serving on http://") and not listening:
                listening.append(line.removeprefix("Serving on ").strip())
                answered.set()
        answered.set()  # the output ended: the server exited

    assert server.stderr is not None
    watcher = threading.Thread(target=watch, args=(server.stderr,), daemon=True)
    watcher.start()
    try:
        answered.wait(timeout=60)
        if not listening:
            raise AssertionError("safeguard serve did not start:\n" + "".join(said))
        yield listening[0]
    finally:
        server.terminate()
        server.wait(timeout=10)
        watcher.join(timeout=10)
        server.stderr.close()


@pytest.fixture
def production_server(tmp_path: Path) -> Iterator[str]:
    """`safeguard serve` in production mode on a free local port."""
    with _serving(production_env(tmp_path)) as base:
        yield base


def test_behind_a_proxy_the_server_trusts_its_scheme_and_does_not_loop(tmp_path: Path) -> None:
    opener = urllib.request.build_opener(_NoRedirect)
    with _serving(production_env(tmp_path, SAFEGUARD_BEHIND_PROXY="true")) as base:
        proxied = urllib.request.Request(  # noqa: S310 - local server
            f"{base}/accounts/login/", headers={"X-Forwarded-Proto": "https"}
        )
        with opener.open(proxied, timeout=5) as answered:
            status, hsts = answered.status, answered.headers["Strict-Transport-Security"]
        with pytest.raises(urllib.error.HTTPError) as plain:
            opener.open(f"{base}/accounts/login/", timeout=5)
        plain.value.close()

    assert status == 200
    assert hsts.startswith("max-age=31536000")
    assert plain.value.code == 301


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_the_production_server_redirects_plain_http_except_the_health_check(
    production_server: str,
) -> None:
    opener = urllib.request.build_opener(_NoRedirect)

    with opener.open(f"{production_server}/healthz", timeout=5) as health:
        status, csp = health.status, health.headers["Content-Security-Policy"]
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(f"{production_server}/accounts/login/", timeout=5)
    redirected.value.close()

    assert status == 200
    assert csp
    assert redirected.value.code == 301
    port = production_server.rsplit(":", 1)[1]
    assert redirected.value.headers["Location"] == f"https://127.0.0.1:{port}/accounts/login/"
    assert redirected.value.headers["Content-Security-Policy"]
