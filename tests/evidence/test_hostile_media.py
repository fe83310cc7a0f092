"""Hostile uploads: bytes that pretend to be media are kept as evidence and never run or decoded
on a request; previews are made off the request path within limits, or say why they cannot be."""

from __future__ import annotations

import io
import re
import struct
import zlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from PIL import Image

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.cases.models import Case
from safeguard.config.demo import pattern_png
from safeguard.evidence.models import Blob, ContentItem, RenderState
from safeguard.evidence.sniff import SERVED_TYPES
from safeguard.review.media import MediaUnavailable, media_token, preview_bytes
from tests.audit_helpers import assert_audited
from tests.conftest import ApiClient, escalation_body, sign_in_verified
from tests.factories import UserFactory
from tests.tasks import run_tasks

SCRIPT = b"<script>window.__pwned = 1; alert(document.cookie)</script>"
PNG = pattern_png("checkerboard", 7)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge picture (a decompression bomb's shape)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )


def _big_flat_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (side, side), 200).save(out, format="PNG", optimize=True)
    return out.getvalue()


# Bytes that are not a renderable image, each uploaded under a name and type that lie.
NOT_MEDIA = {
    "html": (b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>", "text/html"),
    "html-no-doctype": (b"\n  <HTML><BODY onload=alert(1)>" + SCRIPT, "image/png"),
    "svg-with-script": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">' + SCRIPT + b"</svg>",
        "image/svg+xml",
    ),
    "xhtml": (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">', "image/png"),
    "javascript": (b"window.__pwned = 1;", "application/javascript"),
    "text": (b"just some words", "image/jpeg"),
    "zip": (b"PK\x03\x04" + b"\x00" * 40, "image/png"),
    "pdf": (b"%PDF-1.4\n1 0 obj<<>>endobj\n", "image/png"),
    "garbage": (bytes(range(256)) * 8, "image/gif"),
    "png-signature-only": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png"),
}


def _file_case(
    service_api: ApiClient, data: bytes, declared: str, kind: str = "image"
) -> dict[str, str]:
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(
            category="other",
            summary="A user report about a file.",
            subjects=[{"platform_id": "user:uploader", "role": "suspect"}],
            content=[{"platform_id": "item:1", "kind": kind}],
        ),
    ).json()
    content_id = created["content"][0]["id"]
    uploaded = service_api.upload(
        f"/api/v1/content/{content_id}/media",
        {"file": SimpleUploadedFile("cat.png", data, content_type=declared)},
    )
    assert uploaded.status_code == 201, uploaded.content
    run_tasks()
    case = ContentItem.objects.get(pk=content_id).mentions.get().escalation.case_link.case
    Case.objects.filter(pk=case.pk).update(queue="general")
    return {"case_id": str(case.pk), "content_id": content_id}


def _specialist() -> Client:
    client = Client()
    sign_in_verified(client, UserFactory(role=Role.SPECIALIST.value))
    return client


def _media_urls(html: str) -> list[str]:
    return [
        url.replace("&amp;", "&")
        for url in re.findall(r'(?:src|href)="(/console/media/[^"]+)"', html)
    ]


def _url(client: Client, ids: dict[str, str], variant: str) -> str:
    """A validly signed media URL of `variant` for the signed-in person of `client`."""
    user = User.objects.get(pk=client.session["_auth_user_id"])
    token = media_token(user=user, content_id=ids["content_id"], variant=variant)
    return f"/console/media/{ids['case_id']}/{ids['content_id']}/{variant}?t={token}"


def _assert_guarded(response: Any) -> None:
    """Every media answer: never a document type, never sniffed, never able to run script."""
    media_type = response["Content-Type"].split(";")[0].strip()
    assert media_type in SERVED_TYPES | {"application/octet-stream", "text/plain"}, media_type
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "sandbox" in csp
    assert "default-src 'none'" in csp
    assert "no-store" in response["Cache-Control"]
    disposition = response["Content-Disposition"]
    assert re.fullmatch(r'(inline|attachment); filename="[0-9a-f-]{36}\.[a-z]{2,4}"', disposition)


@pytest.mark.parametrize("name", sorted(NOT_MEDIA))
def test_bytes_that_are_not_an_image_are_opaque_evidence_never_served_inline(
    service_api: ApiClient, name: str
) -> None:
    data, declared = NOT_MEDIA[name]
    ids = _file_case(service_api, data, declared)
    item = ContentItem.objects.select_related("blob").get(pk=ids["content_id"])
    assert item.blob is not None
    # Kept as evidence, with what it really is; the client's type is a record only.
    assert item.blob.media_kind == ""
    assert item.blob.media_type == "application/octet-stream"
    assert item.blob.declared_type == declared
    assert item.blob.render_state == RenderState.NONE

    specialist = _specialist()
    case_url = f"/console/cases/{ids['case_id']}/"
    specialist.post(f"/console/cases/{ids['case_id']}/reveal/{ids['content_id']}")
    html = specialist.get(case_url).content.decode()
    assert "kept as opaque evidence" in html
    assert '<img class="media' not in html
    urls = _media_urls(html)
    assert urls, "the download link is offered"
    (download,) = [u for u in urls if "/download?" in u]
    response = specialist.get(download)
    _assert_guarded(response)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response.content == data
    # No other rendering of it exists for anyone: each variant, with a valid token, refuses.
    for variant in ("preview", "full", "strip"):
        response = specialist.get(_url(specialist, ids, variant))
        _assert_guarded(response)
        assert response.status_code == 404


def test_a_download_is_audited_and_marks_the_item_viewed(service_api: ApiClient) -> None:
    data, declared = NOT_MEDIA["html"]
    ids = _file_case(service_api, data, declared)
    person = UserFactory(role=Role.SPECIALIST.value)
    specialist = Client()
    sign_in_verified(specialist, person)
    html = specialist.get(f"/console/cases/{ids['case_id']}/").content.decode()
    (url,) = [u for u in _media_urls(html) if "/download?" in u]

    response = specialist.get(url)

    assert response.status_code == 200
    item = ContentItem.objects.get(pk=ids["content_id"])
    assert_audited(
        AuditEventType.MEDIA_DOWNLOADED,
        target=item,
        actor=person,
        source=AuditSource.CONSOLE,
        data={"case": ids["case_id"], "sha256": item.blob_id},
    )
    assert ContentItem.objects.get(pk=ids["content_id"]).viewed_by_person


def test_each_variant_token_opens_only_its_variant(service_api: ApiClient) -> None:
    ids = _file_case(service_api, PNG, "image/png")
    specialist = _specialist()
    download = _url(specialist, ids, "download")

    assert specialist.get(download).status_code == 200
    for variant in ("full", "preview", "strip"):
        assert specialist.get(download.replace("/download?", f"/{variant}?")).status_code == 404


def test_a_polyglot_image_is_shown_only_as_our_own_re_encoding(service_api: ApiClient) -> None:
    polyglot = PNG + b"<html><body>" + SCRIPT + b"</body></html>"
    ids = _file_case(service_api, polyglot, "text/html")
    blob = Blob.objects.get(pk=ContentItem.objects.get(pk=ids["content_id"]).blob_id)
    assert (blob.media_kind, blob.markup, blob.render_state) == ("image", True, RenderState.READY)
    assert "polyglot" in blob.detected

    specialist = _specialist()
    specialist.post(f"/console/cases/{ids['case_id']}/reveal/{ids['content_id']}")
    html = specialist.get(f"/console/cases/{ids['case_id']}/").content.decode()
    (full,) = [u for u in _media_urls(html) if "/full?" in u]
    response = specialist.get(full)

    assert response.status_code == 200
    _assert_guarded(response)
    assert response["Content-Type"] == "image/png"
    assert b"<script" not in response.content.lower()
    with Image.open(io.BytesIO(response.content)) as shown:
        assert shown.size == (256, 256)


def test_an_image_on_the_allow_list_is_served_as_its_sniffed_type_not_the_declared_one(
    service_api: ApiClient,
) -> None:
    ids = _file_case(service_api, PNG, "text/html")
    specialist = _specialist()
    specialist.post(f"/console/cases/{ids['case_id']}/reveal/{ids['content_id']}")
    html = specialist.get(f"/console/cases/{ids['case_id']}/").content.decode()
    (full,) = [u for u in _media_urls(html) if "/full?" in u]

    response = specialist.get(full)

    assert response["Content-Type"] == "image/png"
    assert response.content == PNG
    _assert_guarded(response)


def test_an_image_uploaded_to_a_video_item_is_not_rendered_as_video(
    service_api: ApiClient,
) -> None:
    ids = _file_case(service_api, PNG, "video/mp4", kind="video")
    specialist = _specialist()

    html = specialist.get(f"/console/cases/{ids['case_id']}/").content.decode()

    assert "not a video" in html
    assert "<video" not in html


HOSTILE_PREVIEWS = {
    "12000x12000 flat png": (lambda: _big_flat_png(12000), "image", "megapixels"),
    "400-megapixel header": (lambda: _png_declaring(20000, 20000), "image", "megapixels"),
    "png with broken data": (lambda: _png_declaring(64, 64), "image", "cannot be decoded"),
    "truncated png": (lambda: PNG[: len(PNG) // 2], "image", "cannot be decoded"),
    "garbage video": (lambda: b"\x00\x00\x00\x18ftypmp42" + bytes(4000), "video", "video"),
    "webm header only": (lambda: b"\x1a\x45\xdf\xa3" + b"webm" + bytes(100), "video", "video"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PREVIEWS))
def test_media_that_cannot_be_rendered_says_why_instead_of_failing(
    service_api: ApiClient, name: str
) -> None:
    make, kind, reason = HOSTILE_PREVIEWS[name]
    ids = _file_case(service_api, make(), "image/png", kind=kind)
    blob = ContentItem.objects.select_related("blob").get(pk=ids["content_id"]).blob
    assert blob is not None
    assert blob.render_state == RenderState.FAILED, blob.render_error
    assert reason in blob.render_error

    specialist = _specialist()
    html = specialist.get(f"/console/cases/{ids['case_id']}/").content.decode()
    assert "preview unavailable" in html
    preview = specialist.get(_url(specialist, ids, "preview"))

    assert preview.status_code == 404
    assert preview.content.decode().startswith("preview unavailable: ")
    _assert_guarded(preview)


def test_a_preview_requested_before_rendering_is_not_decoded_on_the_request(
    service_api: ApiClient,
) -> None:
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(content=[{"platform_id": "img:9", "kind": "image"}]),
    ).json()
    content_id = created["content"][0]["id"]
    service_api.upload(
        f"/api/v1/content/{content_id}/media",
        {"file": SimpleUploadedFile("a.png", _big_flat_png(12000), content_type="image/png")},
    )
    item = ContentItem.objects.select_related("blob").get(pk=content_id)
    assert item.blob is not None
    assert item.blob.render_state == RenderState.PENDING

    with pytest.raises(MediaUnavailable, match="still being prepared"):
        preview_bytes(item)


def test_the_cli_renders_media_left_pending(service_api: ApiClient) -> None:
    created = service_api.post(
        "/api/v1/escalations",
        escalation_body(content=[{"platform_id": "img:7", "kind": "image"}]),
    ).json()
    content_id = created["content"][0]["id"]
    service_api.upload(
        f"/api/v1/content/{content_id}/media",
        {"file": SimpleUploadedFile("a.png", PNG, content_type="image/png")},
    )
    out = io.StringIO()

    call_command("media", "render", stdout=out)

    assert (
        out.getvalue().strip()
        == "1 pending: 1 rendered, 0 could not be rendered (the console says why)"
    )
    blob = ContentItem.objects.select_related("blob").get(pk=content_id).blob
    assert blob is not None
    assert blob.render_state == RenderState.READY
    assert preview_bytes(ContentItem.objects.select_related("blob").get(pk=content_id))
