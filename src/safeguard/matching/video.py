"""Video hashing in the manner of Meta's vPDQ: one PDQ hash per second of video, runs collapsed.

Pure module (no Django import); see docs/video-hashing.md for the format and matching rules.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Final

import av
import av.error
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from numpy.typing import NDArray

from safeguard.matching.signal_types import (
    PDQ,
    CorruptMedia,
    DecompressionBomb,
    EmptyMedia,
    InvalidHash,
    MediaError,
    OversizedMedia,
    TruncatedMedia,
    UnsupportedMediaFormat,
)

__all__ = [
    "DEFAULT_CANDIDATE_SHARE",
    "DEFAULT_COLLAPSE_DISTANCE",
    "DEFAULT_MATCH_DISTANCE",
    "DEFAULT_MAX_DURATION_S",
    "DEFAULT_MAX_FRAME_PIXELS",
    "DEFAULT_MAX_VIDEO_BYTES",
    "DEFAULT_QUALITY_MIN",
    "DEFAULT_QUERY_SHARE",
    "DEFAULT_SECONDS_PER_FRAME",
    "SIGNAL_NAME",
    "CorruptVideo",
    "FrameHash",
    "TruncatedVideo",
    "VideoFrameTooLarge",
    "VideoHash",
    "VideoMatch",
    "VideoTooLong",
    "hash_video",
    "video_match",
]

SIGNAL_NAME: Final = "video"

# vPDQ's default sampling rate: enough to see every scene of a re-shared video while keeping a
# two-hour film to about 7,200 hashes before collapsing.
DEFAULT_SECONDS_PER_FRAME: Final = 1.0
# Uploads of several gigabytes are real; more than this is refused before any decoding.
DEFAULT_MAX_VIDEO_BYTES: Final = 4 * 1024**3
DEFAULT_MAX_DURATION_S: Final = 4 * 3600.0
# 8K UHD (7680x4320) is 33 million pixels; a frame declaring more is treated as a bomb.
DEFAULT_MAX_FRAME_PIXELS: Final = 40_000_000
# Re-encoding noise moves the PDQ hash of a still picture by a few bits from one second to the
# next; a small radius lets such a still collapse to one frame, while a pan or a cut (tens of
# bits) starts a new one. Collapsing costs at most this many bits of matching reach.
DEFAULT_COLLAPSE_DISTANCE: Final = 8

# Matching defaults follow python-threatexchange's vPDQ signal: PDQ's distance threshold and
# quality floor, and 80% of the query's frames found in the candidate.
DEFAULT_MATCH_DISTANCE: Final = 31
DEFAULT_QUALITY_MIN: Final = 50
DEFAULT_QUERY_SHARE: Final = 0.8
DEFAULT_CANDIDATE_SHARE: Final = 0.0

_TEXT_TAG: Final = "sgv1"
# A decoded video may end this much before its declared duration without being called truncated:
# declared durations are rounded, and the last frame's own duration is often unknown.
_TRUNCATION_SLACK_S: Final = 1.0
# More frames than this per second of timeline means timestamps that do not advance, which would
# otherwise let a small file keep the decoder busy without ever reaching the duration limit.
_MAX_FRAME_RATE: Final = 1000
# When a frame carries no duration and the stream no frame rate, assume a common rate.
_FALLBACK_FRAME_RATE: Final = 25.0
# Bounds the pairwise distance matrix built per step in `video_match` (in 64-bit words).
_MATCH_CHUNK_WORDS: Final = 4_000_000

# Container signatures and the FFmpeg demuxer each maps to. Naming the demuxer means FFmpeg never
# probes untrusted bytes with its other demuxers, some of which (HLS, concat) open other files or
# URLs named inside the media.
_ISO_BMFF_BOX_TYPES: Final = frozenset({b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"})
_EBML_MAGIC: Final = b"\x1a\x45\xdf\xa3"
_MATROSKA_SEGMENT_ID: Final = b"\x18\x53\x80\x67"
_ASF_MAGIC: Final = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_MPEG_TS_PACKET: Final = 188
_SUPPORTED_CONTAINERS: Final = "MP4/MOV, Matroska/WebM, AVI, FLV, MPEG-TS, MPEG-PS, Ogg, ASF"
_IMAGE_SIGNATURES: Final = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


class VideoTooLong(MediaError):
    """A video longer than the caller's duration limit."""

    code = "too_long"

    def __init__(self, duration_s: float, max_duration_s: float) -> None:
        self.duration_s = duration_s
        self.max_duration_s = max_duration_s
        super().__init__(
            f"video runs at least {duration_s:.1f} s, more than the limit of {max_duration_s:.1f} s"
        )


class VideoFrameTooLarge(DecompressionBomb):
    """A video whose frames have more pixels than the limit; refused before they are decoded."""

    def __init__(self, width: int, height: int, max_pixels: int) -> None:
        # DecompressionBomb's own message speaks of images; this one names the frame size.
        MediaError.__init__(
            self,
            f"video frames are {width}x{height} = {width * height} pixels, more than the limit"
            f" of {max_pixels} pixels",
        )
        self.pixels = width * height
        self.max_pixels = max_pixels


class TruncatedVideo(TruncatedMedia):
    """A video that ends before its container says it does.

    `partial` holds the hash of what decoded before the end (None when nothing did), so a caller
    may still match it, knowing it is partial.
    """

    def __init__(self, message: str, partial: VideoHash | None) -> None:
        self.partial = partial
        super().__init__(message)


class CorruptVideo(CorruptMedia):
    """A video in a supported container that cannot be decoded; `partial` as in TruncatedVideo."""

    def __init__(self, message: str, partial: VideoHash | None = None) -> None:
        self.partial = partial
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class FrameHash:
    """A run of consecutive samples with near-identical PDQ hashes, represented by its first.

    The run covers `start_s` up to `end_s` (exclusive) of the video's timeline.
    """

    hash: str
    quality: int
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class VideoHash:
    """The hash of one video: its collapsed frames in time order and the decoded duration."""

    signal_type: ClassVar[str] = SIGNAL_NAME

    frames: tuple[FrameHash, ...]
    duration_s: float
    seconds_per_frame: float

    def samples(self, frame: FrameHash) -> int:
        """How many one-per-`seconds_per_frame` samples a frame's run collapsed."""
        return max(1, math.ceil((frame.end_s - frame.start_s) / self.seconds_per_frame - 1e-6))

    def to_text(self) -> str:
        """One line: `sgv1;DURATION;SECONDS_PER_FRAME;START:QUALITY:HEX;...`."""
        parts = [_TEXT_TAG, _fmt_seconds(self.duration_s), _fmt_seconds(self.seconds_per_frame)]
        parts.extend(f"{_fmt_seconds(f.start_s)}:{f.quality}:{f.hash}" for f in self.frames)
        return ";".join(parts)

    @classmethod
    def from_text(cls, text: str) -> VideoHash:
        """Parse `to_text` output, or raise `InvalidHash` naming the first problem."""
        fields = text.strip().split(";")
        if fields[0] != _TEXT_TAG:
            raise InvalidHash(SIGNAL_NAME, text, f"expected it to start with {_TEXT_TAG!r}")
        if len(fields) < 4:
            raise InvalidHash(
                SIGNAL_NAME, text, "expected a duration, seconds per frame and at least one frame"
            )
        duration = _parse_seconds(text, "duration", fields[1])
        seconds_per_frame = _parse_seconds(text, "seconds per frame", fields[2])
        if seconds_per_frame <= 0:
            raise InvalidHash(SIGNAL_NAME, text, "seconds per frame must be positive")
        starts: list[float] = []
        features: list[tuple[str, int]] = []
        for number, field in enumerate(fields[3:], start=1):
            pieces = field.split(":")
            if len(pieces) != 3:
                raise InvalidHash(
                    SIGNAL_NAME, text, f"frame {number} is not START:QUALITY:HEX ({field!r})"
                )
            start = _parse_seconds(text, f"frame {number} start", pieces[0])
            if starts and start <= starts[-1]:
                raise InvalidHash(SIGNAL_NAME, text, f"frame {number} does not start later")
            if start >= duration:
                raise InvalidHash(SIGNAL_NAME, text, f"frame {number} starts after the end")
            starts.append(start)
            features.append(
                (
                    _parse_pdq(text, f"frame {number}", pieces[2]),
                    _parse_quality(text, f"frame {number}", pieces[1]),
                )
            )
        return cls._from_starts(starts, features, duration, seconds_per_frame)

    def to_vpdq_json(self) -> str:
        """python-threatexchange's vPDQ signal string: a JSON list of `HEX,QUALITY,TIMESTAMP`."""
        return json.dumps([f"{f.hash},{f.quality},{_fmt_seconds(f.start_s)}" for f in self.frames])

    @classmethod
    def from_vpdq_json(
        cls, text: str, *, seconds_per_frame: float = DEFAULT_SECONDS_PER_FRAME
    ) -> VideoHash:
        """Read python-threatexchange's vPDQ signal string; the duration is not in it, so the
        last frame is taken to last `seconds_per_frame`."""
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidHash(SIGNAL_NAME, text, f"not JSON ({exc.msg})") from None
        if not isinstance(items, list) or not items:
            raise InvalidHash(SIGNAL_NAME, text, "expected a non-empty JSON list of features")
        parsed: dict[float, tuple[str, int]] = {}
        for number, item in enumerate(items, start=1):
            pieces = item.split(",") if isinstance(item, str) else []
            if len(pieces) != 3:
                raise InvalidHash(
                    SIGNAL_NAME, text, f"feature {number} is not 'HEX,QUALITY,TIMESTAMP'"
                )
            start = _parse_seconds(text, f"feature {number} timestamp", pieces[2])
            # Two features at one instant cannot both be on screen; the first one stands.
            parsed.setdefault(
                start,
                (
                    _parse_pdq(text, f"feature {number}", pieces[0]),
                    _parse_quality(text, f"feature {number}", pieces[1]),
                ),
            )
        starts = sorted(parsed)
        duration = _round_ms(starts[-1] + seconds_per_frame)
        return cls._from_starts(starts, [parsed[s] for s in starts], duration, seconds_per_frame)

    @classmethod
    def _from_starts(
        cls,
        starts: Sequence[float],
        features: Sequence[tuple[str, int]],
        duration: float,
        seconds_per_frame: float,
    ) -> VideoHash:
        # Runs are contiguous by construction, so each ends where the next begins.
        ends = [*starts[1:], duration]
        frames = tuple(
            FrameHash(hash=h, quality=q, start_s=s, end_s=e)
            for (h, q), s, e in zip(features, starts, ends, strict=True)
        )
        return cls(frames=frames, duration_s=duration, seconds_per_frame=seconds_per_frame)


@dataclass(frozen=True, slots=True)
class VideoMatch:
    """The outcome of comparing a query video with a candidate (bank) video.

    The shares are of distinct, good-enough frames (0.0 to 1.0); a side with no such frames has
    a share of 0.0 and never matches.
    """

    matched: bool
    query_matched_share: float
    candidate_matched_share: float


def hash_video(
    source: bytes | str | os.PathLike[str],
    *,
    seconds_per_frame: float = DEFAULT_SECONDS_PER_FRAME,
    collapse_distance: int = DEFAULT_COLLAPSE_DISTANCE,
    max_bytes: int | None = DEFAULT_MAX_VIDEO_BYTES,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS,
) -> VideoHash:
    """Hash a video given as bytes or a file path (never a URL).

    The frame on screen at every multiple of `seconds_per_frame` is hashed with PDQ (upright, as
    a player shows it); consecutive samples within `collapse_distance` bits of the first of their
    run collapse into it. Raises a `MediaError` subclass naming the problem: `EmptyMedia`,
    `OversizedMedia`, `UnsupportedMediaFormat`, `CorruptVideo`, `TruncatedVideo`,
    `VideoTooLong` or `VideoFrameTooLarge`.
    """
    if not seconds_per_frame > 0:
        raise ValueError("seconds_per_frame must be positive")
    if not 0 <= collapse_distance <= 256:
        raise ValueError("collapse_distance must be between 0 and 256")
    if not max_duration_s > 0 or max_frame_pixels <= 0:
        raise ValueError("max_duration_s and max_frame_pixels must be positive")
    if isinstance(source, bytes):
        _check_size(len(source), max_bytes)
        return _hash_stream(
            io.BytesIO(source),
            len(source),
            seconds_per_frame=seconds_per_frame,
            collapse_distance=collapse_distance,
            max_duration_s=max_duration_s,
            max_frame_pixels=max_frame_pixels,
        )
    # Opening the file here, rather than handing FFmpeg the name, keeps a string that happens to
    # look like a URL or a device from being opened as one.
    with Path(source).open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        _check_size(size, max_bytes)
        return _hash_stream(
            fh,
            size,
            seconds_per_frame=seconds_per_frame,
            collapse_distance=collapse_distance,
            max_duration_s=max_duration_s,
            max_frame_pixels=max_frame_pixels,
        )


def video_match(
    query: VideoHash,
    candidate: VideoHash,
    *,
    distance: int = DEFAULT_MATCH_DISTANCE,
    quality_min: int = DEFAULT_QUALITY_MIN,
    query_share: float = DEFAULT_QUERY_SHARE,
    candidate_share: float = DEFAULT_CANDIDATE_SHARE,
) -> VideoMatch:
    """Compare two videos as vPDQ does.

    Frames below `quality_min` are dropped and repeated hashes counted once on each side; a
    frame is matched when some frame on the other side is within `distance` bits. The videos
    match when at least `query_share` of the query's frames and `candidate_share` of the
    candidate's are matched. The default `candidate_share` of 0 lets a short clip cut from a
    known video match it; raise it to demand that most of the candidate is present too.
    """
    if not 0 <= distance <= 256:
        raise ValueError("distance must be between 0 and 256")
    if not (0.0 <= query_share <= 1.0 and 0.0 <= candidate_share <= 1.0):
        raise ValueError("shares must be between 0.0 and 1.0")
    query_bits = _usable_hashes(query, quality_min)
    candidate_bits = _usable_hashes(candidate, quality_min)
    if len(query_bits) == 0 or len(candidate_bits) == 0:
        return VideoMatch(matched=False, query_matched_share=0.0, candidate_matched_share=0.0)
    query_hit = np.zeros(len(query_bits), dtype=bool)
    candidate_hit = np.zeros(len(candidate_bits), dtype=bool)
    rows = max(1, _MATCH_CHUNK_WORDS // (4 * len(candidate_bits)))
    for first in range(0, len(query_bits), rows):
        block = query_bits[first : first + rows]
        distances = np.bitwise_count(block[:, None, :] ^ candidate_bits[None, :, :]).sum(axis=2)
        close = distances <= distance
        query_hit[first : first + rows] = close.any(axis=1)
        candidate_hit |= close.any(axis=0)
    query_matched = float(query_hit.mean())
    candidate_matched = float(candidate_hit.mean())
    return VideoMatch(
        matched=query_matched >= query_share and candidate_matched >= candidate_share,
        query_matched_share=query_matched,
        candidate_matched_share=candidate_matched,
    )


def _usable_hashes(video: VideoHash, quality_min: int) -> NDArray[np.uint64]:
    """The distinct hashes of frames at or above `quality_min`, as rows of four 64-bit words."""
    distinct = dict.fromkeys(f.hash for f in video.frames if f.quality >= quality_min)
    raw = bytes.fromhex("".join(distinct))
    return np.frombuffer(raw, dtype=np.uint64).reshape(len(distinct), 4)


def _check_size(size: int, max_bytes: int | None) -> None:
    if size == 0:
        raise EmptyMedia("media is empty (zero bytes)")
    if max_bytes is not None and size > max_bytes:
        raise OversizedMedia(size, max_bytes)


def _hash_stream(
    fh: BinaryIO,
    size: int,
    *,
    seconds_per_frame: float,
    collapse_distance: int,
    max_duration_s: float,
    max_frame_pixels: int,
) -> VideoHash:
    head = fh.read(4096)
    fh.seek(0)
    demuxer = _sniff_container(head)
    if demuxer is None:
        raise UnsupportedMediaFormat(_unsupported_message(head))
    overruns = _container_overruns(fh, size, demuxer)
    fh.seek(0)
    try:
        container = av.open(
            fh,
            mode="r",
            format=demuxer,
            metadata_errors="replace",
            io_open=_refuse_nested_open,
        )
    except av.error.FFmpegError as exc:
        if overruns:
            raise TruncatedVideo(
                f"{demuxer} data ends before its structure does ({_ffmpeg_reason(exc)})", None
            ) from exc
        raise CorruptVideo(f"{demuxer} data cannot be opened ({_ffmpeg_reason(exc)})") from exc
    with container:
        stream = _video_stream(container)
        _check_declared(stream, container, max_duration_s, max_frame_pixels)
        sampler = _Sampler(seconds_per_frame, collapse_distance)
        try:
            for seconds, duration, frame in _timed_frames(stream, container, max_duration_s):
                if frame.width * frame.height > max_frame_pixels:
                    raise VideoFrameTooLarge(frame.width, frame.height, max_frame_pixels)
                sampler.add(seconds, duration, frame)
        except av.error.FFmpegError as exc:
            partial = sampler.result()
            if overruns or _ends_early(stream, container, partial):
                raise TruncatedVideo(
                    f"video data ends early, after {_fmt_seconds(sampler.end_s)} s"
                    f" ({_ffmpeg_reason(exc)})",
                    partial,
                ) from exc
            raise CorruptVideo(
                f"video cannot be decoded after {_fmt_seconds(sampler.end_s)} s"
                f" ({_ffmpeg_reason(exc)})",
                partial,
            ) from exc
        result = sampler.result()
        if result is None:
            raise CorruptVideo("video stream holds no decodable frame")
        if overruns or _ends_early(stream, container, result):
            raise TruncatedVideo(
                f"video data ends at {_fmt_seconds(result.duration_s)} s, before its container"
                " says it does",
                result,
            )
        return result


class _Sampler:
    """Turns decoded frames, in presentation order, into collapsed one-per-interval samples."""

    def __init__(self, seconds_per_frame: float, collapse_distance: int) -> None:
        self._interval = seconds_per_frame
        self._collapse = collapse_distance
        self._next_sample = 0
        # The frame currently on screen and, once computed, its hash and quality.
        self._shown: VideoFrame | None = None
        self._shown_hash: tuple[str, int] | None = None
        self.end_s = 0.0
        # Runs as (first hash, its quality, first sample index, last sample index).
        self._runs: list[tuple[str, int, int, int]] = []

    def add(self, seconds: float, duration: float, frame: VideoFrame) -> None:
        # Every sample instant before this frame's start shows the previous frame.
        if self._shown is not None:
            self._emit_until(seconds)
        self._shown = frame
        self._shown_hash = None
        self.end_s = seconds + duration

    def result(self) -> VideoHash | None:
        if self._shown is None:
            return None
        self._emit_until(self.end_s)
        self._shown = None
        if not self._runs:
            return None
        duration = _round_ms(self.end_s)
        frames = tuple(
            FrameHash(
                hash=h,
                quality=q,
                start_s=_round_ms(first * self._interval),
                end_s=min(duration, _round_ms((last + 1) * self._interval)),
            )
            for h, q, first, last in self._runs
        )
        return VideoHash(frames=frames, duration_s=duration, seconds_per_frame=self._interval)

    def _emit_until(self, seconds: float) -> None:
        # The tolerance keeps a frame stamped exactly on a sample instant (after float rounding)
        # as the one shown at that instant.
        while self._next_sample * self._interval < seconds - 1e-6:
            self._record(self._next_sample, *self._hash_shown())
            self._next_sample += 1

    def _hash_shown(self) -> tuple[str, int]:
        if self._shown_hash is None:
            assert self._shown is not None  # noqa: S101 - only called while a frame is shown.
            result = PDQ.hash_rgb(_upright_rgb(self._shown))
            assert result.quality is not None  # noqa: S101 - PDQ always reports a quality.
            self._shown_hash = (result.hash, result.quality)
        return self._shown_hash

    def _record(self, index: int, hash_hex: str, quality: int) -> None:
        if self._runs:
            first_hash, first_quality, first_index, _ = self._runs[-1]
            # Comparing with the run's first hash, not the previous sample, stops a slow pan
            # from drifting into one endless run.
            if _hamming(first_hash, hash_hex) <= self._collapse:
                self._runs[-1] = (first_hash, first_quality, first_index, index)
                return
        self._runs.append((hash_hex, quality, index, index))


def _timed_frames(
    stream: VideoStream, container: InputContainer, max_duration_s: float
) -> Iterator[tuple[float, float, VideoFrame]]:
    """Decoded frames with their start time and duration in seconds on the video's timeline."""
    origin: float | None = None
    if stream.start_time is not None and stream.time_base is not None:
        origin = float(stream.start_time * stream.time_base)
    nominal = _nominal_interval(stream)
    last = -nominal
    for count, frame in enumerate(container.decode(stream), start=1):
        if frame.time is None:
            # Some containers (old AVI) carry no timestamps; frames then follow at the nominal
            # rate.
            seconds = last + nominal
        else:
            if origin is None:
                origin = frame.time
            # Variable frame rate is followed by timestamp; one that goes backwards is held so
            # the timeline never rewinds.
            seconds = max(frame.time - origin, last, 0.0)
        last = seconds
        if seconds > max_duration_s:
            raise VideoTooLong(seconds, max_duration_s)
        if count > (seconds + 1) * _MAX_FRAME_RATE:
            raise CorruptVideo(
                f"video frame timestamps do not advance (more than {_MAX_FRAME_RATE} frames"
                " per second)"
            )
        yield seconds, _frame_duration(frame) or nominal, frame


def _video_stream(container: InputContainer) -> VideoStream:
    # Cover art in an audio file is a one-picture "video" stream; it is not a video.
    streams = [
        s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
    ]
    if not streams and not container.streams:
        # A container we take with no readable stream at all has a damaged index.
        raise CorruptVideo(f"{container.format.name} data holds no readable stream")
    if not streams:
        raise UnsupportedMediaFormat(f"{container.format.name} file holds no video stream")
    return streams[0]


def _check_declared(
    stream: VideoStream, container: InputContainer, max_duration_s: float, max_pixels: int
) -> None:
    """Refuse, before decoding, what the headers already show to be over the limits."""
    width = stream.codec_context.width
    height = stream.codec_context.height
    if width * height > max_pixels:
        raise VideoFrameTooLarge(width, height, max_pixels)
    declared = _declared_duration(stream, container, any_stream=True)
    if declared is not None and declared > max_duration_s:
        raise VideoTooLong(declared, max_duration_s)


def _declared_duration(
    stream: VideoStream, container: InputContainer, *, any_stream: bool
) -> float | None:
    """The duration the headers give for the video stream, in seconds, when they give one.

    The container's overall duration also covers audio, which may run longer than the picture;
    it stands for the video's only when the video is the sole stream, unless `any_stream`.
    """
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and (any_stream or len(container.streams) == 1):
        return container.duration / av.time_base
    return None


def _ends_early(stream: VideoStream, container: InputContainer, decoded: VideoHash | None) -> bool:
    declared = _declared_duration(stream, container, any_stream=False)
    if declared is None:
        return False
    reached = 0.0 if decoded is None else decoded.duration_s
    return reached + _TRUNCATION_SLACK_S < declared


def _nominal_interval(stream: VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate
    return 1.0 / float(rate) if rate else 1.0 / _FALLBACK_FRAME_RATE


def _frame_duration(frame: VideoFrame) -> float:
    if frame.duration and frame.time_base is not None:
        return float(frame.duration * frame.time_base)
    return 0.0


def _upright_rgb(frame: VideoFrame) -> NDArray[np.uint8]:
    """The frame as an RGB array, turned the way a player shows it.

    Phones record portrait video sideways with a display rotation; a re-encoded copy usually has
    the picture turned upright instead, and both must hash alike.
    """
    # An rgb24 frame is always uint8; `asarray` only tells the type checker so, without a copy.
    rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
    # `rotation` is the display matrix's counter-clockwise angle, which `rot90` turns by.
    quarter_turns = round(frame.rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, quarter_turns)) if quarter_turns else rgb


def _sniff_container(head: bytes) -> str | None:
    """The FFmpeg demuxer for the container the bytes start with, if it is one we take."""
    if head[4:8] in _ISO_BMFF_BOX_TYPES:
        return "mov"
    if head.startswith(_EBML_MAGIC):
        return "matroska"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"FLV\x01"):
        return "flv"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(_ASF_MAGIC):
        return "asf"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg"
    packets = range(0, min(len(head), 3 * _MPEG_TS_PACKET), _MPEG_TS_PACKET)
    if len(head) >= _MPEG_TS_PACKET and all(head[i] == 0x47 for i in packets):
        return "mpegts"
    return None


def _unsupported_message(head: bytes) -> str:
    for signature, name in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return f"this is a {name} image, not a video; hash it as an image"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "this is a WEBP image, not a video; hash it as an image"
    return f"not a video in a supported container ({_SUPPORTED_CONTAINERS})"


def _container_overruns(fh: BinaryIO, size: int, demuxer: str) -> bool:
    """Whether the container's top-level structure declares more bytes than the file holds.

    This tells a cut-off upload from a damaged one for the two containers most uploads use.
    """
    if demuxer == "mov":
        return _iso_bmff_overruns(fh, size)
    if demuxer == "matroska":
        return _matroska_overruns(fh, size)
    return False


def _iso_bmff_overruns(fh: BinaryIO, size: int) -> bool:
    offset = 0
    while offset + 8 <= size:
        fh.seek(offset)
        header = fh.read(16)
        box_size = struct.unpack(">I", header[:4])[0]
        if box_size == 1:
            if len(header) < 16:
                return True
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            # A size of zero means the box runs to the end of the file.
            return False
        # A box that is not a four-character code or is smaller than its own header is damage,
        # not a cut-off; so is everything after it.
        if box_size < 8 or not _is_fourcc(header[4:8]):
            return False
        offset += box_size
    # Ending inside a box, or inside the header of the next one, is a cut-off.
    return offset != size


def _is_fourcc(code: bytes) -> bool:
    return len(code) == 4 and all(0x20 <= c < 0x7F or c == 0xA9 for c in code)


def _matroska_overruns(fh: BinaryIO, size: int) -> bool:
    data = fh.read(64)
    header = _ebml_element(data, 0)
    if header is None:
        return False
    _, header_size, body = header
    segment_at = body + header_size
    segment = _ebml_element(data, segment_at)
    if segment is None or data[segment_at : segment_at + 4] != _MATROSKA_SEGMENT_ID:
        return False
    _, segment_size, segment_body = segment
    # Streamed recordings (a browser's MediaRecorder) leave the size unknown, all ones.
    return segment_size != -1 and segment_body + segment_size > size


def _ebml_element(data: bytes, at: int) -> tuple[int, int, int] | None:
    """An EBML element's (id length, body size or -1 if unknown, body offset) at `at`."""
    id_length = _vint_length(data, at)
    if id_length is None:
        return None
    size_at = at + id_length
    size_length = _vint_length(data, size_at)
    if size_length is None or size_at + size_length > len(data):
        return None
    value = int.from_bytes(data[size_at : size_at + size_length], "big")
    value &= (1 << (7 * size_length)) - 1
    unknown = value == (1 << (7 * size_length)) - 1
    return id_length, -1 if unknown else value, size_at + size_length


def _vint_length(data: bytes, at: int) -> int | None:
    if at >= len(data) or data[at] == 0:
        return None
    return 9 - data[at].bit_length()


def _refuse_nested_open(url: str, flags: int, options: dict[str, Any]) -> None:
    # No container we accept needs a second file; one that asks for it (a QuickTime reference
    # movie, say) is trying to read something other than the upload.
    raise PermissionError(f"media refers to another resource ({url!r}); refused")


def _ffmpeg_reason(exc: av.error.FFmpegError) -> str:
    return exc.strerror or type(exc).__name__


def _hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _round_ms(seconds: float) -> float:
    return round(seconds, 3)


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _parse_seconds(text: str, what: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise InvalidHash(SIGNAL_NAME, text, f"{what} {value!r} is not a number") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidHash(SIGNAL_NAME, text, f"{what} {value!r} is not a time in seconds")
    return _round_ms(seconds)


def _parse_quality(text: str, what: str, value: str) -> int:
    if not value.isdigit() or int(value) > 100:
        raise InvalidHash(SIGNAL_NAME, text, f"{what} quality {value!r} is not 0..100")
    return int(value)


def _parse_pdq(text: str, what: str, value: str) -> str:
    try:
        return PDQ.validate(value)
    except InvalidHash as exc:
        raise InvalidHash(SIGNAL_NAME, text, f"{what}: {exc.problem}") from None
