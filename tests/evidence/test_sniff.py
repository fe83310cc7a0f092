"""The sniffer reads what bytes are, whatever they are called; renderings stay within limits."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from safeguard.evidence.sniff import (
    IMAGE,
    OPAQUE_TYPE,
    SERVED_TYPES,
    RenderRefused,
    render_image,
    sniff,
)


def _image(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "served"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", OPAQUE_TYPE),
        ("TIFF", OPAQUE_TYPE),
    ],
)
def test_images_are_known_by_their_bytes(fmt: str, served: str) -> None:
    found = sniff(io.BytesIO(_image(fmt)))

    assert found.kind == IMAGE
    assert found.media_type == served
    assert (found.width, found.height) == (40, 30)
    assert not found.markup


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"<!doctype html><p>hi", "HTML document"),
        (b"\xef\xbb\xbf  <html>", "HTML document"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
        (b"<?xml version='1.0'?><svg/>", "SVG"),
        (b"%PDF-1.7", "PDF document"),
        (b"PK\x03\x04rest", "ZIP archive"),
        (b"", "empty file"),
        (b"plain words", "text"),
        (b"\x00\x01\x02\xff\xfe", "unidentified binary data"),
    ],
)
def test_non_media_is_described_and_never_given_a_kind(data: bytes, what: str) -> None:
    found = sniff(io.BytesIO(data))

    assert found.kind == ""
    assert found.media_type == OPAQUE_TYPE
    assert what in found.description


def test_markup_after_an_image_is_found_as_a_polyglot() -> None:
    found = sniff(io.BytesIO(_image("GIF") + b"\n<ScRiPt>alert(1)</script>"))

    assert found.kind == IMAGE
    assert found.markup
    assert "polyglot" in found.description


def test_markup_split_across_read_chunks_is_still_found() -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\x00" * (1024 * 1024 - 12) + b"<script>"  # "<scr" ends chunk 1
    assert sniff(io.BytesIO(data)).markup


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_sniff_to_a_served_type_or_opaque_without_raising(data: bytes) -> None:
    found = sniff(io.BytesIO(data))

    assert found.media_type in SERVED_TYPES | {OPAQUE_TYPE}
    if found.kind:
        assert found.kind in ("image", "video")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=512).map(lambda rest: b"<" + rest))
def test_bytes_starting_as_markup_are_never_media(data: bytes) -> None:
    assert sniff(io.BytesIO(data)).kind == ""


def test_render_refuses_more_pixels_than_the_limit_before_decoding() -> None:
    with pytest.raises(RenderRefused, match="megapixels"):
        render_image(_image("PNG", (300, 300)), thumb_px=64, display_px=128, max_pixels=80_000)


def test_renditions_are_bounded_pngs() -> None:
    made = render_image(_image("JPEG", (900, 300)), thumb_px=64, display_px=128)

    with Image.open(io.BytesIO(made.thumbnail)) as thumb:
        assert thumb.format == "PNG"
        assert max(thumb.size) == 64
    with Image.open(io.BytesIO(made.display)) as display:
        assert max(display.size) == 128
