"""Family discovery before the benchmark of issue 11 (commit 401a088): every pair of articles
that shares a phrase counted in a dict, kept as the baseline that ``bench/dedup_discovery.py
--week`` times side by side with :func:`pipeline.dedup.discovery.candidates`. Not used by the
project. Same rules as today's module; only how the pairs are found differs.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from core.document import Document
from pipeline.dedup.discovery import Candidate, site_of
from pipeline.dedup.template import OPENING_SCAN, layout
from pipeline.dedup.tokens import STOPWORDS, tokens

MIN_SHARED = 3
MIN_ARTICLES = 3
MIN_SITES = 2
MAX_TEXT_JACCARD = 0.5
COMMON_SHARE = 0.5  # a phrase in more than this share of the articles is boilerplate
MAX_POSTINGS = 2_000  # a phrase in more articles than this links nothing (bounded pair counting)
EXAMPLES = 5


def _shape(doc: Document) -> tuple[bool, bool, int]:
    shape = layout(doc.blocks)
    has_list = any(b.kind == "list_item" for b in doc.blocks[:OPENING_SCAN])
    return has_list, shape.first_heading_echoes, min(shape.opening, 3)


def _describe(shape: tuple[bool, bool, int]) -> str:
    has_list, echo, opening = shape
    prose = f"{opening}{'+' if opening == 3 else ''} prose blocks"
    if not has_list:
        return f"{prose} before the first heading, no list near the top"
    echoed = "whose items come back as headings" if echo else "not echoed by the headings"
    return f"{prose}, then a list near the top {echoed}"


def _topic_free_grams(doc: Document) -> set[tuple[str, ...]]:
    topic = {
        w
        for b in doc.blocks
        if b.kind in ("heading", "list_item")
        for w in tokens(b.text)
        if w not in STOPWORDS
    }
    if doc.title:
        topic |= {w for w in tokens(doc.title) if w not in STOPWORDS}
    words = tokens(doc.text)
    return {
        g
        for g in (tuple(words[i : i + 4]) for i in range(len(words) - 3))
        if not any(w in topic or w.isdigit() for w in g) and not all(w in STOPWORDS for w in g)
    }


def _jaccard(a: list[str], b: list[str]) -> float:
    """Jaccard similarity of the two texts' word 4-gram sets."""
    ga = {tuple(a[i : i + 4]) for i in range(len(a) - 3)}
    gb = {tuple(b[i : i + 4]) for i in range(len(b) - 3)}
    return len(ga & gb) / max(len(ga | gb), 1)


def _passages(doc_words: list[str], grams: set[tuple[str, ...]]) -> int:
    """How many separate passages of ``doc_words`` the shared ``grams`` cover: a quoted sentence
    is one passage however many 4-grams it holds."""
    count, end = 0, -1
    for i in range(len(doc_words) - 3):
        if tuple(doc_words[i : i + 4]) in grams:
            if i > end:
                count += 1
            end = i + 4
    return count


def candidates(
    articles: Sequence[tuple[str, Document]],
    *,
    min_shared: int = MIN_SHARED,
    min_articles: int = MIN_ARTICLES,
    min_sites: int = MIN_SITES,
) -> list[Candidate]:
    """Candidate families among ``articles`` (key, document); keys are URLs (their host is the
    site). Largest candidates first."""
    grams = [_topic_free_grams(doc) for _, doc in articles]
    shapes = [_shape(doc) for _, doc in articles]
    postings: dict[tuple[str, ...], list[int]] = {}
    for i, gs in enumerate(grams):
        for g in gs:
            postings.setdefault(g, []).append(i)
    common = max(2, int(COMMON_SHARE * len(articles)))
    shared: Counter[tuple[int, int]] = Counter()
    for members in postings.values():
        if len(members) < 2 or len(members) > min(common, MAX_POSTINGS):
            continue
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                shared[(members[x], members[y])] += 1
    parent = list(range(len(articles)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    words: dict[int, list[str]] = {}
    for (a, b), count in shared.items():
        if count < min_shared or shapes[a] != shapes[b] or not shapes[a][0]:
            continue  # a template has a structure: plain prose sharing phrases is syndication
        for i in (a, b):
            if i not in words:
                words[i] = tokens(articles[i][1].text)
        if _jaccard(words[a], words[b]) >= MAX_TEXT_JACCARD:
            continue  # the same text: a near-duplicate, not a template
        common_grams = grams[a] & grams[b]
        if _passages(words[a], common_grams) < min_shared:
            continue  # one shared quotation, not stock phrases spread through the text
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for i in range(len(articles)):
        groups.setdefault(find(i), []).append(i)
    out: list[Candidate] = []
    for members in groups.values():
        keys = [articles[i][0] for i in members]
        sites = sorted({site_of(k) for k in keys})
        if len(members) < min_articles or len(sites) < min_sites:
            continue
        df: Counter[tuple[str, ...]] = Counter(g for i in members for g in grams[i])
        half = max(2, (len(members) + 1) // 2)
        phrases = [
            " ".join(g)
            for g, c in sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))
            if c >= half and len(postings[g]) <= common
        ][:6]
        digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:10]
        out.append(
            Candidate(
                id=f"cand-{digest}",
                shape=_describe(shapes[members[0]]),
                phrases=phrases,
                members=keys,
                sites=sites,
                examples=keys[:EXAMPLES],
            )
        )
    out.sort(key=lambda c: (-len(c.members), c.id))
    return out
