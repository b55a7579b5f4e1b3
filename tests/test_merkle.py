"""appliance.audit.merkle against the RFC 6962 reference vectors, an RFC-text reference, and tampering.

hypothesis is not in requirements-dev.txt, so the property tests enumerate instead of sampling:
every tree size up to 70, every leaf, every (old, new) size pair, over seeded random leaves."""
import functools
import random

import pytest

from appliance.audit.merkle import (
    EMPTY_ROOT, MerkleFrontier, consistency_proof, inclusion_proof, leaf_hash, node_hash, tree_root,
    verify_consistency, verify_inclusion,
)

# Reference vectors, copied from transparency-dev/merkle proof/verify_test.go (commit 02194e9a);
# google/certificate-transparency src/merkletree/merkle_tree_test.cc (kInputs, kSHA256Roots,
# kSHA256Paths, kSHA256Proofs) holds the same values, all but the 6 -> 7 consistency proof.
REF_EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
REF_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
# REF_ROOTS[i] is the root of the tree of the first i + 1 leaves.
REF_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf, size, path): the reference files number leaves from 1, so the leaf index is leaf - 1.
REF_PATHS = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
# (old size, new size, proof)
REF_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]

REF_HASHES = [leaf_hash(bytes.fromhex(leaf)) for leaf in REF_LEAVES]
MAX_SIZE = 70
_rng = random.Random(6962)
LEAVES = tuple(leaf_hash(_rng.randbytes(_rng.randrange(40))) for _ in range(MAX_SIZE))
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def hexes(hashes):
    return [h.hex() for h in hashes]


def unhex(strings):
    return [bytes.fromhex(s) for s in strings]


def flip(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[bit // 8 % len(changed)] ^= 1 << bit % 8
    return bytes(changed)


# A second implementation written straight from the RFC 6962 section 2.1 text (recursive split),
# to cross-check the iterative one.
def _k(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@functools.cache
def ref_mth(d: tuple) -> bytes:
    if not d:
        return EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: tuple) -> list:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: tuple, b: bool) -> list:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def test_it_matches_the_reference_roots_for_every_size():
    assert EMPTY_ROOT.hex() == REF_EMPTY_ROOT
    assert tree_root([]).hex() == REF_EMPTY_ROOT
    assert [tree_root(REF_HASHES[:n]).hex() for n in range(1, 9)] == REF_ROOTS


def test_it_builds_and_verifies_the_reference_inclusion_proofs():
    for leaf, size, path in REF_PATHS:
        index, root = leaf - 1, bytes.fromhex(REF_ROOTS[size - 1])
        assert hexes(inclusion_proof(index, REF_HASHES[:size])) == path
        assert verify_inclusion(REF_HASHES[index], index, size, unhex(path), root)


def test_it_builds_and_verifies_the_reference_consistency_proofs():
    for old, new, proof in REF_CONSISTENCY:
        old_root, new_root = bytes.fromhex(REF_ROOTS[old - 1]), bytes.fromhex(REF_ROOTS[new - 1])
        assert hexes(consistency_proof(old, REF_HASHES[:new])) == proof
        assert verify_consistency(old, new, old_root, new_root, unhex(proof))


def test_it_rejects_the_reference_corrupted_inclusion_probes():
    # The probes of corruptInclusionProof in transparency-dev/merkle proof/verify_test.go.
    for leaf, size, path in REF_PATHS[1:]:
        index, root, leaf_h, proof = leaf - 1, bytes.fromhex(REF_ROOTS[size - 1]), REF_HASHES[leaf - 1], unhex(path)
        probes = [
            (leaf_h, index - 1, size, proof, root), (leaf_h, index + 1, size, proof, root),
            (leaf_h, index ^ 2, size, proof, root), (leaf_h, index, size * 2, proof, root),
            (leaf_h, index, size // 2, proof, root), (b"WrongLeaf", index, size, proof, root),
            (leaf_h, index, size, proof, EMPTY_ROOT), (leaf_h, index, size, proof, SOME_HASH),
            (leaf_h, index, size, proof + [b""], root), (leaf_h, index, size, proof + [root], root),
            (leaf_h, index, size, [b""] + proof, root), (leaf_h, index, size, [root] + proof, root),
            (leaf_h, index, size, proof[:-1], root), (leaf_h, index, size, [proof[0], SOME_HASH] + proof[1:], root),
        ]
        for n in range(len(proof)):
            probes.append((leaf_h, index, size, proof[:n] + [flip(proof[n], 3)] + proof[n + 1:], root))
        for probe in probes:
            assert not verify_inclusion(*probe), probe


def test_it_rejects_the_reference_corrupted_consistency_probes():
    # The probes of corruptConsistencyProof in transparency-dev/merkle proof/verify_test.go.
    for old, new, hex_proof in REF_CONSISTENCY[1:]:
        r1, r2, p = bytes.fromhex(REF_ROOTS[old - 1]), bytes.fromhex(REF_ROOTS[new - 1]), unhex(hex_proof)
        probes = [
            (old - 1, new, r1, r2, p), (old + 1, new, r1, r2, p), (old ^ 2, new, r1, r2, p),
            (old, new * 2, r1, r2, p), (old, new // 2, r1, r2, p), (old, new, b"WrongRoot", r2, p),
            (old, new, r1, b"WrongRoot", p), (old, new, r2, r1, p), (old, new, r1, r2, []),
            (old, new, r1, r2, p + [b""]), (old, new, r1, r2, p + [r1]), (old, new, r1, r2, p + [r2]),
            (old, new, r1, r2, [b""] + p), (old, new, r1, r2, [r1] + p), (old, new, r1, r2, [r2] + p),
            (old, new, r1, r2, [p[0]] + p), (old, new, r1, r2, p[:-1]),
        ]
        for n in range(len(p)):
            probes.append((old, new, r1, r2, p[:n] + [flip(p[n], 4)] + p[n + 1:]))
        for probe in probes:
            assert not verify_consistency(*probe), probe


def test_it_agrees_with_the_rfc_text_for_every_tree_up_to_70_leaves():
    for n in range(MAX_SIZE + 1):
        d = LEAVES[:n]
        assert tree_root(d) == ref_mth(d)
        assert [inclusion_proof(m, d) for m in range(n)] == [ref_path(m, d) for m in range(n)]
        assert [consistency_proof(m, d) for m in range(1, n + 1)] == [ref_subproof(m, d, True) for m in range(1, n + 1)]


def test_it_verifies_every_inclusion_proof_and_rejects_any_flipped_bit_or_wrong_index():
    rng = random.Random(1)
    for n in range(1, MAX_SIZE + 1):
        d, root = LEAVES[:n], tree_root(LEAVES[:n])
        for index in range(n):
            proof, leaf = inclusion_proof(index, d), d[index]
            assert verify_inclusion(leaf, index, n, proof, root)
            assert not verify_inclusion(flip(leaf, rng.randrange(256)), index, n, proof, root)
            assert not verify_inclusion(leaf, index, n, proof, flip(root, rng.randrange(256)))
            for at in range(len(proof)):
                tampered = proof[:at] + [flip(proof[at], rng.randrange(256))] + proof[at + 1:]
                assert not verify_inclusion(leaf, index, n, tampered, root)
            for wrong in {index - 1, index + 1, index ^ 1, index ^ 2, n, -1} - {index}:
                assert not verify_inclusion(leaf, wrong, n, proof, root)
            assert not verify_inclusion(leaf, index, n, proof + [SOME_HASH], root)
            if proof:
                assert not verify_inclusion(leaf, index, n, proof[:-1], root)


def test_it_verifies_every_consistency_proof_and_rejects_any_tampering():
    rng = random.Random(2)
    roots = [tree_root(LEAVES[:n]) for n in range(MAX_SIZE + 1)]
    for n in range(1, MAX_SIZE + 1):
        for m in range(1, n + 1):
            proof, old_root, new_root = consistency_proof(m, LEAVES[:n]), roots[m], roots[n]
            assert verify_consistency(m, n, old_root, new_root, proof)
            assert not verify_consistency(m, n, flip(old_root, rng.randrange(256)), new_root, proof)
            assert not verify_consistency(m, n, old_root, flip(new_root, rng.randrange(256)), proof)
            assert not verify_consistency(m, n, old_root, new_root, proof + [SOME_HASH])
            for at in range(len(proof)):
                tampered = proof[:at] + [flip(proof[at], rng.randrange(256))] + proof[at + 1:]
                assert not verify_consistency(m, n, old_root, new_root, tampered)
            if m < n:
                assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
                assert not verify_consistency(m - 1, n, old_root, new_root, proof)
                assert not verify_consistency(m + 1, n, old_root, new_root, proof)


def test_it_treats_equal_and_empty_old_sizes_as_the_rfc_does():
    root = tree_root(LEAVES[:5])
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, root, [root])
    assert not verify_consistency(5, 5, root, SOME_HASH, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 5, SOME_HASH, root, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, root, [root])
    assert not verify_consistency(5, 4, root, root, [])


def test_it_returns_false_instead_of_raising_on_nonsense():
    leaf, root = LEAVES[0], tree_root(LEAVES[:4])
    nonsense = [(0, 0, []), (-1, 4, []), (4, 4, []), (0, -3, []), (0, 4, [b""] * 2), (0, 4, [b"x"] * 64)]
    for index, size, proof in nonsense:
        assert verify_inclusion(leaf, index, size, proof, root) is False
    assert verify_inclusion(b"", 0, 1, [], b"") is False
    for old, new, proof in [(-1, 4, []), (3, -1, []), (3, 4, []), (3, 4, [b""]), (3, 4, [root] * 64)]:
        assert verify_consistency(old, new, root, root, proof) is False


def test_it_refuses_to_prove_outside_the_tree():
    for index in (-1, 3):
        with pytest.raises(ValueError):
            inclusion_proof(index, LEAVES[:3])
    with pytest.raises(ValueError):
        inclusion_proof(0, [])
    for old in (0, 4, -1):
        with pytest.raises(ValueError):
            consistency_proof(old, LEAVES[:3])


def test_it_keeps_the_frontier_root_equal_to_tree_root_at_every_size_and_across_persistence():
    frontier = MerkleFrontier()
    assert (frontier.size, frontier.root(), frontier.to_list()) == (0, EMPTY_ROOT, [])
    for n, leaf in enumerate(LEAVES, start=1):
        frontier.append(leaf)
        assert frontier.size == n and frontier.root() == tree_root(LEAVES[:n])
        assert len(frontier.to_list()) == n.bit_count()
        restored = MerkleFrontier.from_list(frontier.size, frontier.to_list())
        assert restored.size == n and restored.root() == frontier.root()
        # A restored frontier must keep growing to the same roots as the original.
        if n < MAX_SIZE:
            restored.append(LEAVES[n])
            assert restored.root() == tree_root(LEAVES[:n + 1])


def test_it_refuses_a_persisted_frontier_that_does_not_fit_its_size():
    frontier = MerkleFrontier()
    for leaf in LEAVES[:5]:
        frontier.append(leaf)
    stored = frontier.to_list()
    for size, hex_list in [(4, stored), (7, stored), (-1, stored), (5, stored[:1]), (5, [stored[0], "abcd"]),
                           (5, [stored[0], "zz" * 32])]:
        with pytest.raises(ValueError):
            MerkleFrontier.from_list(size, hex_list)
    with pytest.raises(ValueError):
        frontier.append(b"short")


def test_it_hashes_100000_leaves_without_recursion_and_matches_the_frontier():
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(100_000)]
    frontier = MerkleFrontier()
    for leaf in leaves:
        frontier.append(leaf)
    root = tree_root(leaves)
    assert root == frontier.root()
    assert len(frontier.to_list()) == (100_000).bit_count()
    index = 99_999
    assert verify_inclusion(leaves[index], index, 100_000, inclusion_proof(index, leaves), root)
    assert verify_consistency(65_537, 100_000, tree_root(leaves[:65_537]), root, consistency_proof(65_537, leaves))
