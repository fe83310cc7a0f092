"""Reads for evidence, with the access check."""

from __future__ import annotations

import uuid

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.core.errors import NotFound
from safeguard.evidence.models import ContentItem


class ContentNotFound(NotFound):
    def __init__(self, content_id: object) -> None:
        super().__init__(f"no content {content_id}")


def content_get_for_upload(*, user: User, content_id: uuid.UUID) -> ContentItem:
    """A content item the user may upload media for: one of its own platform's items.

    Only the platform that owns a content id may give it bytes; to anyone else (a partner, a
    service account of another platform) the item does not exist.
    """
    if not user.has_permission(Permission.EVIDENCE_MEDIA_UPLOAD) or not user.platform:
        raise ContentNotFound(content_id)
    item = ContentItem.objects.filter(pk=content_id, platform=user.platform).first()
    if item is None:
        raise ContentNotFound(content_id)
    return item
