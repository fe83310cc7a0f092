"""Video as a signal type: the `SignalType` interface over `safeguard.matching.video`."""

from __future__ import annotations

import hashlib
import os
from typing import ClassVar

from safeguard.matching.signal_types import (
    DEFAULT_MAX_BYTES,
    HashResult,
    IndexKind,
    MediaKind,
    SignalType,
)
from safeguard.matching.video import (
    DEFAULT_MATCH_DISTANCE,
    DEFAULT_QUERY_SHARE,
    VideoHash,
    hash_video,
    video_match,
)


def identity(text: str) -> str:
    """A video hash's identity in a bank (its text can run to kilobytes): SHA-256 of the text."""
    return hashlib.sha256(text.encode("ascii")).hexdigest()


class VideoSignal(SignalType):
    """Distance is the percentage of the query's usable frames with no match (0 = all match)."""

    name: ClassVar[str] = "video"
    media_kind: ClassVar[MediaKind] = MediaKind.VIDEO
    index_kind: ClassVar[IndexKind] = IndexKind.FRAME_SET
    default_threshold: ClassVar[int] = round(100 * (1 - DEFAULT_QUERY_SHARE))

    def validate(self, hash_str: str) -> str:
        return VideoHash.from_text(hash_str).to_text()

    def hash_bytes(self, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> HashResult:
        return HashResult(self.name, hash_video(data, max_bytes=max_bytes).to_text())

    def hash_file(
        self, path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> HashResult:
        # Decoding streams from the file; the video is never read whole into memory.
        return HashResult(self.name, hash_video(path, max_bytes=max_bytes).to_text())

    def compare(
        self, query: str, candidate: str, *, frame_distance: int, share: float
    ) -> int | None:
        """The distance when the videos match at these thresholds, else None."""
        result = video_match(
            VideoHash.from_text(query),
            VideoHash.from_text(candidate),
            distance=frame_distance,
            query_share=share,
        )
        return round(100 * (1 - result.query_matched_share)) if result.matched else None

    def distance(self, a: str, b: str) -> int:
        result = video_match(
            VideoHash.from_text(a), VideoHash.from_text(b), distance=DEFAULT_MATCH_DISTANCE
        )
        return round(100 * (1 - result.query_matched_share))


VIDEO = VideoSignal()
