"""The dedup engine: one document in, what it duplicates and which template family it belongs to.

Three levels, each explained:

1. **exact**: the canonical URL and the hash of the normalised text (done at storage time, where the
   database knows every earlier copy: see :func:`pipeline.store.store_batch`);
2. **near-duplicate**: MinHash over word pairs (adjacent and up to two words apart, 128 16-bit
   values: :mod:`pipeline.dedup.minhash`), looked up in an LSH index that holds the seeds and every
   stored article; the best match above ``near_threshold`` is reported with its estimated
   similarity and the passages both texts share;
3. **template family**: :class:`~pipeline.dedup.template.TemplateMatcher`.

:class:`Deduper` is pure: it knows ids and signatures. Ids below zero are seeds; ids from
:data:`LOCAL_BASE` up are articles seen earlier in this process; other ids are database article ids,
which the caller resolves to URLs and texts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config import Dedup
from core.document import Document
from pipeline.dedup.lsh import LSHIndex
from pipeline.dedup.minhash import MinHasher, Signature
from pipeline.dedup.template import Family, FamilyMatch, TemplateMatcher
from pipeline.dedup.tokens import tokens

NUM_PERM = 128
ROWS = 2  # values per LSH band: 64 bands of 2 (a pair at similarity 0.2 is a candidate 93% of the time)
BANDS = NUM_PERM // ROWS
SHINGLE = 2
SKIP = 2  # word pairs up to this many words apart, besides adjacent ones
NEAR_THRESHOLD: float = Dedup.model_fields["near_threshold"].default  # the config's default
LOCAL_BASE = 1 << 48
PASSAGE_WORDS = 6  # shared runs at least this long are shown as evidence
MIN_WORDS = 8  # shorter texts are not compared for near-duplicates


@dataclass(frozen=True)
class NearMatch:
    of: str | None  # a seed id or an article URL
    similarity: float
    kind: str | None = None  # "seed" | "article"
    passages: list[str] = field(default_factory=list)
    reason: str | None = None  # why there is no match, when the text could not be compared


@dataclass(frozen=True)
class DedupResult:
    signature: Signature
    near: NearMatch
    template: FamilyMatch
    weights_sha256: str = ""  # the template-score weights file that produced template.score

    def as_json(self) -> dict[str, Any]:
        return {
            "template": {
                "match": self.template.match,
                "family": self.template.family,
                "score": self.template.score,
                "nearest_seed": self.template.nearest_seed,
                "evidence": list(self.template.evidence),
                "features": dict(self.template.features),
                "weights_sha256": self.weights_sha256,
            },
            "near_duplicate": {"of": self.near.of, "similarity": round(self.near.similarity, 3)},
        }


def shared_passages(a: str, b: str, min_words: int = PASSAGE_WORDS, limit: int = 3) -> list[str]:
    """The longest word runs the two texts share (at least ``min_words`` long), longest first."""
    wa, wb = tokens(a), tokens(b)
    if len(wa) < min_words or len(wb) < min_words:
        return []
    grams_b = {tuple(wb[i : i + min_words]) for i in range(len(wb) - min_words + 1)}
    runs: list[tuple[int, int]] = []
    start = None
    for i in range(len(wa) - min_words + 1):
        hit = tuple(wa[i : i + min_words]) in grams_b
        if hit and start is None:
            start = i
        elif not hit and start is not None:
            runs.append((start, i - 1 + min_words))
            start = None
    if start is not None:
        runs.append((start, len(wa)))
    runs.sort(key=lambda r: (r[0] - r[1], r[0]))
    out = []
    for lo, hi in runs[:limit]:
        words = wa[lo:hi]
        text = " ".join(words[:40]) + (" …" if len(words) > 40 else "")
        out.append(text)
    return out


class Deduper:
    def __init__(
        self,
        families: Mapping[str, Mapping[str, Document]],
        *,
        near_threshold: float = NEAR_THRESHOLD,
        template_threshold: float | None = None,
        hasher: MinHasher | None = None,
    ) -> None:
        if not 0.0 < near_threshold <= 1.0:
            raise ValueError("near_threshold must be in (0.0, 1.0]")
        self.hasher = hasher or MinHasher(NUM_PERM, SHINGLE, skip=SKIP)
        self.index = LSHIndex(self.hasher.num_perm, self.hasher.num_perm // ROWS)
        self.near_threshold = near_threshold
        learned = [Family.learn(name, dict(seeds)) for name, seeds in families.items()]
        self.template = (
            TemplateMatcher(learned)
            if template_threshold is None
            else TemplateMatcher(learned, template_threshold)
        )
        self.seed_ids: dict[int, str] = {}
        self.seed_texts: dict[str, str] = {}
        for family in families.values():
            for seed_id, doc in family.items():
                key = -(len(self.seed_ids) + 1)
                self.seed_ids[key] = seed_id
                self.seed_texts[seed_id] = doc.text
                self.index.add(key, self.hasher.sign(doc.text))
        self.local: dict[int, tuple[str, str]] = {}  # id -> (url, text), this process's articles

    @property
    def families(self) -> list[str]:
        return [f.name for f in self.template.families]

    def load(self, rows: Iterable[tuple[int, Signature]]) -> int:
        """Add stored articles' signatures (database ids); returns how many."""
        ids: list[int] = []
        signatures: list[Signature] = []
        for article_id, signature in rows:
            ids.append(article_id)
            signatures.append(signature)
        if ids:
            self.index.add_many(np.array(ids, dtype=np.int64), np.stack(signatures))
        return len(ids)

    def remember(self, url: str, text: str, signature: Signature) -> None:
        """Index an article seen in this process, before it has a database id."""
        key = LOCAL_BASE + len(self.local)
        self.local[key] = (url, text)
        self.index.add(key, signature)

    def analyze(
        self,
        doc: Document,
        *,
        resolve: Callable[[int], tuple[str, str] | None] | None = None,
        exclude_url: str | None = None,
        signature: Signature | None = None,
    ) -> DedupResult:
        """Compare ``doc`` with the seeds and everything indexed. ``resolve`` maps a database id to
        (URL, text); matches whose URL is ``exclude_url`` (the document itself) are skipped.
        ``signature`` is the text's signature by this engine's hasher, if already computed."""
        text = doc.text
        if signature is None:
            signature = self.hasher.sign(text)
        template = self.template.match(doc)
        if len(tokens(text)) < MIN_WORDS:
            near = NearMatch(None, 0.0, reason="too short to compare")
            return DedupResult(signature, near, template, self.template.model.sha256)
        near = NearMatch(None, 0.0)
        for key, similarity in self.index.query(signature, self.near_threshold, limit=8):
            found = self._describe(key, resolve)
            if found is None:
                continue
            kind, label, other_text = found
            if kind == "article" and label == exclude_url:
                continue
            near = NearMatch(label, similarity, kind, shared_passages(text, other_text))
            break
        return DedupResult(signature, near, template, self.template.model.sha256)

    def _describe(
        self, key: int, resolve: Callable[[int], tuple[str, str] | None] | None
    ) -> tuple[str, str, str] | None:
        if key < 0:
            seed_id = self.seed_ids[key]
            return "seed", seed_id, self.seed_texts[seed_id]
        if key >= LOCAL_BASE:
            url, text = self.local[key]
            return "article", url, text
        found = resolve(key) if resolve else None
        return ("article", found[0], found[1]) if found else None
