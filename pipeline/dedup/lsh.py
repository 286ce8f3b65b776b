"""A compact LSH index over MinHash signatures: banded, numpy-backed, verified.

Each signature is cut into ``bands`` bands of ``rows`` values; each band is hashed to a 32-bit key
whose top bits are the band number (6 bits for 64 bands, leaving 26 bits of hash). All keys are kept
in one sorted array next to the rows that own them, so a query is one vectorised binary search, then
a vectorised verification of the candidates' full signatures. New entries go to an append buffer
that is scanned directly and merged into the sorted arrays when it grows.
Memory per entry: the signature (2 bytes a value), its 8-byte id, and 8 bytes per band (the 4-byte
key and its 4-byte row).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pipeline.dedup.minhash import Signature

Signatures = npt.NDArray[np.uint16]

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
        self._band_bits = np.uint32(max(1, (bands - 1).bit_length()))
        self._key_shift = np.uint64(64 - (32 - int(self._band_bits)))
        self._sigs = np.empty((0, num_perm), dtype=np.uint16)
        self._ids = np.empty(0, dtype=np.int64)
        # All bands' keys in one sorted array, the band number in the high bits, so one
        # vectorised binary search finds every band's bucket at once.
        self._keys = np.empty(0, dtype=np.uint32)
        self._order = np.empty(0, dtype=np.int32)  # row of each sorted key
        self._band_base = np.arange(bands, dtype=np.uint32) << np.uint32(32 - int(self._band_bits))
        self._pending_ids: list[int] = []  # appended here, scanned as one array, merged in bulk
        self._pending_sigs = np.empty((MERGE_AT, num_perm), dtype=np.uint16)

    def __len__(self) -> int:
        return len(self._ids) + len(self._pending_ids)

    def band_keys(self, sigs: Signatures) -> npt.NDArray[np.uint32]:
        """(n, num_perm) -> (bands, n) keys: the band number in the high bits, then its hash."""
        shaped = sigs.reshape(len(sigs), self.bands, self.rows).astype(np.uint64)
        acc = np.zeros((len(sigs), self.bands), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for r in range(self.rows):
                acc = (acc ^ shaped[:, :, r]) * _MULT
        hashed = (acc >> self._key_shift).astype(np.uint32)
        return (hashed | self._band_base).T

    def add(self, item_id: int, signature: Signature) -> None:
        self._pending_sigs[len(self._pending_ids)] = signature
        self._pending_ids.append(item_id)
        if len(self._pending_ids) >= MERGE_AT:
            self.merge()

    def add_many(self, ids: npt.NDArray[np.int64], sigs: Signatures) -> None:
        self.merge()
        self._append(np.asarray(ids, dtype=np.int64), np.asarray(sigs, dtype=np.uint16))

    def merge(self) -> None:
        if not self._pending_ids:
            return
        ids = np.array(self._pending_ids, dtype=np.int64)
        sigs = self._pending_sigs[: len(ids)].copy()
        self._pending_ids = []
        self._append(ids, sigs)

    def _append(self, ids: npt.NDArray[np.int64], sigs: Signatures) -> None:
        if not len(ids):
            return
        base = len(self._ids)
        self._sigs = np.concatenate([self._sigs, sigs])
        self._ids = np.concatenate([self._ids, ids])
        new_keys = self.band_keys(sigs).ravel()
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
        probe = self.band_keys(signature.reshape(1, -1))[:, 0]
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
        pending = len(self._pending_ids) * (self.num_perm * 2 + 8)
        return (
            self._sigs.nbytes + self._ids.nbytes + self._keys.nbytes + self._order.nbytes + pending
        )
