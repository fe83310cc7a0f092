"""The vault's pure core: content-addressed files, encrypted with AES-256-GCM in sealed chunks.

Each object is stored at `<root>/<aa>/<bb>/<sha256>` where the address is the SHA-256 of the
plaintext. The file is a header followed by chunks; every chunk is sealed with its own nonce and
with the address, its index and a last-chunk flag as associated data, so a chunk cannot be moved,
dropped, swapped between objects or truncated without decryption failing.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safeguard.core import errors
from safeguard.core.errors import Invalid

MAGIC = b"SGV1"
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
_HEADER = struct.Struct(">4sI4s8s")  # magic, chunk size, key id, nonce prefix
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class VaultError(Exception):
    """Base of the vault's errors."""


class HashMismatch(Invalid, VaultError):
    def __init__(self, declared: str, actual: str) -> None:
        super().__init__(
            f"the bytes do not match the declared sha256: declared {declared}, received bytes "
            f"hash to {actual}"
        )
        self.declared = declared
        self.actual = actual


class TooLarge(errors.TooLarge, VaultError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the limit of {limit} bytes")
        self.limit = limit


class NotInVault(VaultError):
    pass


class Corrupt(VaultError):
    """The stored object failed authentication: it was altered, truncated or the key is wrong."""


class NotCleared(VaultError):
    """A deletion without a clearance from the hold check, or for an address it did not clear."""


class DeletionClearance:
    """Leave to delete exactly these addresses, once: proof that the hold check ran and found no
    hold (or that an approved destruction overrides them).

    It cannot be made by calling the class. Its only maker is handed out once, by
    `clearance_issuer()`, and `evidence.holds` takes it when it is imported; whoever took it
    first is the only code that can clear a deletion, and a second taker fails loudly.
    """

    __slots__ = ("_addresses", "_used", "purpose")
    _addresses: frozenset[str]
    _used: set[str]
    purpose: str

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        raise TypeError("a deletion clearance is issued only by the hold check (evidence.holds)")

    @property
    def addresses(self) -> frozenset[str]:
        return self._addresses

    def __repr__(self) -> str:
        return f"<DeletionClearance {self.purpose}: {len(self._addresses)} address(es)>"


def _issue(addresses: Iterable[str], purpose: str) -> DeletionClearance:
    clearance = object.__new__(DeletionClearance)
    cleared = frozenset(addresses)
    for address in cleared:
        if not is_sha256(address):
            raise ValueError(f"not a lowercase hex SHA-256: {address!r}")
    clearance._addresses = cleared
    clearance._used = set()
    clearance.purpose = purpose
    return clearance


_issuer_taken = False


def clearance_issuer() -> Callable[[Iterable[str], str], DeletionClearance]:
    """The one maker of clearances, `(addresses, purpose) -> DeletionClearance`, given once."""
    global _issuer_taken
    if _issuer_taken:
        raise RuntimeError(
            "the vault's clearance issuer was already taken (by evidence.holds); only the hold "
            "check may clear a deletion"
        )
    _issuer_taken = True
    return _issue


def is_sha256(value: str) -> bool:
    return bool(_SHA256.match(value))


def key_id(key: bytes) -> bytes:
    """A short fingerprint of the key, stored in each header so key rotation can find the key."""
    return hashlib.sha256(b"safeguard-vault-key-id" + key).digest()[:4]


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    created: bool


def _aad(address: str, index: int, last: bool) -> bytes:
    return address.encode("ascii") + struct.pack(">Q?", index, last)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


class Vault:
    def __init__(self, root: Path, key: bytes, *, chunk_size: int = CHUNK_SIZE) -> None:
        if len(key) != 32:
            raise ValueError("the vault key must be 32 bytes (AES-256)")
        self.root = root
        self._aead = AESGCM(key)
        self._key_id = key_id(key)
        self.chunk_size = chunk_size

    def path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"not a lowercase hex SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    @staticmethod
    def digest(source: BinaryIO, *, max_bytes: int) -> tuple[str, int]:
        """Hash a stream from its start, refusing more than `max_bytes`."""
        source.seek(0)
        hasher = hashlib.sha256()
        size = 0
        while block := source.read(CHUNK_SIZE):
            size += len(block)
            if size > max_bytes:
                raise TooLarge(max_bytes)
            hasher.update(block)
        return hasher.hexdigest(), size

    def put(
        self, source: BinaryIO, *, max_bytes: int, declared_sha256: str | None = None
    ) -> Stored:
        """Store a seekable stream; identical bytes are stored once."""
        address, size = self.digest(source, max_bytes=max_bytes)
        if declared_sha256 is not None and declared_sha256 != address:
            raise HashMismatch(declared_sha256, address)
        final = self.path(address)
        if final.is_file():
            return Stored(address, size, created=False)
        final.parent.mkdir(parents=True, exist_ok=True)
        prefix = os.urandom(8)
        source.seek(0)
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_HEADER.pack(MAGIC, self.chunk_size, self._key_id, prefix))
                index = 0
                block = source.read(self.chunk_size)
                while True:
                    following = source.read(self.chunk_size)
                    last = not following
                    out.write(
                        self._aead.encrypt(_nonce(prefix, index), block, _aad(address, index, last))
                    )
                    if last:
                        break
                    block, index = following, index + 1
                out.flush()
                os.fsync(out.fileno())
            # The rename is atomic: a reader sees either no object or a complete one.
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return Stored(address, size, created=True)

    def read_chunks(self, sha256: str) -> Iterator[bytes]:
        """Decrypt an object chunk by chunk, so large media never sits whole in memory."""
        path = self.path(sha256)
        if not path.is_file():
            raise NotInVault(sha256)
        with path.open("rb") as handle:
            header = handle.read(_HEADER.size)
            try:
                magic, chunk_size, stored_key_id, prefix = _HEADER.unpack(header)
            except struct.error:
                raise Corrupt(f"{sha256}: header is truncated") from None
            if magic != MAGIC:
                raise Corrupt(f"{sha256}: not a vault object")
            if stored_key_id != self._key_id:
                raise Corrupt(f"{sha256}: sealed with a different key")
            sealed_size = chunk_size + TAG_SIZE
            index = 0
            sealed = handle.read(sealed_size)
            while True:
                following = handle.read(sealed_size)
                last = not following
                try:
                    yield self._aead.decrypt(
                        _nonce(prefix, index), sealed, _aad(sha256, index, last)
                    )
                except InvalidTag:
                    raise Corrupt(f"{sha256}: chunk {index} failed authentication") from None
                if last:
                    return
                sealed, index = following, index + 1

    def read(self, sha256: str) -> bytes:
        return b"".join(self.read_chunks(sha256))

    def delete(self, sha256: str, *, clearance: DeletionClearance) -> bool:
        """Remove one object the clearance names; True if a file was removed. Each address of a
        clearance is deleted once: the clearance is not a standing licence."""
        if type(clearance) is not DeletionClearance:
            raise NotCleared(f"{sha256}: deleting needs a clearance from the hold check")
        if sha256 not in clearance._addresses:
            raise NotCleared(f"{sha256}: the clearance does not name this object")
        if sha256 in clearance._used:
            raise NotCleared(f"{sha256}: the clearance was already used for this object")
        clearance._used.add(sha256)
        path = self.path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True
