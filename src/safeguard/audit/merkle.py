"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0) §2.1, pure: hashes, roots, and
inclusion and consistency proofs with their verification.

leaf hash = SHA-256(0x00 ‖ leaf), node hash = SHA-256(0x01 ‖ left ‖ right); a tree of n leaves
splits at k, the largest power of two below n. Proofs are lists of 32-byte hashes, ordered as
the RFC orders them, so a proof made here verifies with any RFC 9162 implementation and back.

The functions that make proofs take the leaf hashes; `subtree` is the one place they read them,
so a store can answer it from saved interior hashes instead of rehashing (issue 12).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Final

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "root_from_inclusion",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()
_LEAF: Final = b"\x00"
_NODE: Final = b"\x01"

# The hash of the leaves [start, end): a store may answer from saved subtree hashes.
Subtree = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof was asked for sizes or an index the tree does not have."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(_LEAF + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_of(leaves: Sequence[bytes]) -> Subtree:
    def subtree(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaves[start]
        k = _split(end - start)
        return node_hash(subtree(start, start + k), subtree(start + k, end))

    return subtree


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of these leaf hashes (RFC 9162 §2.1.1); the empty tree's is
    SHA-256 of nothing."""
    if not leaves:
        return EMPTY_ROOT
    return _subtree_of(leaves)(0, len(leaves))


def inclusion_proof(
    index: int, size: int, leaves: Sequence[bytes] | None = None, *, subtree: Subtree | None = None
) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the first `size` leaves (§2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    read = subtree if subtree is not None else _subtree_of(_need(leaves, size))
    path: list[bytes] = []
    start, end = 0, size
    # Walk down from the root, keeping the sibling of each subtree the leaf is in; the RFC
    # lists them from the leaf up.
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(read(start + k, end))
            end = start + k
        else:
            path.append(read(start, start + k))
            start = start + k
    return path[::-1]


def consistency_proof(
    old_size: int,
    size: int,
    leaves: Sequence[bytes] | None = None,
    *,
    subtree: Subtree | None = None,
) -> list[bytes]:
    """The proof that the tree of `old_size` leaves is a prefix of the tree of `size` (§2.1.4.1)."""
    if not 0 < old_size <= size:
        raise ProofError(f"no consistency proof from size {old_size} to {size}")
    read = subtree if subtree is not None else _subtree_of(_need(leaves, size))

    def sub_proof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [read(start, end)]
        k = _split(n)
        if m <= k:
            return [*sub_proof(m, start, start + k, whole), read(start + k, end)]
        return [*sub_proof(m - k, start + k, end, False), read(start, start + k)]

    return sub_proof(old_size, 0, size, True)


def _need(leaves: Sequence[bytes] | None, size: int) -> Sequence[bytes]:
    if leaves is None or len(leaves) < size:
        raise ProofError(f"a tree of {size} needs {size} leaves")
    return leaves


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` proves `leaf` (a leaf hash) at `index` in a tree of `size` is in
    (§2.1.3.2); raises ProofError when the proof has the wrong shape."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    try:
        return root_from_inclusion(index, size, leaf, proof) == expected_root
    except ProofError:
        return False


def verify_consistency(
    old_size: int, size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether `proof` shows the tree of `old_size` with `old_root` is a prefix of the tree of
    `size` with `new_root` (§2.1.4.2)."""
    if not 0 < old_size <= size:
        return False
    if old_size == size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    # A power-of-two old tree is a subtree of the new one: its root starts the walk.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
