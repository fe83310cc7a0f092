"""The fast PDQ path gives the pdqhash reference's bits and names bad media like the reference."""

from __future__ import annotations

import io

import numpy as np
import pdqhash  # type: ignore[import-untyped]  # pdqhash ships no type information.
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageOps

from safeguard.matching import pdq_fast
from safeguard.matching.pdq_fast import pdq_hash_fast
from safeguard.matching.signal_types import (
    CorruptMedia,
    DecompressionBomb,
    EmptyMedia,
    TruncatedMedia,
    UnsupportedMediaFormat,
)

# The bench's goal: a hash may differ from the reference's by at most 4 bits; the quality score,
# a truncated sum, by a point or two where float32 sums round differently.
MAX_BITS = 4
MAX_QUALITY_GAP = 2

# The project's conftest adds an autouse function-scoped fixture that these pure tests ignore.
PURE = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


# --- The oracle and generated images (never downloaded) -----------------------------------------


def reference(data: bytes) -> tuple[str, int]:
    """PDQ as Safeguard's reference computes it: Pillow, EXIF orientation, RGB, then pdqhash."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def assert_agrees(data: bytes) -> tuple[str, int]:
    fast_hash, fast_quality = pdq_hash_fast(data)
    ref_hash, ref_quality = reference(data)
    assert len(fast_hash) == 64
    assert distance(fast_hash, ref_hash) <= MAX_BITS, (fast_hash, ref_hash)
    assert abs(fast_quality - ref_quality) <= MAX_QUALITY_GAP, (fast_quality, ref_quality)
    return fast_hash, fast_quality


def photo_like(width: int, height: int, seed: int = 0, contrast: float = 160.0) -> Image.Image:
    """Smooth random blobs, a few shapes and grain: the structure of a photograph, nothing more."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((max(2, height // 40), max(2, width // 40), 3)) * contrast
    base = Image.fromarray(coarse.astype(np.uint8), "RGB").resize(
        (width, height), Image.Resampling.BICUBIC
    )
    draw = ImageDraw.Draw(base)
    for _ in range(4):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = (
            x0 + int(rng.integers(1, width // 2 + 2)),
            y0 + int(rng.integers(1, height // 2 + 2)),
        )
        draw.ellipse((x0, y0, x1, y1), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    grain = rng.normal(0, 4, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(base) + grain, 0, 255).astype(np.uint8), "RGB")


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        params.setdefault("quality", 85)
    image.save(out, format=fmt, **params)
    return out.getvalue()


def with_orientation(image: Image.Image, orientation: int, fmt: str = "JPEG") -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, fmt, exif=exif.tobytes())


def grey_ramp(width: int, height: int) -> NDArray[np.uint8]:
    return np.tile(np.linspace(0, 255, width), (height, 1)).astype(np.uint8)


# --- Agreement with the reference ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (5, 5),
        (6, 9),
        (17, 31),
        (63, 64),
        (64, 64),
        (65, 66),
        (127, 129),
        (333, 517),
        (641, 479),
        (1000, 7),
        (7, 1000),
        (1281, 721),
    ],
)
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_agrees_with_reference_across_sizes(width: int, height: int, fmt: str) -> None:
    assert_agrees(encode(photo_like(width, height, seed=width * height), fmt))


def test_photographs_get_the_reference_bits_exactly() -> None:
    # The contract is "within 4 bits"; on ordinary images the fast path is bit for bit.
    for seed in range(6):
        data = encode(photo_like(800, 600, seed=seed))
        assert pdq_hash_fast(data) == reference(data)


@pytest.mark.parametrize(("width", "height"), [(1, 1), (4, 4), (4, 100), (100, 4), (2, 2000)])
def test_images_too_small_to_hash_give_the_reference_zero_hash(width: int, height: int) -> None:
    data = encode(photo_like(max(width, 2), max(height, 2)).resize((width, height)), "PNG")
    assert pdq_hash_fast(data) == ("0" * 64, 0) == reference(data)


def test_two_colour_images_agree() -> None:
    board = Image.new("RGB", (240, 160), (250, 240, 10))
    draw = ImageDraw.Draw(board)
    for i in range(0, 240, 30):
        for j in range(0, 160, 30):
            if (i + j) // 30 % 2:
                draw.rectangle((i, j, i + 29, j + 29), fill=(10, 10, 90))
    disk = Image.new("RGB", (200, 150), (200, 30, 30))
    ImageDraw.Draw(disk).ellipse((50, 30, 150, 120), fill=(20, 40, 220))
    for image in (board, disk):
        for fmt in ("PNG", "JPEG"):
            assert_agrees(encode(image, fmt))


def flat_image(kind: str) -> Image.Image:
    if kind == "one colour":
        return Image.new("RGB", (200, 150), (128, 128, 128))
    if kind == "horizontal ramp":
        return Image.fromarray(grey_ramp(200, 150)).convert("RGB")
    if kind == "vertical ramp":
        return Image.fromarray(np.ascontiguousarray(grey_ramp(150, 200).T)).convert("RGB")
    halves = Image.new("RGB", (200, 150), (200, 30, 30))
    ImageDraw.Draw(halves).rectangle((100, 0, 199, 149), fill=(20, 40, 220))
    return halves


@pytest.mark.parametrize("kind", ["one colour", "horizontal ramp", "vertical ramp", "two halves"])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_flat_and_one_dimensional_images_take_the_references_rounding(kind: str, fmt: str) -> None:
    # Every coefficient of such an image is nearly zero, so its bits are decided by float32
    # rounding; independent arithmetic would differ by about 100 bits.
    data = encode(flat_image(kind), fmt)
    assert pdq_hash_fast(data) == reference(data)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_the_reference(orientation: int) -> None:
    stored = photo_like(320, 200, seed=orientation)
    data = with_orientation(stored, orientation)
    fast_hash, _ = assert_agrees(data)
    unoriented_hash, _ = pdq_hash_fast(encode(stored))
    if orientation == 1:
        assert fast_hash == unoriented_hash
    else:
        # PDQ is not invariant to rotations and flips: ignoring the tag would miss the match.
        assert distance(fast_hash, unoriented_hash) > 31


def test_exif_orientation_in_a_png_is_applied() -> None:
    assert_agrees(with_orientation(photo_like(300, 180, seed=3), 6, "PNG"))


def test_png_with_alpha_drops_alpha_like_the_reference() -> None:
    rgba = photo_like(300, 200, seed=5).convert("RGBA")
    alpha = Image.fromarray(grey_ramp(300, 200))
    rgba.putalpha(alpha)
    assert_agrees(encode(rgba, "PNG"))
    assert_agrees(encode(rgba.convert("LA"), "PNG"))


@pytest.mark.parametrize("mode", ["L", "P", "I;16", "CMYK"])
def test_other_modes_agree(mode: str) -> None:
    image = photo_like(300, 220, seed=7)
    if mode == "I;16":
        grey = np.asarray(image.convert("L")).astype(np.uint16) * 200
        converted = Image.fromarray(grey)
        assert converted.mode == "I;16"
    else:
        converted = image.convert(mode)
    fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"
    assert_agrees(encode(converted, fmt))


def test_grey_jpeg_agrees() -> None:
    assert_agrees(encode(photo_like(640, 360, seed=11).convert("L")))


@pytest.mark.parametrize("contrast", [6.0, 20.0, 60.0])
def test_quality_agrees_on_dim_images(contrast: float) -> None:
    _, quality = assert_agrees(encode(photo_like(400, 300, seed=13, contrast=contrast)))
    # Dim images are where the quality score matters: a bank refuses entries below 50.
    assert quality < 100


@PURE
@given(
    width=st.integers(5, 90),
    height=st.integers(5, 90),
    seed=st.integers(0, 2**32 - 1),
    fmt=st.sampled_from(["PNG", "JPEG"]),
)
def test_random_noise_images_agree(width: int, height: int, seed: int, fmt: str) -> None:
    noise = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    assert_agrees(encode(Image.fromarray(noise, "RGB"), fmt))


# --- The blur weights against a literal port of the reference's filter ------------------------


def reference_blur_and_decimate(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """pdq/cpp downscaling: box1DFloat twice, then decimateFloat, along one axis."""
    length = len(values)
    window = (length + 127) // 128
    half = (window + 2) // 2
    for _ in range(2):
        out = np.empty(length)
        total, count, right, left = 0.0, 0, 0, 0
        for _ in range(half - 1):
            total, count, right = total + values[right], count + 1, right + 1
        for i in range(window - half + 1):
            total, count, right = total + values[right], count + 1, right + 1
            out[i] = total / count
        for i in range(window - half + 1, length - half + 1):
            total += values[right] - values[left]
            right, left = right + 1, left + 1
            out[i] = total / count
        for i in range(length - half + 1, length):
            total, count, left = total - values[left], count - 1, left + 1
            out[i] = total / count
        values = out
    decimated: NDArray[np.float64] = values[((np.arange(64) + 0.5) * length / 64).astype(int)]
    return decimated


@pytest.mark.parametrize("length", [1, 2, 5, 63, 64, 65, 127, 128, 129, 200, 255, 256, 257, 1000])
@pytest.mark.parametrize("flip", [False, True])
def test_axis_weights_are_the_reference_blur(length: int, flip: bool) -> None:
    values = np.random.default_rng(length).random(length) * 255
    weights = pdq_fast._axis_weights(length, flip)
    expected = reference_blur_and_decimate(values[::-1] if flip else values)
    assert np.allclose(weights.dense @ values, expected, rtol=1e-5, atol=1e-3)
    banded = [
        weights.band[r] @ values[start : start + weights.band.shape[1]]
        for r, start in enumerate(weights.start)
    ]
    assert np.allclose(banded, expected, rtol=1e-5, atol=1e-3)


# --- Bad media ---------------------------------------------------------------------------------


def test_zero_bytes_is_empty_media() -> None:
    with pytest.raises(EmptyMedia, match="empty"):
        pdq_hash_fast(b"")


def test_not_an_image_is_unsupported() -> None:
    with pytest.raises(UnsupportedMediaFormat, match="not an image"):
        pdq_hash_fast(b"%PDF-1.7 plain text, not pixels" * 10)


def test_truncated_jpeg_says_so() -> None:
    data = encode(photo_like(320, 240, seed=17))
    with pytest.raises(TruncatedMedia, match="ends before the image does"):
        pdq_hash_fast(data[: len(data) // 2])


def test_corrupt_jpeg_is_corrupt_media() -> None:
    data = bytearray(encode(photo_like(320, 240, seed=19)))
    # Garbage in place of the frame header, keeping the JPEG signature and end marker.
    data[4:400] = bytes(396)
    with pytest.raises(CorruptMedia):
        pdq_hash_fast(bytes(data))


def test_more_pixels_than_allowed_is_a_decompression_bomb() -> None:
    data = encode(photo_like(200, 100, seed=23))
    with pytest.raises(DecompressionBomb):
        pdq_hash_fast(data, max_pixels=200 * 100 - 1)
    assert pdq_hash_fast(data, max_pixels=200 * 100) == reference(data)
