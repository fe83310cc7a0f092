"""Video hashing: one PDQ hash per second, collapsed runs, vPDQ-style matching, media errors."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pdqhash  # type: ignore[import-untyped]  # pdqhash ships no type information.
import pytest
from numpy.typing import NDArray
from PIL import Image

from safeguard.matching.signal_types import (
    CorruptMedia,
    DecompressionBomb,
    EmptyMedia,
    InvalidHash,
    MediaError,
    OversizedMedia,
    TruncatedMedia,
    UnsupportedMediaFormat,
)
from safeguard.matching.signals import get_signal_type
from safeguard.matching.video import (
    DEFAULT_MATCH_DISTANCE,
    DEFAULT_QUERY_SHARE,
    CorruptVideo,
    FrameHash,
    TruncatedVideo,
    VideoFrameTooLarge,
    VideoHash,
    VideoTooLong,
    hash_video,
    video_match,
)

# --- Generated test videos (never downloaded) ---------------------------------------------------

FPS = 10
WIDTH, HEIGHT = 320, 240
# One scene per second; seconds 3 to 5 hold one still shot (with sensor noise), the rest pan.
SCENES = (1, 2, 3, 4, 4, 4, 5, 6, 7, 8)
STILL_SECONDS = frozenset({3, 4, 5})


def scene(seed: int, width: int = WIDTH, height: int = HEIGHT) -> NDArray[np.uint8]:
    """A benign noise picture with the 1/f spectrum of natural images.

    PDQ keeps the signs of low-frequency DCT coefficients; flat synthetic pictures (checkers,
    plain gradients) leave most of them near zero, where codec noise flips them.
    """
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    falloff = np.hypot(fx, fy)
    falloff[0, 0] = 1.0
    channels = []
    for _ in range(3):
        spectrum = rng.normal(size=(height, width)) + 1j * rng.normal(size=(height, width))
        channels.append(np.real(np.fft.ifft2(spectrum / falloff)))
    picture = np.stack(channels, axis=-1)
    picture = (picture - picture.mean()) / picture.std() * 50 + 128
    return np.asarray(np.clip(picture, 0, 255), dtype=np.uint8)


def timeline(
    scenes: Iterable[int], still: frozenset[int] = frozenset()
) -> Iterator[NDArray[np.uint8]]:
    """FPS frames per second of the given scenes; a moving scene pans two pixels a frame."""
    rng = np.random.default_rng(0)
    for second, seed in enumerate(scenes):
        picture = scene(seed)
        for i in range(FPS):
            if second in still:
                # A camera's noise moves a still shot's hash by a few bits from second to second.
                noisy = picture + rng.normal(0, 3, picture.shape)
                yield np.clip(noisy, 0, 255).astype(np.uint8)
            else:
                # The picture is periodic, so rolling it pans without a seam.
                yield np.roll(picture, 2 * i, axis=1)


def write_video(
    path: Path,
    frames: Iterable[NDArray[np.uint8]],
    *,
    codec: str = "libx264",
    bit_rate: int | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream(codec, rate=FPS)
        assert isinstance(stream, av.VideoStream)
        stream.pix_fmt = "yuv420p"
        if bit_rate is not None:
            stream.bit_rate = bit_rate
        for i, rgb in enumerate(frames):
            if i == 0:
                stream.height, stream.width = rgb.shape[:2]
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def decoded(
    path: Path, *, size: tuple[int, int] | None = None, start_s: float = 0.0, end_s: float = 1e9
) -> Iterator[NDArray[np.uint8]]:
    """The frames of a video as RGB, optionally cut to [start_s, end_s) and rescaled."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and start_s <= frame.time < end_s:
                if size is not None:
                    frame = frame.reformat(width=size[0], height=size[1])
                yield np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    original = write_video(folder / "original.mp4", timeline(SCENES, STILL_SECONDS))
    return {
        "original": original,
        # A copy re-shared through another service: decoded, halved and re-encoded with another
        # codec at a low bitrate.
        "reencoded": write_video(
            folder / "reencoded.webm",
            decoded(original, size=(WIDTH // 2, HEIGHT // 2)),
            codec="libvpx-vp9",
            bit_rate=150_000,
        ),
        "different": write_video(folder / "different.mp4", timeline(range(100, 110))),
        # Seconds 6 to 9 of the original, cut out and re-encoded.
        "clip": write_video(folder / "clip.mp4", decoded(original, start_s=6.0, end_s=10.0)),
        # The same content with the index (moov) at the front, as streaming uploads have it.
        "faststart": write_video(
            folder / "faststart.mp4",
            timeline(SCENES, STILL_SECONDS),
            options={"movflags": "faststart"},
        ),
    }


# --- Sampling and collapsing --------------------------------------------------------------------


def test_one_sample_per_second_and_distinct_scenes_stay_apart(videos: dict[str, Path]) -> None:
    hashed = hash_video(videos["original"], collapse_distance=0)

    assert hashed.duration_s == pytest.approx(10.0)
    assert hashed.seconds_per_frame == 1.0
    # Ten seconds give ten samples; only the exactly repeated still frames can merge at 0 bits.
    assert sum(hashed.samples(f) for f in hashed.frames) == 10
    starts = [f.start_s for f in hashed.frames]
    assert starts[:4] == [0.0, 1.0, 2.0, 3.0]
    assert starts[-4:] == [6.0, 7.0, 8.0, 9.0]


def test_half_second_sampling_doubles_the_samples(videos: dict[str, Path]) -> None:
    hashed = hash_video(videos["original"], seconds_per_frame=0.5, collapse_distance=0)

    assert sum(hashed.samples(f) for f in hashed.frames) == 20
    assert hashed.seconds_per_frame == 0.5


def test_still_segment_collapses_into_its_first_frame(videos: dict[str, Path]) -> None:
    hashed = hash_video(videos["original"])
    exact = hash_video(videos["original"], collapse_distance=0)

    # Seconds 3, 4 and 5 are one picture: one frame covering three seconds, the rest apart.
    assert [f.start_s for f in hashed.frames] == [0.0, 1.0, 2.0, 3.0, 6.0, 7.0, 8.0, 9.0]
    still = hashed.frames[3]
    assert (still.start_s, still.end_s, hashed.samples(still)) == (3.0, 6.0, 3)
    assert hashed.frames[-1].end_s == pytest.approx(10.0)
    # The noise is what the default collapse distance absorbs: at 0 bits the still splits.
    assert len(exact.frames) > len(hashed.frames)


def test_frame_hashes_agree_with_the_pdqhash_reference(videos: dict[str, Path]) -> None:
    hashed = hash_video(videos["original"], collapse_distance=0)
    with av.open(str(videos["original"])) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    bits, quality = pdqhash.compute(first)

    assert hashed.frames[0].hash == np.packbits(bits.astype(np.uint8)).tobytes().hex()
    assert hashed.frames[0].quality == quality


def test_variable_frame_rate_samples_the_frame_on_screen(tmp_path: Path) -> None:
    # Frames at irregular instants (milliseconds); each stays on screen until the next.
    shown = [(0, 1), (400, 2), (1500, 3), (1600, 4), (3900, 5), (4000, 6)]
    path = tmp_path / "vfr.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for pts, seed in shown:
            frame = av.VideoFrame.from_ndarray(scene(seed, 160, 120), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))

    hashed = hash_video(path, collapse_distance=0)
    expected = {seed: hash_video_of_picture(scene(seed, 160, 120)) for _, seed in shown}

    # At 0 s scene 1 shows, at 1 s scene 2 (since 0.4 s), at 2 s and 3 s scene 4 (since 1.6 s),
    # at 4 s scene 6.
    by_start = {f.start_s: f.hash for f in hashed.frames}
    for second, seed in [(0.0, 1), (1.0, 2), (2.0, 4), (4.0, 6)]:
        assert distance(by_start[second], expected[seed]) <= 16, second
    assert 3.0 not in by_start  # Second 3 repeats scene 4 exactly and collapses at 0 bits.


def test_display_rotation_is_applied_before_hashing(tmp_path: Path) -> None:
    # Phones store portrait video sideways with a rotation in the track header; a re-encoded
    # copy has the picture turned upright instead. Both must hash alike.
    pictures = [scene(seed, 160, 120) for seed in (11, 12, 13)]
    sideways = write_video(tmp_path / "sideways.mp4", repeat_seconds(pictures))
    data = bytearray(sideways.read_bytes())
    matrix = data.find(b"tkhd") + 4 + 40
    assert struct.unpack(">9i", data[matrix : matrix + 36])[0] == 0x10000  # Identity, as written.
    data[matrix : matrix + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 1 << 30)
    sideways.write_bytes(bytes(data))
    upright = write_video(
        tmp_path / "upright.mp4", repeat_seconds([np.rot90(p, -1).copy() for p in pictures])
    )

    turned, straight = hash_video(sideways), hash_video(upright)

    assert len(turned.frames) == len(straight.frames) == 3
    for a, b in zip(turned.frames, straight.frames, strict=True):
        assert distance(a.hash, b.hash) <= 16


# --- Matching -----------------------------------------------------------------------------------


# The farthest a frame of the halved, low-bitrate VP9 copy may fall from its original frame.
REENCODED_FRAME_BOUND = 48


def test_reencoded_copy_at_another_size_and_bitrate_matches(videos: dict[str, Path]) -> None:
    original = hash_video(videos["original"])
    reencoded = hash_video(videos["reencoded"])

    result = video_match(reencoded, original, candidate_share=0.8)

    # What the product promises, not one encoder's bits (libvpx's output differs by CPU): the
    # copy matches at the configured shares, and each of its frames stays near the original's
    # (unrelated pictures are about 128 bits apart; most frames fall within the threshold).
    assert result.matched
    assert result.query_matched_share >= DEFAULT_QUERY_SHARE
    assert result.candidate_matched_share >= 0.8
    nearest = sorted(
        min(get_signal_type("pdq").distance(frame.hash, known.hash) for known in original.frames)
        for frame in reencoded.frames
    )
    assert nearest[len(nearest) // 2] <= DEFAULT_MATCH_DISTANCE
    assert nearest[-1] <= REENCODED_FRAME_BOUND


def test_different_video_does_not_match(videos: dict[str, Path]) -> None:
    result = video_match(hash_video(videos["different"]), hash_video(videos["original"]))

    assert not result.matched
    assert result.query_matched_share == 0.0
    assert result.candidate_matched_share == 0.0


def test_clip_matches_by_query_share_but_not_by_candidate_share(videos: dict[str, Path]) -> None:
    clip, original = hash_video(videos["clip"]), hash_video(videos["original"])

    default = video_match(clip, original)
    strict = video_match(clip, original, candidate_share=0.8)

    assert len(clip.frames) == 4
    # All four seconds of the clip are in the original: about 4 of its 8 distinct frames. The
    # clip is re-encoded, so the shares are bounded rather than exact (encoders differ by CPU).
    assert default.matched
    assert default.query_matched_share >= DEFAULT_QUERY_SHARE
    assert 0.375 <= default.candidate_matched_share <= 0.625
    assert not strict.matched
    assert strict.candidate_matched_share < 0.8
    # The other way round, the original's share is what the clip's was.
    assert not video_match(original, clip).matched


def test_shares_count_distinct_good_frames_like_vpdq() -> None:
    a, b, c, d = (random_hex(seed) for seed in range(4))
    query = synthetic([(a, 90), (a, 90), (b, 90), (c, 10)])
    candidate = synthetic([(flip_bits(a, 31), 80), (d, 80)])

    result = video_match(query, candidate)

    # The repeated `a` counts once and the low-quality `c` not at all: 1 of {a, b}.
    assert result.query_matched_share == 0.5
    assert result.candidate_matched_share == 0.5
    assert not result.matched
    assert video_match(query, candidate, query_share=0.5, candidate_share=0.5).matched
    # 32 bits away is beyond the default distance of 31.
    assert video_match(synthetic([(a, 90)]), synthetic([(flip_bits(a, 32), 90)])).matched is False
    assert video_match(
        synthetic([(a, 90)]), synthetic([(flip_bits(a, 32), 90)]), distance=32
    ).matched


def test_video_without_good_frames_never_matches() -> None:
    dark = synthetic([(random_hex(7), 20), (random_hex(8), 49)])

    result = video_match(dark, dark, query_share=0.0, candidate_share=0.0)

    assert not result.matched
    assert (result.query_matched_share, result.candidate_matched_share) == (0.0, 0.0)
    assert video_match(dark, dark, quality_min=20).matched


def test_matching_many_frames_is_chunked_and_correct() -> None:
    rng = np.random.default_rng(3)
    frames = [(bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex(), 90) for _ in range(3000)]
    query = synthetic(frames[:2000])
    candidate = synthetic(frames[1000:])

    result = video_match(query, candidate)

    assert result.query_matched_share == 0.5
    assert result.candidate_matched_share == 0.5


# --- Serialisation ------------------------------------------------------------------------------


def test_text_form_round_trips_and_is_one_line(videos: dict[str, Path]) -> None:
    hashed = hash_video(videos["original"])
    text = hashed.to_text()

    assert "\n" not in text
    assert "," not in text
    assert text.startswith("sgv1;10;1;0:")
    assert VideoHash.from_text(text) == hashed
    assert VideoHash.from_text(text.upper().replace("SGV1", "sgv1")) == hashed


def test_vpdq_json_round_trips(videos: dict[str, Path]) -> None:
    hashed = hash_video(videos["original"])

    assert VideoHash.from_vpdq_json(hashed.to_vpdq_json()) == hashed


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("pdq;10;1;0:90:" + "a" * 64, "start with 'sgv1'"),
        ("sgv1;10;1", "at least one frame"),
        ("sgv1;ten;1;0:90:" + "a" * 64, "duration 'ten' is not a number"),
        ("sgv1;10;0;0:90:" + "a" * 64, "seconds per frame must be positive"),
        ("sgv1;10;1;0:90", "frame 1 is not START:QUALITY:HEX"),
        ("sgv1;10;1;0:101:" + "a" * 64, "frame 1 quality '101' is not 0..100"),
        ("sgv1;10;1;0:90:" + "a" * 63, "frame 1: expected 64 hexadecimal characters"),
        ("sgv1;10;1;2:90:" + "a" * 64 + ";1:90:" + "b" * 64, "frame 2 does not start later"),
        ("sgv1;10;1;10:90:" + "a" * 64, "frame 1 starts after the end"),
    ],
)
def test_malformed_text_form_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(InvalidHash, match="invalid video hash") as caught:
        VideoHash.from_text(text)
    assert problem in caught.value.problem


# --- Media errors: each a MediaError with a clear message, so a batch goes on -------------------


def test_zero_bytes(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")

    with pytest.raises(EmptyMedia, match="zero bytes"):
        hash_video(empty)
    with pytest.raises(EmptyMedia):
        hash_video(b"")


def test_random_bytes_are_not_a_supported_video() -> None:
    noise = bytes(np.random.default_rng(5).integers(0, 256, 20_000, dtype=np.uint8))

    with pytest.raises(UnsupportedMediaFormat, match="not a video in a supported container"):
        hash_video(noise)


def test_image_passed_as_video_is_refused_with_a_hint() -> None:
    buffer = io.BytesIO()
    Image.fromarray(scene(1, 64, 48)).save(buffer, format="PNG")

    with pytest.raises(UnsupportedMediaFormat, match="PNG image, not a video"):
        hash_video(buffer.getvalue())


def test_audio_only_file_holds_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "sound.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), dtype=np.int16), layout="mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))

    with pytest.raises(UnsupportedMediaFormat, match="holds no video stream"):
        hash_video(path)


def test_container_header_with_garbage_is_corrupt() -> None:
    garbage = bytes(np.random.default_rng(6).integers(0, 256, 4000, dtype=np.uint8))
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 512, b"isom", b"mp41")
    data = ftyp + struct.pack(">I4s", 8 + len(garbage), b"moov") + garbage

    with pytest.raises(CorruptVideo, match="holds no readable stream") as caught:
        hash_video(data)
    assert not isinstance(caught.value, TruncatedMedia)
    assert caught.value.partial is None


def test_truncated_with_index_at_the_end_has_nothing_to_hash(videos: dict[str, Path]) -> None:
    data = videos["original"].read_bytes()

    with pytest.raises(TruncatedVideo, match="ends before its structure does") as caught:
        hash_video(data[: len(data) * 6 // 10])
    assert caught.value.code == "truncated"
    assert caught.value.partial is None


@pytest.mark.parametrize("kind", ["faststart", "reencoded"])
def test_truncated_file_is_an_error_that_carries_the_partial_hash(
    videos: dict[str, Path], kind: str
) -> None:
    data = videos[kind].read_bytes()
    complete = hash_video(data)

    with pytest.raises(TruncatedVideo, match="ends") as caught:
        hash_video(data[: len(data) * 6 // 10])

    partial = caught.value.partial
    assert isinstance(caught.value, TruncatedMedia)
    assert partial is not None
    assert 3.0 <= partial.duration_s < 8.0
    # What decoded is the start of the video and still matches it.
    assert video_match(partial, complete).query_matched_share == 1.0


def test_oversized_is_refused_before_decoding(videos: dict[str, Path]) -> None:
    with pytest.raises(OversizedMedia, match="more than the limit of 1000 bytes"):
        hash_video(videos["original"], max_bytes=1000)
    with pytest.raises(OversizedMedia):
        hash_video(videos["original"].read_bytes(), max_bytes=1000)


def test_too_long_is_refused(videos: dict[str, Path]) -> None:
    with pytest.raises(VideoTooLong, match=r"more than the limit of 5\.0 s") as caught:
        hash_video(videos["original"], max_duration_s=5.0)
    assert caught.value.code == "too_long"


def test_too_long_is_caught_while_decoding_when_no_duration_is_declared() -> None:
    # A live recording (a browser's MediaRecorder) is written without seeking back, so its
    # header declares neither a size nor a duration.
    parts: list[bytes] = []

    class Sink:
        def write(self, chunk: bytes) -> int:
            parts.append(bytes(chunk))
            return len(chunk)

    with av.open(Sink(), "w", format="webm") as container:
        stream = container.add_stream("libvpx-vp9", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for rgb in repeat_seconds([scene(seed, 160, 120) for seed in range(6)]):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    live = b"".join(parts)

    assert hash_video(live).duration_s == pytest.approx(6.0)
    with pytest.raises(VideoTooLong, match=r"more than the limit of 3\.0 s"):
        hash_video(live, max_duration_s=3.0)


def test_too_many_pixels_is_a_decompression_bomb(videos: dict[str, Path]) -> None:
    with pytest.raises(VideoFrameTooLarge, match="320x240 = 76800 pixels") as caught:
        hash_video(videos["original"], max_frame_pixels=320 * 200)
    assert isinstance(caught.value, DecompressionBomb)
    assert caught.value.code == "decompression_bomb"


def test_a_batch_of_good_and_bad_files_reports_each(videos: dict[str, Path]) -> None:
    data = videos["original"].read_bytes()
    batch: list[bytes] = [data, b"", b"\x00" * 100, data[:5000], data]
    outcomes: list[str] = []

    for item in batch:
        try:
            outcomes.append(f"ok {len(hash_video(item).frames)}")
        except MediaError as exc:
            outcomes.append(exc.code)

    assert outcomes == ["ok 8", "empty", "unsupported_format", "truncated", "ok 8"]
    assert issubclass(CorruptVideo, CorruptMedia)


# --- Helpers -----------------------------------------------------------------------------------


def repeat_seconds(pictures: list[NDArray[np.uint8]]) -> Iterator[NDArray[np.uint8]]:
    for picture in pictures:
        for _ in range(FPS):
            yield picture


def hash_video_of_picture(picture: NDArray[np.uint8]) -> str:
    bits, _ = pdqhash.compute(picture)
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def random_hex(seed: int) -> str:
    return bytes(np.random.default_rng(seed).integers(0, 256, 32, dtype=np.uint8)).hex()


def flip_bits(hex_hash: str, count: int) -> str:
    return f"{int(hex_hash, 16) ^ ((1 << count) - 1):064x}"


def synthetic(frames: list[tuple[str, int]]) -> VideoHash:
    return VideoHash(
        frames=tuple(
            FrameHash(hash=h, quality=q, start_s=float(i), end_s=float(i + 1))
            for i, (h, q) in enumerate(frames)
        ),
        duration_s=float(len(frames)),
        seconds_per_frame=1.0,
    )
