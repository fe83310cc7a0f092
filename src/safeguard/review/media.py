"""Protected media: short-lived signed URLs, a blurred greyscale preview, the full image only
after this person revealed it, decrypted on the fly and never cached.

Nothing here decodes uploaded bytes: previews are scaled and blurred from the renditions a task
made at upload (`evidence.rendering`), and media is served only as a sniffed type from the
allow-list, as Safeguard's own re-encoding, or as an attachment.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.http import HttpResponse
from django.utils import timezone
from PIL import Image, ImageFilter

from safeguard.accounts.models import User
from safeguard.audit.events import AuditEventType
from safeguard.audit.models import AuditEvent
from safeguard.evidence.models import Blob, ContentItem, RenderState
from safeguard.evidence.sniff import EXTENSIONS, OPAQUE_TYPE, SERVED_TYPES
from safeguard.evidence.store import vault

URL_SECONDS = 300
# A reveal opens the full image for this person for a while, then it is blurred again.
REVEAL_WINDOW = timedelta(minutes=15)
PREVIEW_SIZE = 320
_SALT = "safeguard.media"
VARIANTS = ("preview", "full", "strip", "download")

# Every media response: never cached, never sniffed, never able to run anything.
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'none'; sandbox"


class MediaUnavailable(Exception):
    """This rendering of the item cannot be shown; the message says why, for a person."""


def media_token(*, user: User, content_id: object, variant: str) -> str:
    return signing.dumps({"u": user.pk, "c": str(content_id), "v": variant}, salt=_SALT)


def media_token_check(token: str, *, user: User, content_id: object, variant: str) -> bool:
    try:
        data = signing.loads(token, salt=_SALT, max_age=URL_SECONDS)
    except signing.BadSignature:
        return False
    return bool(data == {"u": user.pk, "c": str(content_id), "v": variant})


def revealed_recently(*, user: User, content: ContentItem) -> bool:
    return AuditEvent.objects.filter(
        event_type=AuditEventType.MEDIA_REVEALED,
        actor=user,
        target_type="content",
        target_id=str(content.pk),
        created_at__gte=timezone.now() - REVEAL_WINDOW,
    ).exists()


def protected(
    body: bytes, content_type: str, *, content_id: object, attachment: bool = False
) -> HttpResponse:
    """A media response with the headers that keep it from being cached, sniffed or run."""
    if content_type != OPAQUE_TYPE and content_type not in SERVED_TYPES:
        raise ValueError(f"{content_type} is not a type the console serves")
    return _guarded(HttpResponse(body, content_type=content_type), content_id, attachment)


def unavailable(reason: str, *, content_id: object) -> HttpResponse:
    """The plain-text answer where media cannot be shown: "preview unavailable: reason"."""
    response = HttpResponse(reason.encode(), content_type="text/plain; charset=utf-8", status=404)
    return _guarded(response, content_id, attachment=False)


def _guarded(response: HttpResponse, content_id: object, attachment: bool) -> HttpResponse:
    content_type = response["Content-Type"].split(";")[0]
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    # The file name is ours (the item's id), never the uploader's.
    extension = EXTENSIONS.get(content_type, "txt" if content_type == "text/plain" else "bin")
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{content_id}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@dataclass(frozen=True)
class MediaState:
    """What the console can show of an item's media, and why not where it cannot."""

    renderable: bool
    ready: bool
    reason: str


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def media_state(content: ContentItem) -> MediaState:
    blob = content.blob
    if blob is None:
        return MediaState(False, False, "no media uploaded")
    if blob.media_kind != content.kind:
        what = blob.detected or "unidentified data"
        return MediaState(
            False,
            False,
            f"the bytes are {what}, not {_article(content.kind)} {content.kind}: kept as opaque"
            " evidence, never shown; download it as a file if you must",
        )
    if blob.render_state == RenderState.PENDING:
        return MediaState(True, False, "preview unavailable: still being prepared")
    if blob.render_state == RenderState.FAILED:
        return MediaState(True, False, f"preview unavailable: {blob.render_error}")
    return MediaState(True, True, "")


def _ready_blob(content: ContentItem) -> Blob:
    state = media_state(content)
    if not state.ready or content.blob is None:
        raise MediaUnavailable(state.reason)
    return content.blob


def _scaled(
    data: bytes, *, size: int, blur_radius: int | None, greyscale: bool, width_per: int = 1
) -> bytes:
    """Scale a rendition (our own PNG) down and blur it; cheap, since renditions are small."""
    with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
        image.load()
        image.thumbnail((size * width_per, size))
        image = image.convert("L" if greyscale else "RGB")
        if blur_radius is not None:
            image = image.filter(ImageFilter.GaussianBlur(blur_radius))
        out = io.BytesIO()
        image.save(out, format="PNG")
    return out.getvalue()


def preview_bytes(
    content: ContentItem, *, blur_radius: int = 24, greyscale: bool = True, size: int = PREVIEW_SIZE
) -> bytes:
    """A small, heavily blurred (and by default greyscale) rendering: shapes, not detail."""
    blob = _ready_blob(content)
    return _scaled(
        vault().read(blob.thumbnail_sha256),
        size=size,
        blur_radius=blur_radius,
        greyscale=greyscale,
    )


STRIP_FRAMES = 6


def strip_bytes(
    content: ContentItem, *, blur_radius: int | None, greyscale: bool, size: int = PREVIEW_SIZE
) -> bytes:
    """A row of frames from a video; blurred (and greyscale) unless `blur_radius` is None."""
    blob = _ready_blob(content)
    return _scaled(
        vault().read(blob.thumbnail_sha256),
        size=max(size // 2, 80),
        blur_radius=blur_radius,
        greyscale=greyscale,
        width_per=STRIP_FRAMES,
    )


def full_bytes(content: ContentItem) -> tuple[bytes, str]:
    """The revealed item: the stored bytes only when their sniffed type is on the allow-list
    and they hold no markup; otherwise Safeguard's own re-encoding (images) or nothing."""
    blob = _ready_blob(content)
    if blob.media_type in SERVED_TYPES and not blob.markup:
        return vault().read(blob.sha256), blob.media_type
    if blob.display_sha256:
        return vault().read(blob.display_sha256), "image/png"
    raise MediaUnavailable(
        f"the {blob.detected or 'file'} cannot be played in the browser; download it as a file"
    )


def download_bytes(content: ContentItem) -> bytes:
    """The stored bytes exactly, for an attachment: evidence, whatever they are."""
    if content.blob_id is None:
        raise MediaUnavailable("no media uploaded")
    return vault().read(content.blob_id)
