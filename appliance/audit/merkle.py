"""RFC 6962 Merkle tree hashes, audit paths and consistency proofs, standard library only.

The tree hash MTH, the audit path PATH(m, D[n]) and the consistency proof PROOF(m, D[n]) follow
RFC 6962 section 2.1 (Certificate Transparency); verification follows the algorithms of RFC 9162
sections 2.1.3.2 (inclusion) and 2.1.4.2 (consistency). Hashes are SHA-256 with the RFC's domain
separation: 0x00 before a leaf, 0x01 before a pair of children, so a leaf can never pass for a node.

Everything here takes leaf *hashes* (leaf_hash(entry)), never entries, so callers hash once.
This module must stay importable without Django: the offline verification script imports or
copies it, and an auditor should be able to read it on its own.
"""
import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    return _sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): RFC 6962's k."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_root(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(leaves[lo:hi]), level by level.

    Pairing left to right and promoting an odd last node unchanged builds exactly the tree of
    RFC 6962's recursive split, without recursion (no depth limit) and with one C-level sha256 call
    per inner node, which is what makes a million leaves take about a second."""
    if hi <= lo:
        return EMPTY_ROOT
    level = leaves[lo:hi] if (lo, hi) != (0, len(leaves)) else leaves
    while len(level) > 1:
        pairs = iter(level)
        nxt = [_sha256(_NODE + left + right).digest() for left, right in zip(pairs, pairs)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def tree_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves; the empty tree's root is EMPTY_ROOT."""
    return _range_root(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]): sibling subtree roots from the leaf up to the root.

    Walks RFC 6962's split top-down (each step keeps the half holding the leaf and records the
    other half's root), then reverses, because the RFC lists the deepest sibling first. The
    recorded halves are disjoint, so the whole proof costs about n hashes."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is outside a tree of {n} leaves")
    path = []
    lo, m = 0, index
    while n > 1:
        k = _split(n)
        if m < k:
            path.append(_range_root(leaf_hashes, lo + k, lo + n))
            n = k
        else:
            path.append(_range_root(leaf_hashes, lo, lo + k))
            lo, m, n = lo + k, m - k, n - k
    path.reverse()
    return path


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(old_size, D[n]) = SUBPROOF(m, D[n], true), iteratively.

    Same top-down walk as inclusion_proof. `known` is the RFC's b: it stays true while the old
    tree's root is the subtree we descend into, because the verifier already holds that root and
    it is left out of the proof; once we step right it is no longer a root the verifier has."""
    n = len(leaf_hashes)
    if not 0 < old_size <= n:
        raise ValueError(f"old size {old_size} must be in 1..{n}")
    proof = []
    lo, m, known = 0, old_size, True
    while m != n:
        k = _split(n)
        if m <= k:
            proof.append(_range_root(leaf_hashes, lo + k, lo + n))
            n = k
        else:
            proof.append(_range_root(leaf_hashes, lo, lo + k))
            lo, m, n, known = lo + k, m - k, n - k, False
    if not known:
        proof.append(_range_root(leaf_hashes, lo, lo + n))
    proof.reverse()
    return proof


def _are_hashes(*values) -> bool:
    # A proof element of the wrong length cannot be a SHA-256 node: reject it rather than hash it.
    return all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """True when `proof` shows the leaf hash `leaf` at `index` of the `size`-leaf tree with `root`.

    RFC 9162 section 2.1.3.2: fn walks the leaf's position and sn the last leaf's position up the
    tree; where they meet (fn == sn) the leaf's node is a promoted right edge with no sibling on that
    level, so the shifts skip those levels. Returns False, never raises, on any bad input."""
    if not 0 <= index < size or not _are_hashes(leaf, root, *proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False  # proof longer than the path
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """True when `proof` shows the `new_size` tree with `new_root` extends the `old_size` one.

    RFC 9162 section 2.1.4.2: the walk rebuilds both roots at once, fr from the nodes the two trees
    share and sr from all of them. Returns False, never raises, on any bad input."""
    if not 0 <= old_size <= new_size or not _are_hashes(*proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        # RFC 9162 leaves this case out: every tree extends the empty one, whose root is fixed.
        return not proof and old_root == EMPTY_ROOT
    if not proof or not _are_hashes(old_root, new_root):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # A power-of-two old tree is a complete subtree of the new one, so the proof omits its root.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False  # proof longer than the path
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


class MerkleFrontier:
    """The roots of the perfect subtrees that make up a growing tree, largest (leftmost) first.

    A tree of n leaves splits into one perfect subtree per set bit of n, so this holds at most
    log2(n) + 1 hashes; appending merges equal-height neighbours like a binary counter carries.
    Also known as a compact range. root() equals tree_root over every leaf hash appended."""

    def __init__(self) -> None:
        self.size = 0
        self._nodes: list[bytes] = []

    def append(self, leaf_hash: bytes) -> None:
        if not _are_hashes(leaf_hash):
            raise ValueError("a leaf hash is 32 bytes")
        self._nodes.append(leaf_hash)
        self.size += 1
        carry = self.size
        # Each trailing zero bit of the new size is two subtrees of equal height to merge.
        while not carry & 1:
            right = self._nodes.pop()
            self._nodes[-1] = node_hash(self._nodes[-1], right)
            carry >>= 1

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        # RFC 6962's split puts the largest perfect subtree on the left at every level, so the
        # root is a right fold: H(n0, H(n1, ... H(n_{k-1}, n_k))).
        r = self._nodes[-1]
        for node in reversed(self._nodes[:-1]):
            r = node_hash(node, r)
        return r

    def to_list(self) -> list[str]:
        return [node.hex() for node in self._nodes]

    @classmethod
    def from_list(cls, size: int, hexes: Sequence[str]) -> "MerkleFrontier":
        """Rebuild from to_list() and the size; raises ValueError if they cannot belong together."""
        if size < 0 or len(hexes) != size.bit_count():
            raise ValueError(f"a frontier of {size} leaves holds {max(size, 0).bit_count()} hashes, not {len(hexes)}")
        nodes = [bytes.fromhex(h) for h in hexes]
        if not _are_hashes(*nodes):
            raise ValueError("a frontier hash is 32 bytes")
        frontier = cls()
        frontier.size, frontier._nodes = size, nodes
        return frontier
