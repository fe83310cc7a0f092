"""The kinds of content an item can be, and which of them carry media bytes."""

from enum import StrEnum


class ContentKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    MESSAGE_THREAD = "message_thread"
    LIVESTREAM = "livestream"
    PROFILE = "profile"


MEDIA_KINDS = frozenset({ContentKind.IMAGE, ContentKind.VIDEO})
