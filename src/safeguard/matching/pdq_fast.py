"""Fast PDQ hashing of image bytes that keeps the pdqhash reference's bits.

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

__all__ = ["pdq_hash_fast", "pdq_hash_image"]

# How PDQ works, and what this module changes about it
# ----------------------------------------------------
# The reference (pdqhash, from facebook/ThreatExchange pdq/cpp) takes the luma of the RGB pixels,
# blurs it with two passes of a horizontal and a vertical box filter (the "Jarosz" tent), keeps
# 64x64 of the blurred pixels, takes the 16x16 lowest non-constant frequencies of their DCT and
# sets the bits above the median. Blur and decimation are linear and separable, so the 64x64 grid
# is `A @ luma @ B.T` for two fixed 64-row matrices that depend only on the image's size: three
# matrix products replace four passes over every pixel, and nothing is rounded that the
# reference does not round.
#
# Decoding the JPEG costs more than all the rest. libjpeg can decode at 1/2, 1/4 or 1/8 scale in
# the DCT domain, and its reduced output is the average of each 2x2 (4x4, 8x8) block of the full
# decode. Hashing that small image with pdqhash moves 4-15 bits, because pdqhash then blurs with
# windows made for the small size. Here the full-size weights are instead folded onto the reduced
# pixels, block by block, so that the smooth content of each 8x8 JPEG block (its four lowest
# frequencies per axis) is weighted exactly as at full size. What remains is the rounding of the
# reduced pixels to 8 bits: on generated photographic-like JPEGs the hash then differs from the
# reference's by 0.2-0.3 bits on average and at most 2 (bench/hashing.py measures it).

_GRID: Final = 64
# The reference hashes images smaller than this to all zero bits with quality 0.
_MIN_HASHABLE_DIM: Final = 5
_ZERO_HASH: Final = "0" * 64
_JPEG_BLOCK: Final = 8
# A reduced decode is used only while each box-filter window still spans at least this many
# reduced pixels. Measured on generated JPEGs (mean distance to the reference): 3 reduced pixels
# per window gives 0.2-0.3 bits, 1.5-2.5 gives about 1 bit.
_MIN_REDUCED_PIXELS_PER_WINDOW: Final = 3
_REDUCED_SCALES: Final = (8, 4, 2)

# EXIF orientation -> (reverse the stored rows, reverse the stored columns, transpose), the same
# transforms as `ImageOps.exif_transpose`, which the reference applies before hashing.
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


def _dct_matrix() -> NDArray[np.float32]:
    # The reference's 16x64 DCT-II rows 1..16 (row 0, the mean, never enters the hash).
    i = np.arange(1, 17, dtype=np.float64)[:, None]
    j = np.arange(_GRID, dtype=np.float64)[None, :]
    scale = np.sqrt(2.0 / _GRID)
    return (scale * np.cos(np.pi / 2.0 / _GRID * i * (2.0 * j + 1.0))).astype(np.float32)


_DCT: Final = _dct_matrix()


@dataclass(frozen=True, slots=True)
class _Decoded:
    """Luma of the stored (not yet oriented) pixels, possibly decoded at 1/scale of full size."""

    luma: NDArray[np.float32]
    width: int
    height: int
    scale: int
    orientation: tuple[bool, bool, bool]


def pdq_hash_fast(data: bytes) -> tuple[str, int]:
    """PDQ hash (64 hex characters) and quality (0..100) of image bytes.

    Raises the `signal_types.MediaError` subclasses that the reference path raises for empty,
    unsupported, corrupt, truncated and decompression-bomb media.
    """
    if not data:
        raise signal_types.EmptyMedia("media is empty (zero bytes)")
    # The reference's signature sniffing and truncation test, so both paths name the same error.
    fmt = signal_types._sniff_image_format(data)
    limit = Image.MAX_IMAGE_PIXELS
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
            decoded = _decode(image)
        except Image.DecompressionBombError as exc:
            raise signal_types.DecompressionBomb(pixels, limit) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _decode_error(image.format or fmt or "image", data, exc) from exc
    return _hash_decoded(decoded)


def pdq_hash_image(image: Image.Image) -> tuple[str, int]:
    """PDQ hash and quality of an opened Pillow image whose pixels are not loaded yet.

    Loading is left to this function so that a JPEG can be decoded at reduced scale. Pillow's
    decoding errors (`OSError` and the like) propagate unchanged for the caller to classify.
    """
    return _hash_decoded(_decode(image))


def _decode(image: Image.Image) -> _Decoded:
    width, height = image.size
    scale = _draft(image, width, height)
    image.load()
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    if image.mode not in ("RGB", "L"):
        # The reference converts to RGB first: alpha is dropped, palettes and 16-bit grey are
        # mapped the way Pillow maps them.
        image = image.convert("RGB")
    # Pillow's RGB -> F conversion computes (299 R + 587 G + 114 B) / 1000 in C, the reference's
    # luma to float32 precision.
    luma = np.asarray(image.convert("F"), dtype=np.float32)
    return _Decoded(luma, width, height, scale, _ORIENTATIONS.get(orientation, _UPRIGHT))


def _draft(image: Image.Image, width: int, height: int) -> int:
    """Ask the JPEG decoder for a reduced-scale decode where it keeps the hash; the scale used."""
    # CMYK is converted to RGB non-linearly, so averaging before conversion would change it.
    if image.mode not in ("RGB", "L"):
        return 1
    narrowest = min(_window(width), _window(height))
    wanted = next(
        (s for s in _REDUCED_SCALES if narrowest >= _MIN_REDUCED_PIXELS_PER_WINDOW * s), 1
    )
    if wanted == 1:
        return 1
    # Only Pillow's JPEG plugin implements `draft`; other formats return None and decode fully.
    drafted = image.draft(image.mode, (width // wanted, height // wanted))
    if drafted is None:
        return 1
    return round(width / drafted[1][2])


def _hash_decoded(decoded: _Decoded) -> tuple[str, int]:
    if min(decoded.width, decoded.height) < _MIN_HASHABLE_DIM:
        return _ZERO_HASH, 0
    flip_rows, flip_cols, transposed = decoded.orientation
    rows = _axis_weights(decoded.height, decoded.scale, flip_rows)
    cols = _axis_weights(decoded.width, decoded.scale, flip_cols)
    grid = (rows @ decoded.luma) @ cols.T
    if transposed:
        grid = grid.T
    return _hash_grid(np.ascontiguousarray(grid, dtype=np.float32))


def _hash_grid(grid: NDArray[np.float32]) -> tuple[str, int]:
    """Bits and quality from the 64x64 blurred and decimated luma, as the reference computes them."""
    # Quality: the sum of truncated, scaled neighbour differences, in float32 as in C++.
    hundred, full = np.float32(100), np.float32(255)
    down = ((grid[:-1, :] - grid[1:, :]) * hundred / full).astype(np.int32)
    across = ((grid[:, :-1] - grid[:, 1:]) * hundred / full).astype(np.int32)
    gradient_sum = int(np.abs(down).sum()) + int(np.abs(across).sum())
    quality = min(gradient_sum // 90, 100)
    coefficients = (_DCT @ grid @ _DCT.T).ravel()
    # Torben's median of 256 values, as the reference uses it, is the 128th smallest.
    median = np.partition(coefficients, 127)[127]
    # Bit k (row-major over the 16x16 coefficients) has weight 2**k in the hex form.
    bits = coefficients > median
    return np.packbits(bits[::-1]).tobytes().hex(), quality


def _window(length: int) -> int:
    # The reference's box window: half of a decimated cell, rounded up (two passes make a tent).
    return (length + 2 * _GRID - 1) // (2 * _GRID)


@functools.lru_cache(maxsize=64)
def _tent_weights(length: int) -> NDArray[np.float64]:
    """(64, length) weights: the reference's two box passes along one axis, then decimation."""
    window = _window(length)
    # One box pass: output i averages inputs [low[i], high[i]), narrower at the edges, exactly
    # as the reference's four-phase running sum does.
    half = (window + 2) // 2
    position = np.arange(length)
    low = np.maximum(position - (window - half), 0)
    high = np.minimum(position + half, length)
    inverse = 1.0 / (high - low)
    # Decimation keeps the blurred value at the centre of each of the 64 cells.
    centres = ((np.arange(_GRID) + 0.5) * length / _GRID).astype(np.int64)
    # The second pass spreads each centre over the first pass's outputs k in [low, high); each
    # of those spreads uniformly over [low[k], high[k]). Summing the uniform spreads through a
    # difference array keeps this O(64 * window) instead of O(length**2).
    offsets = np.arange(window)
    k = low[centres][:, None] + offsets[None, :]
    inside = k < high[centres][:, None]
    k = np.where(inside, k, 0)
    value = np.where(inside, inverse[centres][:, None] * inverse[k], 0.0)
    row = np.broadcast_to(np.arange(_GRID)[:, None], k.shape)
    diff = np.zeros((_GRID, length + 1))
    np.add.at(diff, (row, low[k]), value)
    np.add.at(diff, (row, high[k]), -value)
    weights: NDArray[np.float64] = np.cumsum(diff, axis=1)[:, :length]
    return weights


@functools.lru_cache(maxsize=8)
def _block_fold(scale: int) -> NDArray[np.float64]:
    """(8/scale, 8) map from full-size weights on one JPEG block to weights on its reduced pixels.

    A reduced pixel is the mean of `scale` full-size pixels. Requiring the folded weights to give
    the same weighted sum for each of the block's 8/scale lowest cosine frequencies fixes them:
    smooth content is weighted as at full size, and only the block's highest frequencies, which
    the tent filter nearly removes, are weighted differently.
    """
    per = _JPEG_BLOCK // scale
    x = np.arange(_JPEG_BLOCK, dtype=np.float64)[:, None]
    frequency = np.arange(per, dtype=np.float64)[None, :]
    basis = np.cos((2.0 * x + 1.0) * frequency * np.pi / (2 * _JPEG_BLOCK))
    reduced = basis.reshape(per, scale, per).mean(axis=1)
    fold: NDArray[np.float64] = np.linalg.solve(reduced.T, basis.T)
    return fold


@functools.lru_cache(maxsize=64)
def _axis_weights(length: int, scale: int, flip: bool) -> NDArray[np.float32]:
    """Weights over one stored axis of `length` full-size pixels, decoded at 1/scale."""
    weights = _tent_weights(length)
    if flip:
        weights = weights[:, ::-1]
    if scale > 1:
        reduced = -(-length // scale)
        blocks = length // _JPEG_BLOCK
        per = _JPEG_BLOCK // scale
        folded = np.zeros((_GRID, reduced))
        whole = weights[:, : blocks * _JPEG_BLOCK].reshape(_GRID, blocks, _JPEG_BLOCK)
        folded[:, : blocks * per] = (whole @ _block_fold(scale).T).reshape(_GRID, blocks * per)
        # A partial last block has fewer reduced pixels than frequencies to match; plain sums of
        # the weights it covers are the next best thing, and the tent makes it matter little.
        tail = weights[:, blocks * _JPEG_BLOCK :]
        if tail.shape[1]:
            padded = np.zeros((_GRID, (reduced - blocks * per) * scale))
            padded[:, : tail.shape[1]] = tail
            folded[:, blocks * per :] = padded.reshape(_GRID, -1, scale).sum(axis=2)
        weights = folded
    result = np.ascontiguousarray(weights, dtype=np.float32)
    # Cached and shared between calls: nobody may change it.
    result.flags.writeable = False
    return result


def _decode_error(fmt: str, data: bytes, exc: Exception) -> signal_types.CorruptMedia:
    if signal_types._looks_truncated(fmt, data, exc):
        return signal_types.TruncatedMedia(f"{fmt} data ends before the image does ({exc})")
    return signal_types.CorruptMedia(f"{fmt} data cannot be decoded ({exc})")
