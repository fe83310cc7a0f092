"""Hash algorithms behind one small interface: validate a hash, hash media, compare two hashes.

Pure module (no Django import) so hashing can be tested and benchmarked alone.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import os
import string
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

import numpy as np

# pdqhash ships no type information; its `compute` returns (bits, quality).
import pdqhash
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from safeguard.core.errors import Invalid

__all__ = [
    "DEFAULT_MAX_BYTES",
    "EXACT_MISMATCH_DISTANCE",
    "MD5",
    "PDQ",
    "SHA256",
    "CorruptMedia",
    "DecompressionBomb",
    "EmptyMedia",
    "HashResult",
    "IndexKind",
    "InvalidHash",
    "MD5Signal",
    "MediaError",
    "MediaKind",
    "OversizedMedia",
    "PDQSignal",
    "SHA256Signal",
    "SignalType",
    "TruncatedMedia",
    "UnknownSignalType",
    "UnsupportedMediaFormat",
]

# Media larger than this is refused before any decoding; callers pass their own limit.
DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024

# Exact hashes have no notion of "nearly equal"; a mismatch reports a distance larger than any
# threshold a bank could be configured with, so threshold comparisons stay uniform.
EXACT_MISMATCH_DISTANCE: Final = 2**31 - 1

_HEX_DIGITS: Final = frozenset(string.hexdigits)


class MediaKind(enum.StrEnum):
    """What kind of media a signal type can hash."""

    IMAGE = "image"
    VIDEO = "video"
    ANY = "any"


class IndexKind(enum.StrEnum):
    """Which index structure serves a signal type's bank entries."""

    # Exact lookup of the normalised hash string (MD5, SHA-256).
    EXACT = "exact"
    # Hamming-radius search over 256-bit hashes (PDQ); see `safeguard.matching.index`.
    HAMMING_256 = "hamming-256"
    # Frame-set comparison against each bank video (video); banks hold few videos.
    FRAME_SET = "frame-set"


class InvalidHash(ValueError):
    """A hash string that is not a valid hash of its signal type."""

    def __init__(self, signal_type: str, value: str, problem: str) -> None:
        self.signal_type = signal_type
        self.value = value
        self.problem = problem
        super().__init__(f"invalid {signal_type} hash: {problem}")


class UnknownSignalType(LookupError):
    """A signal type name that no implementation answers to."""

    def __init__(self, name: str, known: Iterable[str] = ()) -> None:
        self.name = name
        super().__init__(f"unknown signal type {name!r}; known: {', '.join(sorted(known))}")


class MediaError(Invalid):
    """Media that cannot be hashed; the message says why, for a per-file error report."""

    code: ClassVar[str] = "media_error"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class EmptyMedia(MediaError):
    """Zero-byte media."""

    code = "empty"


class OversizedMedia(MediaError):
    """Media larger than the caller's byte limit; refused before decoding."""

    code = "oversized"

    def __init__(self, size: int, max_bytes: int) -> None:
        self.size = size
        self.max_bytes = max_bytes
        super().__init__(f"media is {size} bytes, more than the limit of {max_bytes} bytes")


class UnsupportedMediaFormat(MediaError):
    """Bytes that are not in a format this signal type hashes."""

    code = "unsupported_format"


class CorruptMedia(MediaError):
    """Bytes in a supported format whose contents cannot be decoded."""

    code = "corrupt"


class TruncatedMedia(CorruptMedia):
    """Bytes in a supported format that end before the image does."""

    code = "truncated"


class DecompressionBomb(MediaError):
    """An image whose declared pixel count exceeds the limit; refused before decoding."""

    code = "decompression_bomb"

    def __init__(self, pixels: int | None, max_pixels: int | None) -> None:
        self.pixels = pixels
        self.max_pixels = max_pixels
        declared = "more pixels" if pixels is None else f"{pixels} pixels"
        super().__init__(f"image declares {declared} than the limit of {max_pixels} allows")


@dataclass(frozen=True, slots=True)
class HashResult:
    """The hash of one piece of media; `quality` is set where the algorithm has one (PDQ)."""

    signal_type: str
    hash: str
    quality: int | None = None


class SignalType(ABC):
    """One hash algorithm: how its hashes look, how media is hashed, how hashes compare.

    Video will be one more implementation with `media_kind = MediaKind.VIDEO`; it overrides
    `hash_file` because frame extraction works from a file rather than from bytes in memory.
    """

    name: ClassVar[str]
    media_kind: ClassVar[MediaKind]
    index_kind: ClassVar[IndexKind]
    # The distance at or below which two hashes are a match unless a bank says otherwise.
    default_threshold: ClassVar[int]

    @abstractmethod
    def validate(self, hash_str: str) -> str:
        """Return the normalised hash, or raise `InvalidHash` naming the problem."""

    @abstractmethod
    def hash_bytes(self, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> HashResult:
        """Hash media held in memory, or raise a `MediaError` subclass saying why not."""

    @abstractmethod
    def distance(self, a: str, b: str) -> int:
        """Distance between two valid hashes; 0 means identical."""

    def matches(self, a: str, b: str, threshold: int | None = None) -> bool:
        """Whether two hashes are within `threshold` (the type's default when omitted)."""
        limit = self.default_threshold if threshold is None else threshold
        return self.distance(a, b) <= limit

    def hash_file(
        self, path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> HashResult:
        """Hash a file, refusing it before reading when it is larger than `max_bytes`."""
        with Path(path).open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            _check_size(size, max_bytes)
            # Reading one byte past the limit catches a file that grew after the stat.
            data = fh.read(max_bytes + 1)
        return self.hash_bytes(data, max_bytes=max_bytes)


def _check_size(size: int, max_bytes: int) -> None:
    if size == 0:
        raise EmptyMedia("media is empty (zero bytes)")
    if size > max_bytes:
        raise OversizedMedia(size, max_bytes)


def _validate_hex(signal_type: str, hash_str: str, length: int) -> str:
    # Surrounding whitespace is common in pasted and exported lists and carries no meaning.
    value = hash_str.strip().lower()
    if len(value) != length:
        raise InvalidHash(
            signal_type, hash_str, f"expected {length} hexadecimal characters, got {len(value)}"
        )
    for position, char in enumerate(value):
        if char not in _HEX_DIGITS:
            raise InvalidHash(
                signal_type,
                hash_str,
                f"character {char!r} at position {position} is not hexadecimal",
            )
    return value


class _ExactSignal(SignalType):
    """A cryptographic hash of the whole file: equal or different, nothing in between."""

    media_kind = MediaKind.ANY
    index_kind = IndexKind.EXACT
    default_threshold = 0
    _hex_length: ClassVar[int]

    def validate(self, hash_str: str) -> str:
        return _validate_hex(self.name, hash_str, self._hex_length)

    def distance(self, a: str, b: str) -> int:
        return 0 if self.validate(a) == self.validate(b) else EXACT_MISMATCH_DISTANCE

    def hash_bytes(self, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> HashResult:
        # An empty file hashes to a well-known constant that would match every empty upload.
        _check_size(len(data), max_bytes)
        return HashResult(signal_type=self.name, hash=self._digest(data))

    @abstractmethod
    def _digest(self, data: bytes) -> str: ...


class MD5Signal(_ExactSignal):
    """MD5 of the file's bytes, as hash lists from NCMEC and industry programmes carry it."""

    name = "md5"
    _hex_length = 32

    def _digest(self, data: bytes) -> str:
        # MD5 identifies files from shared lists here; it protects nothing, hence the flag.
        return hashlib.md5(data, usedforsecurity=False).hexdigest()


class SHA256Signal(_ExactSignal):
    """SHA-256 of the file's bytes."""

    name = "sha256"
    _hex_length = 64

    def _digest(self, data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


# Pillow plugins PDQ accepts. Restricting `Image.open` to these keeps rarely used parsers (and
# EPS, which runs Ghostscript) away from untrusted uploads.
_PDQ_FORMATS: Final = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF")


@contextlib.contextmanager
def _decoding_checked_here() -> Iterator[None]:
    """Decoding untrusted bytes, where this module checks the outcome itself: the declared size
    against its own limit right after opening (Pillow's hard limit still raises), and damage by
    whether the decode then succeeds, reported as `CorruptMedia` or `TruncatedMedia`. Pillow's
    warnings about either are noise here: a large declared size, and a TIFF tag that runs past
    the end of the file or a damaged EXIF block (it skips the tag and says so)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.TiffImagePlugin")
        yield


def _sniff_image_format(data: bytes) -> str | None:
    """The supported format the bytes claim to be by their signature, if any."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data.startswith(b"BM"):
        return "BMP"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    return None


def _looks_truncated(fmt: str, data: bytes, error: Exception) -> bool:
    """Whether a decoding failure comes from the data ending early rather than bad contents."""
    # Pillow raises plain OSError for both (and says "truncated" for some corrupt headers too),
    # so the formats' own end markers and declared lengths decide where they exist.
    if fmt == "JPEG":
        return not data.rstrip(b"\x00").endswith(b"\xff\xd9")
    if fmt == "PNG":
        return b"IEND" not in data[-16:]
    if fmt == "GIF":
        return not data.endswith(b";")
    if fmt == "WEBP":
        return int.from_bytes(data[4:8], "little") + 8 > len(data)
    if fmt == "BMP":
        return int.from_bytes(data[2:6], "little") > len(data)
    if fmt == "TIFF":
        # The header points at the first directory, which declares how many 12-byte entries
        # follow it.
        order: Literal["little", "big"] = "little" if data.startswith(b"II") else "big"
        directory = int.from_bytes(data[4:8], order)
        if directory + 2 > len(data):
            return True
        entries = int.from_bytes(data[directory : directory + 2], order)
        if directory + 2 + 12 * entries + 4 > len(data):
            return True
    return "truncated" in str(error).lower()


def _hash_vector_to_hex(bits: NDArray[Any]) -> str:
    # pdqhash returns the 256 bits most significant first, the order of the hex form that
    # python-threatexchange and HMA exchange.
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


class PDQSignal(SignalType):
    """PDQ perceptual hash of an image: 256 bits as 64 hex characters, with a quality 0..100."""

    name = "pdq"
    media_kind = MediaKind.IMAGE
    index_kind = IndexKind.HAMMING_256
    default_threshold = 31

    def validate(self, hash_str: str) -> str:
        return _validate_hex(self.name, hash_str, 64)

    def distance(self, a: str, b: str) -> int:
        return (int(self.validate(a), 16) ^ int(self.validate(b), 16)).bit_count()

    def hash_rgb(self, rgb: NDArray[np.uint8]) -> HashResult:
        """Hash an (height, width, 3) uint8 RGB array, such as one decoded video frame."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected a (h, w, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
        bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
        return HashResult(signal_type=self.name, hash=_hash_vector_to_hex(bits), quality=quality)

    def hash_image(self, image: Image.Image) -> HashResult:
        """Hash a decoded Pillow image: EXIF orientation applied, then converted to RGB."""
        # A phone photo stored sideways with an orientation tag must hash like its upright
        # copy, which is how it is displayed and how it is usually re-shared.
        upright = ImageOps.exif_transpose(image)
        return self.hash_rgb(np.asarray(upright.convert("RGB"), dtype=np.uint8))

    def hash_bytes(
        self,
        data: bytes,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_pixels: int | None = None,
    ) -> HashResult:
        """Hash image bytes with the fast path, which gives the reference's bits (see
        `safeguard.matching.pdq_fast` and bench/hashing.py); same errors as the reference."""
        _check_size(len(data), max_bytes)
        from safeguard.matching.pdq_fast import pdq_hash_fast

        digest, quality = pdq_hash_fast(data, max_pixels=max_pixels)
        return HashResult(signal_type=self.name, hash=digest, quality=quality)

    @_decoding_checked_here()
    def hash_bytes_reference(
        self,
        data: bytes,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_pixels: int | None = None,
    ) -> HashResult:
        """Hash image bytes the plain way (Pillow decode, RGB, pdqhash): the oracle."""
        _check_size(len(data), max_bytes)
        limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
        fmt = _sniff_image_format(data)
        try:
            image = Image.open(io.BytesIO(data), formats=_PDQ_FORMATS)
        except Image.DecompressionBombError as exc:
            raise DecompressionBomb(None, limit) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            # Pillow reports a damaged header of a known format as unidentified too; the
            # signature tells a damaged supported file from a format we do not take.
            if fmt is None:
                raise UnsupportedMediaFormat(
                    f"not an image in a supported format ({', '.join(_PDQ_FORMATS)})"
                ) from exc
            raise self._decode_error(fmt, data, exc) from exc
        with image:
            width, height = image.size
            if limit is not None and width * height > limit:
                raise DecompressionBomb(width * height, limit)
            try:
                image.load()
                return self.hash_image(image)
            except Image.DecompressionBombError as exc:
                raise DecompressionBomb(width * height, limit) from exc
            except (OSError, SyntaxError, ValueError, EOFError) as exc:
                raise self._decode_error(image.format or fmt or "image", data, exc) from exc

    def _decode_error(self, fmt: str, data: bytes, exc: Exception) -> CorruptMedia:
        if _looks_truncated(fmt, data, exc):
            return TruncatedMedia(f"{fmt} data ends before the image does ({exc})")
        return CorruptMedia(f"{fmt} data cannot be decoded ({exc})")


PDQ: Final = PDQSignal()
MD5: Final = MD5Signal()
SHA256: Final = SHA256Signal()
