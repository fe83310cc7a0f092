"""The pure RFC 9162 Merkle core against the Certificate Transparency reference vectors (the
eight leaves RFC 6962's test data uses), and hypothesis properties: every proof verifies, any
changed byte or wrong size fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    Node,
    ProofError,
    completes_at,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    nodes_for_proof,
    root,
    verify_consistency,
    verify_inclusion,
)

DATA = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
LEAVES = [leaf_hash(d) for d in DATA]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path)
INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, consistency proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def test_roots_match_the_reference_for_every_size() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    for size in range(len(LEAVES) + 1):
        assert root(LEAVES[:size]).hex() == ROOTS[size], size


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_reference(index: int, size: int, path: list[str]) -> None:
    proof = inclusion_proof(index, size, LEAVES)
    assert [p.hex() for p in proof] == path
    assert verify_inclusion(index, size, LEAVES[index], proof, bytes.fromhex(ROOTS[size]))
    assert not verify_inclusion(index, size, LEAVES[index], proof, EMPTY_ROOT)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_reference(old: int, new: int, path: list[str]) -> None:
    proof = consistency_proof(old, new, LEAVES)
    assert [p.hex() for p in proof] == path
    assert verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


def test_proofs_for_sizes_the_tree_does_not_have_are_refused() -> None:
    for index, size in ((8, 8), (-1, 3), (0, 0)):
        with pytest.raises(ProofError):
            inclusion_proof(index, size, LEAVES)
    for old, new in ((0, 3), (5, 4), (3, 9)):
        with pytest.raises(ProofError):
            consistency_proof(old, new, LEAVES)


hashes = st.lists(st.binary(min_size=0, max_size=8), min_size=1, max_size=70).map(
    lambda data: [leaf_hash(d) for d in data]
)


@settings(max_examples=120, deadline=None)
@given(hashes, st.data())
def test_every_inclusion_proof_verifies_and_any_change_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    size = data.draw(st.integers(min_value=1, max_value=len(leaves)))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    top = root(leaves[:size])
    proof = inclusion_proof(index, size, leaves)
    assert verify_inclusion(index, size, leaves[index], proof, top)
    flipped = bytes([leaves[index][0] ^ 1]) + leaves[index][1:]
    assert not verify_inclusion(index, size, flipped, proof, top)
    if proof:
        k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = [*proof[:k], bytes([proof[k][0] ^ 1]) + proof[k][1:], *proof[k + 1 :]]
        assert not verify_inclusion(index, size, leaves[index], bad, top)
        assert not verify_inclusion(index, size, leaves[index], proof[:-1], top)


@settings(max_examples=120, deadline=None)
@given(hashes, st.data())
def test_every_consistency_proof_verifies_and_a_rewritten_history_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    new = data.draw(st.integers(min_value=1, max_value=len(leaves)))
    old = data.draw(st.integers(min_value=1, max_value=new))
    proof = consistency_proof(old, new, leaves)
    old_root, new_root = root(leaves[:old]), root(leaves[:new])
    assert verify_consistency(old, new, old_root, new_root, proof)
    # A history where one of the first `old` leaves changed is not an extension of it.
    k = data.draw(st.integers(min_value=0, max_value=old - 1))
    rewritten = [*leaves[:k], leaf_hash(b"rewritten" + leaves[k]), *leaves[k + 1 :]]
    forged = consistency_proof(old, new, rewritten)
    assert not verify_consistency(old, new, old_root, root(rewritten[:new]), forged)


@given(st.integers(min_value=1, max_value=70), st.data())
def test_a_frontier_grows_the_same_tree_and_saves_every_node_a_proof_reads(
    size: int, data: st.DataObject
) -> None:
    leaves = [leaf_hash(bytes([i % 256, i // 256])) for i in range(size)]
    frontier = Frontier()
    nodes: dict[Node, bytes] = {}
    for i, leaf in enumerate(leaves):
        for level, index, value in frontier.append(leaf):
            nodes[(level, index)] = value
            # Nodes come out in the order a verifier reads them back: by the leaf completing them.
            assert completes_at(level, index) == i
        assert frontier.root() == root(leaves[: i + 1])
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    old = data.draw(st.integers(min_value=1, max_value=size))
    cases = [
        (
            lambda read: inclusion_proof(index, size, subtree=read),
            inclusion_proof(index, size, leaves),
        ),
        (
            lambda read: consistency_proof(old, size, subtree=read),
            consistency_proof(old, size, leaves),
        ),
    ]
    for make, expected in cases:
        needed, build = nodes_for_proof(make)
        assert needed <= nodes.keys()
        # O(log n) reads: a bounded number of perfect subtrees per level of the tree.
        assert len(needed) <= 2 * size.bit_length()
        assert build({key: nodes[key] for key in needed}) == expected


def test_a_frontier_refuses_edge_hashes_that_do_not_fit_its_size() -> None:
    with pytest.raises(ProofError):
        Frontier(3, [EMPTY_ROOT])
