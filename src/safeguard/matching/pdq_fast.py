"""PDQ hashing of image bytes, several times faster per core than Pillow + pdqhash, same bits.

Pure module (no Django import); `signal_types` keeps the reference path and the media errors.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from PIL import ExifTags, Image, UnidentifiedImageError

# Imported as a module, not by name: `signal_types` may import this module for its fast path, and
# the names are only looked up when a call raises, after both modules have finished loading.
from safeguard.matching import signal_types

__all__ = ["pdq_hash_fast"]

# The reference (pdqhash, built from facebook/ThreatExchange pdq/cpp) takes the luma of the RGB
# pixels in float64, blurs it in float32 with two passes of a horizontal and a vertical box filter
# (the "Jarosz" tent), keeps 64x64 of the blurred pixels, takes the 16x16 lowest non-constant
# frequencies of their DCT and sets the bits above the median. Blur and decimation are linear and
# separable: the 64x64 grid is `rows @ luma @ cols.T` for two matrices of weights that depend
# only on the image's size, and each row of `rows` is a band about two box windows wide. So the
# work here is one decode, one conversion to luma in C (Pillow), 64 small products that read the
# luma once, and the small DCT, instead of four float passes over every pixel and RGB copies.
#
# Nothing is approximated beyond the order of float32 additions, so the bits are the reference's
# wherever rounding does not decide them. Where it does (one colour, a stripe, a linear gradient:
# images whose coefficients are all nearly zero), the reference computes the hash itself.
# Decoding at reduced scale (JPEG DCT scaling) or straight to luma was measured and rejected: it
# moves bits (see bench/README.md).

_GRID: Final = 64
# Below about this many pixels one dense product beats 64 banded ones, whose calls then cost
# more than their arithmetic (measured crossover: about 50,000 pixels).
_DENSE_MAX_PIXELS: Final = 256 * 192
# The reference hashes images smaller than this to all zero bits with quality 0.
_MIN_HASHABLE_DIM: Final = 5

# EXIF orientation -> (reverse the stored rows, reverse the stored columns, transpose): the same
# transforms as `ImageOps.exif_transpose`, which the reference applies before hashing. They are
# applied to the weights, which is cheaper than moving the pixels.
_ORIENTATIONS: Final[dict[int, tuple[bool, bool, bool]]] = {
    2: (False, True, False),  # FLIP_LEFT_RIGHT
    3: (True, True, False),  # ROTATE_180
    4: (True, False, False),  # FLIP_TOP_BOTTOM
    5: (False, False, True),  # TRANSPOSE
    6: (True, False, True),  # ROTATE_270
    7: (True, True, True),  # TRANSVERSE
    8: (False, True, True),  # ROTATE_90
}
_UPRIGHT: Final = (False, False, False)

# Two float32 computations of the same coefficient that add in different orders (the reference's
# running sums, the products here) differ by up to about 0.01: measured against
# `pdqhash.compute_float` on generated JPEGs up to 4032x3024, typically 0.001. A coefficient that
# close to the median has its bit decided by rounding.
_ROUNDING: Final = 0.01
# The bench's goal allows 4 bits of difference. With more bits than that left to rounding, the
# reference computes the hash: always for a flat or one-dimensional image, whose coefficients are
# all nearly zero, and for about 1 in 40 of the bench's dim images; never for its default ones.
_MAX_ROUNDING_BITS: Final = 4


def _dct_matrix() -> NDArray[np.float32]:
    # The reference's 16x64 DCT-II rows 1..16 (row 0, the mean, never enters the hash).
    i = np.arange(1, 17, dtype=np.float64)[:, None]
    j = np.arange(_GRID, dtype=np.float64)[None, :]
    scale = np.sqrt(2.0 / _GRID)
    matrix: NDArray[np.float32] = (
        scale * np.cos(np.pi / 2.0 / _GRID * i * (2.0 * j + 1.0))
    ).astype(np.float32)
    return matrix


_DCT: Final = _dct_matrix()


@signal_types._decoding_checked_here()
def pdq_hash_fast(data: bytes, *, max_pixels: int | None = None) -> tuple[str, int]:
    """PDQ hash (64 hex characters) and quality (0..100) of image bytes, as the reference has them.

    The reference is `signal_types.PDQ.hash_image`: EXIF orientation applied, RGB conversion,
    then pdqhash. `max_pixels` defaults to Pillow's `Image.MAX_IMAGE_PIXELS`. Raises the
    `signal_types.MediaError` subclasses that `PDQ.hash_bytes` raises for empty, unsupported,
    corrupt, truncated and decompression-bomb media.
    """
    if not data:
        raise signal_types.EmptyMedia("media is empty (zero bytes)")
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    # The reference's signature sniffing and truncation test, so both paths name the same error.
    fmt = signal_types._sniff_image_format(data)
    try:
        image = Image.open(io.BytesIO(data), formats=signal_types._PDQ_FORMATS)
    except Image.DecompressionBombError as exc:
        raise signal_types.DecompressionBomb(None, limit) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if fmt is None:
            supported = ", ".join(signal_types._PDQ_FORMATS)
            raise signal_types.UnsupportedMediaFormat(
                f"not an image in a supported format ({supported})"
            ) from exc
        raise _decode_error(fmt, data, exc) from exc
    with image:
        pixels = image.width * image.height
        if limit is not None and pixels > limit:
            raise signal_types.DecompressionBomb(pixels, limit)
        try:
            luma, orientation = _luma(image)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _decode_error(image.format or fmt or "image", data, exc) from exc
        if min(luma.shape) < _MIN_HASHABLE_DIM:
            # The reference's hash of an image too small to hash.
            return "0" * 64, 0
        coefficients, quality = _coefficients(luma, orientation)
        median = np.partition(coefficients, 127)[127]
        near = np.count_nonzero(np.abs(coefficients - median) < _ROUNDING) - 1
        if near > _MAX_ROUNDING_BITS:
            # Too many bits are decided by float32 rounding, which only the reference's own
            # arithmetic reproduces. A flat or one-dimensional image (one colour, a stripe, a
            # linear gradient) always lands here: all its coefficients are nearly zero.
            reference = signal_types.PDQ.hash_image(image)
            # PDQ always has a quality; 0 would only stand in for a missing one.
            return reference.hash, reference.quality or 0
    # Bit k (row-major over the 16x16 coefficients) has weight 2**k in the hex form.
    bits = coefficients > median
    return np.packbits(bits[::-1]).tobytes().hex(), quality


def _luma(image: Image.Image) -> tuple[NDArray[np.float32], tuple[bool, bool, bool]]:
    """Luma of the stored (not yet oriented) pixels, and how to orient them."""
    image.load()
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    rgb_or_grey = image if image.mode in ("RGB", "L") else image.convert("RGB")
    # Pillow's RGB -> F conversion computes (299 R + 587 G + 114 B) / 1000 in C: the reference's
    # float64 luma rounded to float32, which is what pdqhash blurs. Grey ("L") converts to its
    # own value, as R = G = B does in the reference.
    luma = np.asarray(rgb_or_grey.convert("F"), dtype=np.float32)
    return luma, _ORIENTATIONS.get(orientation, _UPRIGHT)


def _coefficients(
    luma: NDArray[np.float32], orientation: tuple[bool, bool, bool]
) -> tuple[NDArray[np.float32], int]:
    """The 256 DCT coefficients whose signs about their median are the hash, and the quality."""
    height, width = luma.shape
    flip_rows, flip_cols, transposed = orientation
    rows = _axis_weights(height, flip_rows)
    cols = _axis_weights(width, flip_cols)
    blurred = np.empty((_GRID, width), np.float32)
    if height * width <= _DENSE_MAX_PIXELS:
        np.matmul(rows.dense, luma, out=blurred)
    else:
        # Each of the 64 grid rows needs only a band of luma rows; one product per band reads
        # the image once, where a dense (64 x height) product does 64 multiply-adds per pixel.
        band = rows.band.shape[1]
        for r, start in enumerate(rows.start):
            np.matmul(rows.band[r], luma[start : start + band], out=blurred[r])
    grid = np.ascontiguousarray(
        (blurred @ cols.dense.T).T if transposed else blurred @ cols.dense.T
    )
    # Quality: the sum of truncated, scaled neighbour differences, in float32 as in C++.
    hundred, full_scale = np.float32(100), np.float32(255)
    down = ((grid[:-1, :] - grid[1:, :]) * hundred / full_scale).astype(np.int32)
    across = ((grid[:, :-1] - grid[:, 1:]) * hundred / full_scale).astype(np.int32)
    gradient_sum = int(np.abs(down).sum()) + int(np.abs(across).sum())
    coefficients: NDArray[np.float32] = (_DCT @ grid @ _DCT.T).ravel()
    return coefficients, min(gradient_sum // 90, 100)


def _window(length: int) -> int:
    # The reference's box window: half of a decimated cell, rounded up (two passes make a tent).
    return (length + 2 * _GRID - 1) // (2 * _GRID)


@dataclass(frozen=True, slots=True)
class _AxisWeights:
    """The 64 weight rows over one axis, dense and as bands of consecutive pixels."""

    dense: NDArray[np.float32]  # (64, length)
    band: NDArray[np.float32]  # (64, width): row r's weights on pixels start[r] onwards
    start: tuple[int, ...]


@functools.lru_cache(maxsize=128)
def _axis_weights(length: int, flip: bool) -> _AxisWeights:
    """The reference's two box passes along one axis, then decimation, as 64 rows of weights.

    `flip` reverses the axis, for an EXIF orientation that mirrors it.
    """
    window = _window(length)
    half = (window + 2) // 2

    # One box pass: output i averages inputs [low(i), high(i)), narrower at the edges, exactly
    # as the reference's four-phase running sum does.
    def low(i: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.maximum(i - (window - half), 0)

    def high(i: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.minimum(i + half, length)

    # Decimation keeps the blurred value at the centre of each of the 64 cells; the second pass
    # averages the first pass's outputs k around it, each an average of inputs around k.
    centres = ((np.arange(_GRID) + 0.5) * length / _GRID).astype(np.int64)
    k = low(centres)[:, None] + np.arange(window)[None, :]
    share = np.where(k < high(centres)[:, None], 1.0 / (high(centres) - low(centres))[:, None], 0)
    share = share / (high(k) - low(k))
    # A centre's weights cover at most 2 * window - 1 consecutive inputs.
    width = min(2 * window, length)
    start = np.clip(low(low(centres)), 0, length - width)
    pixel = start[:, None] + np.arange(width)[None, :]
    covers = (low(k)[:, :, None] <= pixel[:, None, :]) & (pixel[:, None, :] < high(k)[:, :, None])
    band = (share[:, :, None] * covers).sum(axis=1)
    dense = np.zeros((_GRID, length))
    np.put_along_axis(dense, pixel, band, axis=1)
    if flip:
        start, band, dense = length - width - start, band[:, ::-1], dense[:, ::-1]
    weights = _AxisWeights(
        np.ascontiguousarray(dense, dtype=np.float32),
        np.ascontiguousarray(band, dtype=np.float32),
        tuple(int(s) for s in start),
    )
    # Cached and shared between calls: nobody may change them.
    weights.dense.flags.writeable = False
    weights.band.flags.writeable = False
    return weights


def _decode_error(fmt: str, data: bytes, exc: Exception) -> signal_types.CorruptMedia:
    if signal_types._looks_truncated(fmt, data, exc):
        return signal_types.TruncatedMedia(f"{fmt} data ends before the image does ({exc})")
    return signal_types.CorruptMedia(f"{fmt} data cannot be decoded ({exc})")
