"""MinHash signatures over word shingles, signed with numpy in one vectorised pass.

A document's word k-shingles are hashed to 64-bit values (a polynomial over the token ids), then each
of ``num_perm`` multiply-shift hash functions ``(a*x + b) mod 2^64 >> 32`` (Dietzfelbinger's
universal family, ``a`` odd) maps them to 32 bits and the minimum is kept.
Short shingles (k=2 by default) survive spinning: with 20% of words substituted, about 64% of the
2-shingles remain, against 33% of 5-shingles.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pipeline.dedup.tokens import token_ids, tokens

MASK61 = np.uint64((1 << 61) - 1)
MAX_HASH = np.uint32(0xFFFFFFFF)
Signature = npt.NDArray[np.uint32]


class MinHasher:
    def __init__(self, num_perm: int = 64, shingle: int = 2, seed: int = 1) -> None:
        if not 8 <= num_perm <= 1024:
            raise ValueError("num_perm must be in [8, 1024]")
        if not 1 <= shingle <= 8:
            raise ValueError("shingle must be in [1, 8]")
        self.num_perm = num_perm
        self.shingle = shingle
        rng = np.random.default_rng(seed)
        top = np.iinfo(np.uint64).max
        self.a = rng.integers(1, top, size=num_perm, dtype=np.uint64, endpoint=True) | np.uint64(1)
        self.b = rng.integers(0, top, size=num_perm, dtype=np.uint64, endpoint=True)
        self.mix = rng.integers(1, (1 << 31), size=shingle, dtype=np.uint64) | np.uint64(1)

    def shingles(self, text: str) -> npt.NDArray[np.uint64]:
        ids = token_ids(tokens(text))
        k = self.shingle
        if len(ids) < k:
            return ids[:0] if len(ids) == 0 else np.array([int(ids.sum())], dtype=np.uint64)
        hashed = np.zeros(len(ids) - k + 1, dtype=np.uint64)
        for i in range(k):
            hashed = hashed * self.mix[i] + ids[i : len(ids) - k + 1 + i]
        return np.unique(hashed & MASK61)

    def sign_shingles(self, shingles: npt.NDArray[np.uint64]) -> Signature:
        if len(shingles) == 0:
            return np.full(self.num_perm, MAX_HASH, dtype=np.uint32)
        out = np.full(self.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
        for start in range(0, len(shingles), 2048):  # bounded memory for huge inputs
            chunk = shingles[start : start + 2048]
            with np.errstate(over="ignore"):
                values = np.outer(chunk, self.a) + self.b
            np.minimum(out, values.min(axis=0), out=out)
        return (out >> np.uint64(32)).astype(np.uint32)

    def sign(self, text: str) -> Signature:
        return self.sign_shingles(self.shingles(text))


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of two signatures."""
    if not len(a) or (int(a[0]) == int(MAX_HASH) and bool((a == MAX_HASH).all())):
        return 0.0
    return float(np.count_nonzero(a == b)) / len(a)


def to_bytes(signature: Signature) -> bytes:
    return signature.astype("<u4").tobytes()


def from_bytes(blob: bytes) -> Signature:
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)
