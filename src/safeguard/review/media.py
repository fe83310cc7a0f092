"""Protected media: short-lived signed URLs, a blurred greyscale preview, the full image only
after this person revealed it, decrypted on the fly and never cached."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core import signing
from django.http import Http404, HttpResponse
from PIL import Image, ImageFilter, ImageOps

from safeguard.accounts.models import User
from safeguard.audit.events import AuditEventType
from safeguard.audit.models import AuditEvent
from safeguard.evidence.models import ContentItem
from safeguard.evidence.services import vault

URL_SECONDS = 300
# A reveal opens the full image for this person for a while, then it is blurred again.
REVEAL_WINDOW = timedelta(minutes=15)
PREVIEW_SIZE = 320
_SALT = "safeguard.media"


def media_token(*, user: User, content_id: object, variant: str) -> str:
    return signing.dumps({"u": user.pk, "c": str(content_id), "v": variant}, salt=_SALT)


def media_token_check(token: str, *, user: User, content_id: object, variant: str) -> bool:
    try:
        data = signing.loads(token, salt=_SALT, max_age=URL_SECONDS)
    except signing.BadSignature:
        return False
    return bool(data == {"u": user.pk, "c": str(content_id), "v": variant})


def revealed_recently(*, user: User, content: ContentItem) -> bool:
    from django.utils import timezone

    return AuditEvent.objects.filter(
        event_type=AuditEventType.MEDIA_REVEALED,
        actor=user,
        target_type="content",
        target_id=str(content.pk),
        created_at__gte=timezone.now() - REVEAL_WINDOW,
    ).exists()


def protected(body: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store, private"
    response["Pragma"] = "no-cache"
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def preview_bytes(
    content: ContentItem, *, blur_radius: int = 24, greyscale: bool = True, size: int = PREVIEW_SIZE
) -> bytes:
    """A small, heavily blurred (and by default greyscale) rendering: shapes, not detail."""
    if content.blob_id is None:
        raise Http404("no media")
    with Image.open(io.BytesIO(vault().read(content.blob_id))) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((size, size))
        image = image.convert("L" if greyscale else "RGB")
        image = image.filter(ImageFilter.GaussianBlur(blur_radius))
        out = io.BytesIO()
        image.save(out, format="PNG")
    return out.getvalue()


STRIP_FRAMES = 6


def _video_frames(data: bytes, count: int) -> list[Image.Image]:
    """`count` frames spread evenly over the video (key frames: no need to play it)."""
    import av

    frames: list[Image.Image] = []
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        duration = float(container.duration or 0) / 1_000_000 or 1.0
        wanted = [duration * (i + 0.5) / count for i in range(count)]
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            while wanted and frame.time >= wanted[0]:
                frames.append(frame.to_image())
                wanted.pop(0)
            if not wanted:
                break
    return frames


def strip_bytes(
    content: ContentItem, *, blur_radius: int | None, greyscale: bool, size: int = PREVIEW_SIZE
) -> bytes:
    """A row of frames from a video; blurred (and greyscale) unless `blur_radius` is None."""
    if content.blob_id is None:
        raise Http404("no media")
    frames = _video_frames(vault().read(content.blob_id), STRIP_FRAMES)
    if not frames:
        raise Http404("no frames")
    width = max(size // 2, 80)
    thumbs = []
    for frame in frames:
        frame.thumbnail((width, width))
        frame = frame.convert("L" if greyscale else "RGB")
        if blur_radius is not None:
            frame = frame.filter(ImageFilter.GaussianBlur(blur_radius))
        thumbs.append(frame)
    strip = Image.new(thumbs[0].mode, (sum(t.width for t in thumbs), max(t.height for t in thumbs)))
    x = 0
    for thumb in thumbs:
        strip.paste(thumb, (x, 0))
        x += thumb.width
    out = io.BytesIO()
    strip.save(out, format="PNG")
    return out.getvalue()


def full_bytes(content: ContentItem) -> tuple[bytes, str]:
    if content.blob_id is None:
        raise Http404("no media")
    return vault().read(
        content.blob_id
    ), content.blob.content_type if content.blob else "application/octet-stream"
