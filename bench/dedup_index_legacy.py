"""The dedup signature and index as they were before issue 11 part 3 (64 32-bit MinHash values over
word 2-shingles, 32 bands of 2 rows), kept for the side-by-side benchmarks. Copied from
``pipeline/dedup/minhash.py`` and ``lsh.py`` at commit d1b895c."""

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
        return self.shingles_of(token_ids(tokens(text)))

    def shingles_of(self, ids: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
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


MERGE_AT = 4096
BUCKET_CAP = 2000
_MULT = np.uint64(0x9E3779B97F4A7C15)


class LSHIndex:
    def __init__(self, num_perm: int, bands: int) -> None:
        if bands < 1 or num_perm % bands:
            raise ValueError("bands must divide num_perm")
        self.num_perm = num_perm
        self.bands = bands
        self.rows = num_perm // bands
        self._sigs = np.empty((0, num_perm), dtype=np.uint32)
        self._ids = np.empty(0, dtype=np.int64)
        # All bands' keys in one sorted array, the band number in the high 32 bits, so one
        # vectorised binary search finds every band's bucket at once.
        self._keys = np.empty(0, dtype=np.uint64)
        self._order = np.empty(0, dtype=np.int32)  # row of each sorted key
        self._band_base = np.arange(bands, dtype=np.uint64) << np.uint64(32)
        self._pending_ids: list[int] = []  # appended here, scanned as one array, merged in bulk
        self._pending_sigs = np.empty((MERGE_AT, num_perm), dtype=np.uint32)

    def __len__(self) -> int:
        return len(self._ids) + len(self._pending_ids)

    def band_keys(self, sigs: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
        """(n, num_perm) -> (bands, n) band hashes."""
        shaped = sigs.reshape(len(sigs), self.bands, self.rows).astype(np.uint64)
        acc = np.zeros((len(sigs), self.bands), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for r in range(self.rows):
                acc = (acc ^ shaped[:, :, r]) * _MULT
        return (acc >> np.uint64(32)).astype(np.uint32).T

    def add(self, item_id: int, signature: Signature) -> None:
        self._pending_sigs[len(self._pending_ids)] = signature
        self._pending_ids.append(item_id)
        if len(self._pending_ids) >= MERGE_AT:
            self.merge()

    def add_many(self, ids: npt.NDArray[np.int64], sigs: npt.NDArray[np.uint32]) -> None:
        self.merge()
        self._append(np.asarray(ids, dtype=np.int64), np.asarray(sigs, dtype=np.uint32))

    def merge(self) -> None:
        if not self._pending_ids:
            return
        ids = np.array(self._pending_ids, dtype=np.int64)
        sigs = self._pending_sigs[: len(ids)].copy()
        self._pending_ids = []
        self._append(ids, sigs)

    def _append(self, ids: npt.NDArray[np.int64], sigs: npt.NDArray[np.uint32]) -> None:
        if not len(ids):
            return
        base = len(self._ids)
        self._sigs = np.concatenate([self._sigs, sigs])
        self._ids = np.concatenate([self._ids, ids])
        new_keys = (self.band_keys(sigs).astype(np.uint64) | self._band_base[:, None]).ravel()
        new_rows = np.broadcast_to(
            np.arange(base, base + len(ids), dtype=np.int32), (self.bands, len(ids))
        ).ravel()
        keys = np.concatenate([self._keys, new_keys])
        rows = np.concatenate([self._order, new_rows])
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._order = rows[order]

    def query(
        self, signature: Signature, threshold: float, limit: int = 5
    ) -> list[tuple[int, float]]:
        """Ids whose estimated Jaccard similarity is at least ``threshold``, best first."""
        probe = self.band_keys(signature.reshape(1, -1))[:, 0].astype(np.uint64) | self._band_base
        los = np.searchsorted(self._keys, probe, side="left")
        his = np.searchsorted(self._keys, probe, side="right")
        sizes = his - los
        # An overfull bucket (a very common shingle pair) says nothing: the other bands decide.
        rows: list[npt.NDArray[np.int32]] = [
            self._order[lo:hi]
            for lo, hi in zip(
                los[(sizes > 0) & (sizes <= BUCKET_CAP)].tolist(),
                his[(sizes > 0) & (sizes <= BUCKET_CAP)].tolist(),
                strict=True,
            )
        ]
        found: list[tuple[int, float]] = []
        if rows:
            candidates = np.unique(np.concatenate(rows))
            sims = (self._sigs[candidates] == signature).mean(axis=1)
            keep = sims >= threshold
            found += [
                (int(self._ids[row]), float(sim))
                for row, sim in zip(candidates[keep], sims[keep], strict=True)
            ]
        if self._pending_ids:
            pending = (self._pending_sigs[: len(self._pending_ids)] == signature).mean(axis=1)
            found += [
                (self._pending_ids[row], float(pending[row]))
                for row in np.flatnonzero(pending >= threshold)
            ]
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found[:limit]

    @property
    def nbytes(self) -> int:
        pending = len(self._pending_ids) * (self.num_perm * 4 + 8)
        return (
            self._sigs.nbytes + self._ids.nbytes + self._keys.nbytes + self._order.nbytes + pending
        )
