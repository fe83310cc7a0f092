"""Reads for evidence, with the access check."""

from __future__ import annotations

import uuid

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.evidence.models import ContentItem


class ContentNotFound(Exception):
    def __init__(self, content_id: object) -> None:
        super().__init__(f"no content {content_id}")


def content_get_for_upload(*, user: User, content_id: uuid.UUID) -> ContentItem:
    """A content item the user may upload media for: one named in an escalation they sent."""
    if not user.has_permission(Permission.EVIDENCE_MEDIA_UPLOAD):
        raise ContentNotFound(content_id)
    item = (
        ContentItem.objects.filter(pk=content_id, mentions__escalation__caller=user)
        .distinct()
        .first()
    )
    if item is None:
        raise ContentNotFound(content_id)
    return item
