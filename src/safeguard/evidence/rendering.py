"""Renditions of stored media, made once in a task and kept encrypted in the vault, so that
showing media never decodes hostile bytes on a request."""

from __future__ import annotations

import io

from safeguard.evidence.models import Blob, RenderState
from safeguard.evidence.sniff import IMAGE, VIDEO, RenderRefused, render_image, render_video_strip
from safeguard.evidence.store import vault
from safeguard.evidence.vault import Vault

# Renditions are made once at upload, at the largest size a person's view settings allow
# (review.services.LIMITS), so the request path only scales and blurs a small image.
THUMBNAIL_PX = 640
DISPLAY_PX = 2048
STRIP_FRAMES = 6
STRIP_FRAME_PX = 320


def blob_render(*, sha256: str) -> Blob:
    """Make a blob's renditions once, within the decoding limits, and record the outcome.

    Runs in a task, never on a request. Safe to run again: a blob that is no longer pending is
    left as it is.
    """
    blob = Blob.objects.get(pk=sha256)
    if blob.render_state != RenderState.PENDING:
        return blob
    store = vault()
    data = store.read(sha256)
    thumbnail = display = ""
    try:
        if blob.media_kind == IMAGE:
            renditions = render_image(data, thumb_px=THUMBNAIL_PX, display_px=DISPLAY_PX)
            thumbnail = _keep(store, renditions.thumbnail)
            display = _keep(store, renditions.display)
        elif blob.media_kind == VIDEO:
            strip = render_video_strip(data, frames=STRIP_FRAMES, frame_px=STRIP_FRAME_PX)
            thumbnail = _keep(store, strip)
    except RenderRefused as exc:
        Blob.objects.filter(pk=sha256).update(
            render_state=RenderState.FAILED, render_error=str(exc)[:300]
        )
    else:
        Blob.objects.filter(pk=sha256).update(
            render_state=RenderState.READY, thumbnail_sha256=thumbnail, display_sha256=display
        )
    blob.refresh_from_db()
    return blob


def _keep(store: Vault, data: bytes) -> str:
    return store.put(io.BytesIO(data), max_bytes=len(data)).sha256
