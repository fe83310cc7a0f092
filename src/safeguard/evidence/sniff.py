"""What uploaded bytes really are, and bounded renderings of them: never the client's word.

Hostile uploads are the normal case: a file named `cat.png` and declared `image/png` may be HTML,
SVG with script, a ZIP, or a valid image with markup appended (a polyglot). The type is read from
the bytes (magic numbers, then Pillow or PyAV), the console is served only types on a fixed
allow-list, and every decode runs under limits of bytes, pixels, frames and time.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE: Final = "image"
VIDEO: Final = "video"

# Types the console may send a browser as they are stored (always with nosniff and a sandboxing
# CSP); anything else is shown only as our own re-encoding, or not at all.
SERVED_TYPES: Final = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4", "video/webm"}
)
OPAQUE_TYPE: Final = "application/octet-stream"
EXTENSIONS: Final = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/webm": "webm",
}

# Pillow formats taken as images; the first frame of an animation is what is rendered.
_PILLOW_FORMATS: Final = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
_PILLOW_TYPES: Final = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}

DEFAULT_MAX_PIXELS: Final = 40_000_000
DEFAULT_MAX_FRAME_PIXELS: Final = 40_000_000
DEFAULT_MAX_DURATION_S: Final = 4 * 3600.0
DEFAULT_MAX_DECODED_FRAMES: Final = 3000
DEFAULT_TIME_BUDGET_S: Final = 30.0

# Markup a browser would run if it ever took these bytes for a document.
_MARKUP = re.compile(
    rb"<\s*(?:script|html|body|svg|iframe|object|embed|!doctype|\?xml)|javascript:", re.IGNORECASE
)
_MARKUP_SCAN_BYTES: Final = 64 * 1024 * 1024
_HEAD_BYTES: Final = 4096


class RenderRefused(Exception):
    """The bytes cannot be rendered within the limits; the message says why, for a person."""


@dataclass(frozen=True)
class Sniffed:
    """What the bytes are. `kind` is set only for an image or video the console can render."""

    kind: str
    media_type: str
    description: str
    markup: bool
    width: int | None = None
    height: int | None = None


def _mp4_type(head: bytes) -> tuple[str, str] | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in (b"avif", b"avis", b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return IMAGE, "AVIF/HEIF image"
    if brand == b"qt  ":
        return VIDEO, "QuickTime video"
    return VIDEO, "MP4 video"


def _magic(head: bytes) -> tuple[str, str, str]:
    """(kind, served type, description) from the first bytes; kind "" for non-media."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return IMAGE, "image/png", "PNG image"
    if head.startswith(b"\xff\xd8\xff"):
        return IMAGE, "image/jpeg", "JPEG image"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return IMAGE, "image/gif", "GIF image"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return IMAGE, "image/webp", "WebP image"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return VIDEO, OPAQUE_TYPE, "AVI video"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return IMAGE, OPAQUE_TYPE, "TIFF image"
    if head.startswith(b"BM") and len(head) > 26:
        return IMAGE, OPAQUE_TYPE, "BMP image"
    mp4 = _mp4_type(head)
    if mp4 is not None:
        kind, what = mp4
        return kind, ("video/mp4" if what == "MP4 video" else OPAQUE_TYPE), what
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:64]:
            return VIDEO, "video/webm", "WebM video"
        return VIDEO, OPAQUE_TYPE, "Matroska video"
    return "", OPAQUE_TYPE, _non_media(head)


def _non_media(head: bytes) -> str:
    for signature, what in (
        (b"%PDF-", "PDF document"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"\x1f\x8b", "gzip archive"),
        (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
        (b"Rar!", "RAR archive"),
        (b"\x7fELF", "ELF executable"),
        (b"MZ", "Windows executable"),
        (b"OggS", "Ogg media"),
        (b"ID3", "MP3 audio"),
    ):
        if head.startswith(signature):
            return what
    if not head:
        return "empty file"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html")) or re.search(rb"<(script|body|head)\b", text):
        return "HTML document"
    if b"<svg" in text:
        return "SVG image (XML that can carry script)"
    if text.startswith(b"<?xml"):
        return "XML document"
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError:
        return "unidentified binary data"
    if "\x00" in decoded:
        return "unidentified binary data"
    return "text"


def _markup(stream: BinaryIO) -> bool:
    """Whether markup appears anywhere in the first 64 MiB (chunks overlap so none is missed)."""
    stream.seek(0)
    tail = b""
    seen = 0
    while seen < _MARKUP_SCAN_BYTES:
        chunk = stream.read(1024 * 1024)
        if not chunk:
            break
        seen += len(chunk)
        if _MARKUP.search(tail + chunk):
            return True
        tail = chunk[-32:]
    return False


def sniff(stream: BinaryIO, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Sniffed:
    """Identify bytes from what they are. Images are confirmed by Pillow's header parse (no
    pixel decoding here); videos by their container signature, confirmed when rendered."""
    stream.seek(0)
    head = stream.read(_HEAD_BYTES)
    kind, media_type, description = _magic(head)
    markup = _markup(stream)
    if markup and kind:
        description += ", with markup inside (a polyglot)"
    if kind != IMAGE:
        stream.seek(0)
        return Sniffed(kind, media_type, description, markup)
    stream.seek(0)
    try:
        with _size_checked_here(), Image.open(stream, formats=_PILLOW_FORMATS) as image:
            width, height = image.size
            media_type = _PILLOW_TYPES.get(image.format or "", OPAQUE_TYPE)
    except Image.DecompressionBombError:
        stream.seek(0)
        return Sniffed(IMAGE, media_type, f"{description} too large to open", markup)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        stream.seek(0)
        return Sniffed(
            "", OPAQUE_TYPE, f"{description} signature, but not a readable image ({exc})", markup
        )
    stream.seek(0)
    return Sniffed(IMAGE, media_type, f"{description} {width}x{height}", markup, width, height)


@contextlib.contextmanager
def _size_checked_here() -> Iterator[None]:
    """Opening an image reads only its header; the caller checks the declared size itself, so
    Pillow's warning about large sizes is noise here (its hard limit still raises)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class ImageRenditions:
    thumbnail: bytes  # PNG, at most `thumb_px` on its long side, in colour and sharp
    display: bytes  # PNG re-encoding, at most `display_px`: shown instead of unsafe originals


def render_image(
    data: bytes, *, thumb_px: int, display_px: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> ImageRenditions:
    """Decode an image once, within `max_pixels`, into a thumbnail and a display copy."""
    try:
        with _size_checked_here(), Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise RenderRefused(
                    f"the image is {width}x{height} ({width * height / 1e6:.0f} megapixels), "
                    f"over the limit of {max_pixels / 1e6:.0f} megapixels"
                )
            # JPEG can decode at a fraction of its size, which bounds memory further.
            image.draft("RGB", (display_px, display_px))
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except Image.DecompressionBombError:
        raise RenderRefused(
            f"the image declares more pixels than the limit of {max_pixels / 1e6:.0f} megapixels"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise RenderRefused(f"the image cannot be decoded ({exc})") from None
    display = upright.copy()
    display.thumbnail((display_px, display_px))
    upright.thumbnail((thumb_px, thumb_px))
    return ImageRenditions(thumbnail=_png(upright), display=_png(display))


def render_video_strip(
    data: bytes,
    *,
    frames: int,
    frame_px: int,
    max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    max_decoded_frames: int = DEFAULT_MAX_DECODED_FRAMES,
    time_budget_s: float = DEFAULT_TIME_BUDGET_S,
) -> bytes:
    """A PNG row of `frames` frames spread over the video, each at most `frame_px` wide.

    Decoding stops at whichever comes first of the frames wanted, `max_decoded_frames` decoded,
    or `time_budget_s` spent, so a hostile file cannot keep a worker busy.
    """
    import av  # PyAV is heavy to import; only video rendering needs it.

    started = time.monotonic()
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise RenderRefused(f"the video cannot be opened ({exc})") from None
    picked = []
    with container:
        if not container.streams.video:
            raise RenderRefused("the file has no video stream")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > max_frame_pixels:
            raise RenderRefused(
                f"video frames are {width}x{height}, over the limit of "
                f"{max_frame_pixels / 1e6:.0f} megapixels"
            )
        duration = float(container.duration or 0) / 1_000_000
        if duration > max_duration_s:
            raise RenderRefused(
                f"the video runs {duration:.0f} s, over the limit of {max_duration_s:.0f} s"
            )
        duration = duration or 1.0
        wanted = [duration * (i + 0.5) / frames for i in range(frames)]
        decoded = 0
        try:
            for frame in container.decode(stream):
                decoded += 1
                if decoded > max_decoded_frames or time.monotonic() - started > time_budget_s:
                    break
                if frame.time is None:
                    continue
                if frame.time > max_duration_s:
                    break
                while wanted and frame.time >= wanted[0]:
                    picked.append(frame.to_image())  # type: ignore[no-untyped-call]  # PyAV leaves it untyped
                    wanted.pop(0)
                if not wanted:
                    break
        except (av.FFmpegError, ValueError, OSError) as exc:
            if not picked:
                raise RenderRefused(f"the video cannot be decoded ({exc})") from None
    if not picked:
        raise RenderRefused("no frame of the video could be decoded")
    thumbs = []
    for image in picked:
        image.thumbnail((frame_px, frame_px))
        thumbs.append(image.convert("RGB"))
    strip = Image.new("RGB", (sum(t.width for t in thumbs), max(t.height for t in thumbs)))
    x = 0
    for thumb in thumbs:
        strip.paste(thumb, (x, 0))
        x += thumb.width
    return _png(strip)
