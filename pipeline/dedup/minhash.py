"""MinHash signatures over word pairs, one hash per pair (one-permutation hashing), 16 bits a value.

The features of a text are its word pairs at distance 1 to ``1 + skip`` (with ``skip=2``: each word
with the next, the one after and the one after that; ``shingle > 2`` means contiguous word
k-shingles instead, for comparison). Spinning changes single words: a pair survives when both its
words do, as a 2-shingle does, but two different texts share far fewer distant pairs than adjacent
ones (stock two-word phrases), so the pairs separate a spun copy from another article of the same
template better (issue 11, exact Jaccard on the project's texts and the development split: the
highest between two different articles of one family falls from 0.15 to 0.12 while the lowest 40%
spun copy keeps 0.20; ``bench/dedup_quality.py`` part 2b, bench/README.md "Spinning").

Signing hashes each feature once to 64 bits (a polynomial over the token ids, then a splitmix64
finaliser), puts it in one of ``num_perm`` bins by its top bits and keeps each bin's minimum
(one-permutation hashing, Li, Owen and Zhang 2012); an empty bin borrows the next non-empty bin's
value to its right, circularly, re-hashed with the distance (densification, Shrivastava and Li
2014), so a short text still has a full signature. Only the lowest 16 bits of each minimum are kept
(b-bit MinHash, Li and König 2010): two different minima agree by chance 1 time in 65,536. 128
values fit the 256 bytes 64 32-bit values took, with half the variance.

Stored signatures carry a format byte (:data:`FORMAT`): :func:`from_bytes` returns ``None`` for
any other blob (the 64 32-bit values stored before), whose text must be signed again.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pipeline.dedup.tokens import token_ids, tokens

MASK61 = np.uint64((1 << 61) - 1)
MAX_HASH = np.uint16(0xFFFF)  # every value of an empty text's signature
FORMAT = 2  # the first byte of a stored signature (the 32-bit signatures had no format byte)
Signature = npt.NDArray[np.uint16]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: every input bit moves every output bit."""
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


class MinHasher:
    def __init__(self, num_perm: int = 128, shingle: int = 2, seed: int = 1, skip: int = 2) -> None:
        if num_perm not in (16, 32, 64, 128, 256, 512, 1024):
            raise ValueError("num_perm must be a power of two in [16, 1024]")
        if not 1 <= shingle <= 8:
            raise ValueError("shingle must be in [1, 8]")
        if not 0 <= skip <= 4:
            raise ValueError("skip must be in [0, 4]")
        self.num_perm = num_perm
        self.shingle = shingle
        self.skip = skip if shingle == 2 else 0
        self._shift = np.uint64(64 - (num_perm.bit_length() - 1))  # the top bits pick the bin
        rng = np.random.default_rng(seed)
        self.mix = rng.integers(1, (1 << 31), size=max(shingle, 2), dtype=np.uint64) | np.uint64(1)
        self.salt = rng.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True)
        self.gap_salt = rng.integers(1, (1 << 61), size=self.skip + 1, dtype=np.uint64)

    def shingles(self, text: str) -> npt.NDArray[np.uint64]:
        """The text's features, hashed to 64 bits, without repeats."""
        return self.shingles_of(token_ids(tokens(text)))

    def shingles_of(self, ids: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        """:meth:`shingles` from the token ids (:func:`~pipeline.dedup.tokens.token_ids`)."""
        k = self.shingle
        if len(ids) < k:
            if len(ids) == 0:
                return ids[:0]
            return mix64(np.array([int(ids.sum())], dtype=np.uint64) ^ self.salt)
        parts = []
        with np.errstate(over="ignore"):
            if k == 2:
                for gap in range(1, 2 + self.skip):
                    if len(ids) > gap:
                        pair = ids[:-gap] * self.mix[0] + ids[gap:] * self.mix[1]
                        parts.append(pair + self.gap_salt[gap - 1])
            else:
                hashed = np.zeros(len(ids) - k + 1, dtype=np.uint64)
                for i in range(k):
                    hashed = hashed * self.mix[i] + ids[i : len(ids) - k + 1 + i]
                parts.append(hashed)
            return np.unique(mix64((np.concatenate(parts) & MASK61) ^ self.salt))

    def sign_shingles(self, shingles: npt.NDArray[np.uint64]) -> Signature:
        n = self.num_perm
        if len(shingles) == 0:
            return np.full(n, MAX_HASH, dtype=np.uint16)
        # Sorted, the hashes are ordered by bin (their top bits), then by value within a bin:
        # each bin's minimum is its first hash.
        ordered = np.sort(shingles)
        bins = (ordered >> self._shift).astype(np.intp)
        first = np.ones(len(ordered), dtype=bool)
        first[1:] = bins[1:] != bins[:-1]
        minima = np.zeros(n, dtype=np.uint64)
        filled = np.zeros(n, dtype=bool)
        minima[bins[first]] = ordered[first]
        filled[bins[first]] = True
        if not filled.all():
            # Densification: each empty bin takes the next filled bin to its right (circularly),
            # re-hashed with the distance so that borrowed values do not all agree.
            full = np.flatnonzero(filled)
            slots = np.arange(n)
            nxt = np.searchsorted(full, slots) % len(full)
            source = full[nxt]
            distance = ((source - slots) % n).astype(np.uint64)
            borrowed = mix64(minima[source] ^ (distance * _GOLDEN))
            minima = np.where(filled, minima, borrowed)
        return (minima & np.uint64(0xFFFF)).astype(np.uint16)

    def sign(self, text: str) -> Signature:
        return self.sign_shingles(self.shingles(text))


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of two signatures (the share of equal values)."""
    if not len(a) or (int(a[0]) == int(MAX_HASH) and bool((a == MAX_HASH).all())):
        return 0.0
    return float(np.count_nonzero(a == b)) / len(a)


def to_bytes(signature: Signature) -> bytes:
    return bytes([FORMAT]) + signature.astype("<u2").tobytes()


def from_bytes(blob: bytes) -> Signature | None:
    """The signature stored in ``blob``, or ``None`` if it is in another (an older) format."""
    if len(blob) < 3 or blob[0] != FORMAT or len(blob) % 2 != 1:
        return None
    return np.frombuffer(blob, dtype="<u2", offset=1).astype(np.uint16)
