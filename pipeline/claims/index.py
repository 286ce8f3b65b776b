"""A token trie over lexicon phrases: one scan finds all phrases of all the lexicons it holds.

Phrases are token sequences (see :func:`pipeline.claims.text.tokens`). The index is a dictionary
keyed on a phrase's first token, whose values are nested dictionaries keyed on the following tokens;
a node's ``""`` key (never a token) lists the ``(lexicon, entry)`` pairs whose phrase ends there.

Scanning a sentence intersects its token set with the first-token set (a C-level set operation) and
walks the trie only from positions holding a candidate first token. The cost is proportional to the
number of tokens times the longest phrase, and does not grow with the number of phrases: a lexicon
of 20,000 entries costs the same dictionary lookup per token as one of 20.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

_END = ""

Node = dict[str, Any]


class Hit(NamedTuple):
    """A lexicon phrase found at tokens ``[start, end)``; ``key`` is the entry it belongs to."""

    lexicon: str
    key: str
    start: int
    end: int


@dataclass(slots=True)
class PhraseIndex:
    """The trie, plus the set of first tokens for the fast pre-filter."""

    root: Node = field(default_factory=dict)
    first: frozenset[str] = frozenset()
    max_len: int = 0
    size: int = 0

    def add(self, phrase: Iterable[str], lexicon: str, key: str) -> None:
        words = list(phrase)
        if not words:
            raise ValueError("empty phrase")
        node = self.root
        for word in words:
            node = node.setdefault(word, {})
        payload: list[tuple[str, str]] = node.setdefault(_END, [])
        if (lexicon, key) not in payload:
            payload.append((lexicon, key))
            self.size += 1
        self.max_len = max(self.max_len, len(words))

    def freeze(self) -> None:
        self.first = frozenset(self.root)

    def scan(self, toks: list[str], tokset: set[str] | frozenset[str] | None = None) -> list[Hit]:
        """Every phrase occurrence in ``toks``, in order of start position (overlaps included)."""
        found: dict[str, list[Hit]] = {}
        self.scan_into(toks, found, tokset)
        return sorted((hit for hits in found.values() for hit in hits), key=lambda h: h.start)

    def scan_into(
        self,
        toks: list[str],
        found: dict[str, list[Hit]],
        tokset: set[str] | frozenset[str] | None = None,
    ) -> None:
        """Add every phrase occurrence in ``toks`` to ``found`` (lexicon: hits by start position)."""
        candidates = self.first.intersection(toks if tokset is None else tokset)
        if not candidates:
            return
        root = self.root
        n = len(toks)
        for i in [i for i, tok in enumerate(toks) if tok in candidates]:
            node: Node | None = root[toks[i]]
            j = i
            while node is not None:
                j += 1
                payload = node.get(_END)
                if payload:
                    for lexicon, key in payload:
                        hits = found.get(lexicon)
                        if hits is None:
                            found[lexicon] = [Hit(lexicon, key, i, j)]
                        else:
                            hits.append(Hit(lexicon, key, i, j))
                if j >= n:
                    break
                node = node.get(toks[j])
