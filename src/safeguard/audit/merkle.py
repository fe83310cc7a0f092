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
    "Frontier",
    "Node",
    "ProofError",
    "completes_at",
    "consistency_proof",
    "hash_from_nodes",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "nodes_for_proof",
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


# A stored interior (or leaf, level 0) hash: the perfect subtree of 2**level leaves starting at
# leaf index * 2**level. Every range a proof reads splits into O(log n) of them.
Node = tuple[int, int]


def completes_at(level: int, index: int) -> int:
    """The leaf position whose append completes node (level, index): the order a sequencer
    writes nodes in, and so the order a verifier can read them back in."""
    return ((index + 1) << level) - 1


def _pieces(start: int, end: int) -> list[Node]:
    """The perfect subtrees the RFC's split of [start, end) bottoms out in, left to right."""
    n = end - start
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return [(level, start >> level)]
    k = _split(n)
    return [*_pieces(start, start + k), *_pieces(start + k, end)]


def hash_from_nodes(start: int, end: int, nodes: dict[Node, bytes]) -> bytes:
    """The hash of leaves [start, end) from stored perfect-subtree hashes (as `_pieces` names)."""
    n = end - start
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return nodes[(level, start >> level)]
    k = _split(n)
    return node_hash(
        hash_from_nodes(start, start + k, nodes), hash_from_nodes(start + k, end, nodes)
    )


def nodes_for_proof(
    make: Callable[[Subtree], list[bytes]],
) -> tuple[set[Node], Callable[[dict[Node, bytes]], list[bytes]]]:
    """The nodes a proof needs, and how to build it once they are read: `make` is a proof
    function given a `subtree` reader, e.g. `lambda read: inclusion_proof(i, n, subtree=read)`.
    A store reads every node in one query instead of one per level."""
    ranges: list[tuple[int, int]] = []

    def record(start: int, end: int) -> bytes:
        ranges.append((start, end))
        return b""

    make(record)
    needed = {piece for start, end in ranges for piece in _pieces(start, end)}

    def build(nodes: dict[Node, bytes]) -> list[bytes]:
        return make(lambda start, end: hash_from_nodes(start, end, nodes))

    return needed, build


class Frontier:
    """The right edge of a growing tree: one perfect-subtree hash per set bit of its size,
    largest first. Appending a leaf returns the nodes it completes, so a sequencer can save
    every interior hash without reading any back."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ProofError(
                f"a tree of {size} has {size.bit_count()} edge hashes, not {len(hashes)}"
            )
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the (level, index, hash) nodes it completes, leaf first."""
        index = self.size
        made = [(0, index, leaf)]
        current, level = leaf, 0
        while (index >> level) & 1:
            current = node_hash(self.hashes.pop(), current)
            level += 1
            made.append((level, index >> level, current))
        self.hashes.append(current)
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            result = node_hash(left, result)
        return result


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
