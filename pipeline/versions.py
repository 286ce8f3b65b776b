"""Versions of an article's claims: what a version keeps of each claim, and the diff of two versions.

:func:`diff_claims` is pure. It pairs the claims of an older and a newer version of one article:

- *kept*: the same sentence (spacing aside) in both;
- *reworded*: a sentence gone and a new one that shares a category or a rule with it and whose
  words are at least ``REWORDED_SIMILARITY`` alike (difflib's ratio over the lower-cased word
  sequences); each claim is paired at most once, the most similar pairs first;
- *removed*: in the older version only; *added*: in the newer version only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

REWORDED_SIMILARITY = 0.6
# A claim row's own columns (the rest of a claim's JSON is its ``detail``), all a version keeps of
# a claim: the store writes claim rows by the same names.
CLAIM_COLUMNS = (
    "sentence",
    "start",
    "end",
    "categories",
    "substance",
    "condition",
    "severity",
    "score",
    "rules",
    "hedged",
)
_WORD = re.compile(r"\w+")

ClaimData = Mapping[str, Any]


def claim_snapshot(claim: ClaimData) -> dict[str, Any]:
    """What a stored version keeps of one claim (the claim's JSON or a claim row's columns)."""
    return {key: claim.get(key) for key in CLAIM_COLUMNS}


def _key(claim: ClaimData) -> str:
    return " ".join(str(claim.get("sentence") or "").split())


def _words(claim: ClaimData) -> list[str]:
    return _WORD.findall(str(claim.get("sentence") or "").lower())


def similarity(a: str, b: str) -> float:
    """How alike two sentences are, 0..1, word by word (difflib's ratio, case ignored)."""
    return SequenceMatcher(None, _WORD.findall(a.lower()), _WORD.findall(b.lower())).ratio()


def _related(old: ClaimData, new: ClaimData) -> bool:
    shared_category = set(old.get("categories") or ()) & set(new.get("categories") or ())
    shared_rule = set(old.get("rules") or ()) & set(new.get("rules") or ())
    return bool(shared_category or shared_rule)


@dataclass(frozen=True, slots=True)
class Reworded:
    old: dict[str, Any]
    new: dict[str, Any]
    similarity: float


@dataclass(frozen=True, slots=True)
class ClaimDiff:
    added: tuple[dict[str, Any], ...]
    removed: tuple[dict[str, Any], ...]
    reworded: tuple[Reworded, ...]
    kept: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.reworded)


def diff_claims(
    old: Sequence[ClaimData], new: Sequence[ClaimData], threshold: float = REWORDED_SIMILARITY
) -> ClaimDiff:
    """The claims added, removed and reworded from ``old`` to ``new`` (each in its own order)."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be in [0.0, 1.0]")
    new_keys = {_key(c) for c in new}
    old_keys = {_key(c) for c in old}
    gone = [dict(c) for c in old if _key(c) not in new_keys]
    fresh = [dict(c) for c in new if _key(c) not in old_keys]
    kept = sum(1 for c in new if _key(c) in old_keys)
    pairs: list[tuple[float, int, int]] = []
    for i, before in enumerate(gone):
        words = _words(before)
        for j, after in enumerate(fresh):
            if not _related(before, after):
                continue
            ratio = SequenceMatcher(None, words, _words(after)).ratio()
            if ratio >= threshold:
                pairs.append((ratio, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_old: set[int] = set()
    used_new: set[int] = set()
    reworded: list[tuple[int, Reworded]] = []
    for ratio, i, j in pairs:
        if i in used_old or j in used_new:
            continue
        used_old.add(i)
        used_new.add(j)
        reworded.append((i, Reworded(gone[i], fresh[j], round(ratio, 3))))
    return ClaimDiff(
        added=tuple(c for j, c in enumerate(fresh) if j not in used_new),
        removed=tuple(c for i, c in enumerate(gone) if i not in used_old),
        reworded=tuple(r for _, r in sorted(reworded, key=lambda item: item[0])),
        kept=kept,
    )
