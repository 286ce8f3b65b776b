"""Family discovery: among articles that match no seed family, groups that share a template.

Two articles are linked when they share the template's fingerprint and not its text:

* **topic-free stock phrases**: word 4-grams in common, in at least :data:`MIN_SHARED` separate
  passages of the text (one shared quotation is one passage, however long), that contain none of
  either article's topic words (the words of its title, headings and list items), no number, and
  not only stopwords;
  A passage counts only with a phrase of its own: a common phrase used three times is one;
* **the same shape, with a structure**: a list near the top, its echo as headings or not, and the
  number of prose blocks before it (0, 1, 2, 3 or more). Plain prose that shares phrases across
  sites is syndication (one story rewritten with the same quotes), not a template;
* **different texts**: their word 4-gram sets overlap by less than :data:`MAX_TEXT_JACCARD` (a repost or
  near-duplicate is the near-duplicate level's business);
* **a set of phrases, not a coincidence**: in at least :data:`TOGETHER_PASSAGES` of those passages
  the shared phrases are ones that also meet in other articles, more than :data:`ASSOCIATION`
  times as often as chance would have it, or always together (every article that uses one uses
  the other). A template's stock phrases come as a set in every
  article of the family; common phrases ("on the other hand", "at the end of the") are each in
  many articles, but not together, and among 100,000 articles they would otherwise chain
  unrelated pages into one group.

Links chain (among 100,000 articles a few spurious ones join families to each other and to
ordinary pages), so the linked groups (connected components) are not the candidates as they are:
each is split on its own phrases (:func:`_cohesive`: a member stays when it holds, in
``min_shared`` separate passages, phrases that other members use and that are the group's, not
the whole corpus's; a group holding two strict sets of phrases is split between them). The parts
that span :data:`MIN_SITES` sites and hold :data:`MIN_ARTICLES` articles are the candidates, each
with its evidence (the phrases most of its members share, the shape) and example articles. Phrases that half the corpus uses (a platform's
boilerplate) link nothing, nor phrases only one article uses. Pure: ids, URLs and documents in,
candidates out.

At scale (a week of 100,000 articles) the pairs are not counted: only articles with a list near
the top are read at all, each one's 4-grams are hashed with numpy (a stable 64-bit hash of the word
ids), and the pairs to check come from MinHash banding over each article's linking phrases, within
its shape (:data:`BANDS` bands of one value, so two articles that share a few percent of their
phrases still meet; in a bucket each member is paired with the first, not with all). The checks
above are then made on those pairs only, and a pair already in one group is not checked again.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from core.document import Document
from pipeline.dedup.template import OPENING_SCAN, layout
from pipeline.dedup.tokens import STOPWORDS, token_ids, tokens

MIN_SHARED = 3
MIN_ARTICLES = 3
MIN_SITES = 2
MAX_TEXT_JACCARD = 0.5
COMMON_SHARE = 0.5  # a phrase in more than this share of the articles is boilerplate
EXAMPLES = 5
PERMUTATIONS = 64  # MinHash values per structured article, over its linking phrases
BANDS = 64  # LSH bands of one value: two articles meet when one permutation picks the same phrase
SIGNATURE_SEED = 11
MAX_BUCKET = 20_000  # a bucket this full is one phrase set everybody has: it pairs nothing
ASSOCIATION = 2.0  # shared phrases meet elsewhere this many times more often than by chance
ASSOCIATION_MIN = 1  # ... and in at least this many other articles
TOGETHER_PASSAGES = 2  # separate passages of a link that must hold such phrases
ASSOCIATION_SCAN = 12  # the pair's rarest shared phrases checked for that
GROW = 5
SET_SHARE = 0.5
OWN_SHARE = 0.2  # a group holding this share of a phrase's users (or more) owns the phrase
PHRASE_SAMPLE = 50  # members read for a candidate's evidence phrases
PARALLEL_FROM = 5_000  # structured articles from which _texts uses a second process


@dataclass(frozen=True)
class Candidate:
    id: str  # stable: a hash of the member keys
    shape: str
    phrases: list[str]
    members: list[str]  # keys (URLs), in input order
    sites: list[str]
    examples: list[str] = field(default_factory=list)

    @property
    def evidence(self) -> list[str]:
        return [
            f"{len(self.members)} articles on {len(self.sites)} sites share the shape: {self.shape}",
            "shared topic-free phrases: " + "; ".join(self.phrases),
        ]


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


def _sources(doc: Document) -> tuple[str, list[str]]:
    """What :func:`_texts` reads of an article: its text, and where its topic words are (the
    title, headings and list items)."""
    topical = [b.text for b in doc.blocks if b.kind in ("heading", "list_item")]
    return doc.text, topical + ([doc.title] if doc.title else [])


def _topic_words(topical: list[str]) -> set[str]:
    return {w for text in topical for w in tokens(text) if w not in STOPWORDS}


@dataclass
class _Text:
    """One structured article's word 4-grams, hashed: ``free`` the topic-free ones (a sorted
    set), ``seq`` the topic-free one at each position of the text (0 elsewhere), ``all`` every
    4-gram (a sorted set, for the text Jaccard)."""

    free: npt.NDArray[np.int64]
    seq: npt.NDArray[np.int64]
    all: npt.NDArray[np.int64]


_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
    dtype=np.uint64,
)


class _Vocabulary:
    """Each distinct word once: its stable id (CRC-32) and whether it is a stopword or a number,
    so that a text's flags and hashes come from array lookups, not a pass per flag."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.ids: list[int] = []
        self.stop: list[bool] = []
        self.digit: list[bool] = []

    def lookup(self, words: list[str]) -> npt.NDArray[np.intp]:
        index = self.index
        new = [w for w in dict.fromkeys(words) if w not in index]  # first seen first
        if new:
            index.update(zip(new, range(len(self.ids), len(self.ids) + len(new)), strict=True))
            self.ids.extend(int(i) for i in token_ids(new))
            self.stop.extend(w in STOPWORDS for w in new)
            self.digit.extend(w.isdigit() for w in new)
        return np.fromiter(map(index.__getitem__, words), dtype=np.intp, count=len(words))

    def arrays(self) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        return (
            np.array(self.ids, dtype=np.uint64),
            np.array(self.stop, dtype=bool),
            np.array(self.digit, dtype=bool),
        )


def _gram_hashes(ids: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """A stable 64-bit hash of each word 4-gram (the same in every process and run)."""
    n = max(len(ids) - 3, 0)
    h = np.zeros(n, dtype=np.uint64)
    for k in range(4):
        h ^= (ids[k : k + n] + np.uint64(k + 1)) * _MIX[k]
        h = (h << np.uint64(29)) | (h >> np.uint64(35))
    return h.view(np.int64)


def _windows(flags: npt.NDArray[np.bool_], n: int) -> tuple[npt.NDArray[np.bool_], ...]:
    return tuple(flags[k : k + n] for k in range(4))


def _texts(docs: Sequence[Document], parallel: bool | None = None) -> list[_Text]:
    """Each article's :class:`_Text`. From :data:`PARALLEL_FROM` articles on (or when
    ``parallel``), and with two CPUs or more, one half is read in a spawned worker process while
    this one reads the other: word ids are CRC-32s, so the hashes agree across processes. A
    worker that dies has its half read here."""
    sources = [_sources(doc) for doc in docs]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if parallel is None:
        parallel = len(sources) >= PARALLEL_FROM and (cpus or 1) >= 2
    if not parallel or len(sources) < 2:
        return _read(sources)
    half = len(sources) // 2
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        theirs = pool.submit(_read, sources[:half])
        ours = _read(sources[half:])
        try:
            return theirs.result() + ours
        except BrokenProcessPool:  # the worker died (or could not start): read its half here
            return _read(sources[:half]) + ours


def _read(sources: Sequence[tuple[str, list[str]]]) -> list[_Text]:
    """:func:`_texts` in one process (a module-level function, for a worker process)."""
    vocabulary = _Vocabulary()
    coded = [vocabulary.lookup(tokens(text)) for text, _ in sources]
    topics = [vocabulary.lookup(sorted(_topic_words(topical))) for _, topical in sources]
    ids, stop, digit = vocabulary.arrays()
    out = []
    for words, topic in zip(coded, topics, strict=True):
        n = max(len(words) - 3, 0)
        hashes = _gram_hashes(ids[words])
        bad = digit[words] | np.isin(words, topic)
        stopped = stop[words]
        b0, b1, b2, b3 = _windows(bad, n)
        s0, s1, s2, s3 = _windows(stopped, n)
        keep = ~(b0 | b1 | b2 | b3) & ~(s0 & s1 & s2 & s3)
        seq = np.where(keep, hashes, 0)
        out.append(_Text(np.unique(hashes[keep]), seq, np.unique(hashes)))
    return out


def _phrases(docs: list[Document], texts: list[_Text], linking: set[int]) -> list[str]:
    """The linking phrases that at least half of the members use, most used first (``texts``
    are the members' own, from :func:`_texts`)."""
    df: Counter[str] = Counter()
    sample = list(docs[:PHRASE_SAMPLE])
    for doc, text in zip(sample, texts[:PHRASE_SAMPLE], strict=True):
        words = tokens(doc.text)
        seen = set()
        for i, h in enumerate(text.seq.tolist()):
            if h and h in linking:
                seen.add(" ".join(words[i : i + 4]))
        df.update(seen)
    half = max(2, (min(len(docs), PHRASE_SAMPLE) + 1) // 2)
    return [g for g, c in sorted(df.items(), key=lambda kv: (-kv[1], kv[0])) if c >= half][:6]


def _jaccard(a: _Text, b: _Text) -> float:
    """Jaccard similarity of the two texts' word 4-gram sets."""
    common = np.intersect1d(a.all, b.all, assume_unique=True).size
    return common / max(a.all.size + b.all.size - common, 1)


def _within(values: npt.NDArray[np.int64], grams: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which ``values`` are among ``grams`` (sorted, distinct): a binary search per value, so a
    short text checked against a group's many phrases costs its own length, not theirs."""
    if grams.size == 0:
        return np.zeros(values.shape, dtype=bool)
    at = np.minimum(np.searchsorted(grams, values), grams.size - 1)
    found: npt.NDArray[np.bool_] = grams[at] == values
    return found


def _passages(text: _Text, grams: npt.NDArray[np.int64]) -> int:
    """How many separate passages of the text the shared ``grams`` (sorted, distinct) cover,
    each with a phrase of its own: a quoted sentence is one passage however many 4-grams it
    holds, and a common phrase the text uses three times counts once (passages that repeat an
    earlier one's phrases add nothing)."""
    seq = text.seq
    hits = np.flatnonzero(_within(seq, grams) & (seq != 0))
    if hits.size == 0:
        return 0
    passage = np.zeros(hits.size, dtype=np.intp)
    np.cumsum(np.diff(hits) > 4, out=passage[1:])
    _, first = np.unique(seq[hits], return_index=True)  # each gram's first place
    return int(np.unique(passage[first]).size)


def _passages_of(texts: Sequence[_Text], grams: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """:func:`_passages` of each of ``texts``, in one pass over them all."""
    if not texts:
        return np.zeros(0, dtype=np.intp)
    seq = np.concatenate([t.seq for t in texts])
    owner = np.repeat(np.arange(len(texts)), [t.seq.size for t in texts])
    hits = np.flatnonzero(_within(seq, grams) & (seq != 0))
    if hits.size == 0:
        return np.zeros(len(texts), dtype=np.intp)
    whose = owner[hits]
    # a passage ends where the next hit is more than 4 words on, or in another text
    passage = np.r_[0, np.cumsum((np.diff(hits) > 4) | (np.diff(whose) != 0))]
    order = np.lexsort((seq[hits], whose))  # stable: each gram's places in a text in order
    key_gram, key_whose = seq[hits][order], whose[order]
    first = order[np.r_[True, (key_gram[1:] != key_gram[:-1]) | (key_whose[1:] != key_whose[:-1])]]
    counted = np.unique(passage[first])  # passages with a phrase of their own
    return np.bincount(whose[np.searchsorted(passage, counted)], minlength=len(texts))


def _signatures(sets: list[npt.NDArray[np.int64]]) -> npt.NDArray[np.uint64]:
    """MinHash (:data:`PERMUTATIONS` values) of each set of gram hashes; empty sets get all-max."""
    rng = np.random.default_rng(SIGNATURE_SEED)
    a = rng.integers(1, 2**61 - 1, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**61 - 1, size=PERMUTATIONS, dtype=np.uint64)
    out = np.full((len(sets), PERMUTATIONS), np.iinfo(np.uint64).max, dtype=np.uint64)
    for i, values in enumerate(sets):
        if values.size:
            x = values.astype(np.uint64)
            out[i] = (a[:, None] * x[None, :] + b[:, None]).min(axis=1)
    return out


def _pairs(
    shapes: list[tuple[bool, bool, int]], signatures: npt.NDArray[np.uint64]
) -> list[tuple[int, int]]:
    """Pairs to verify: articles of one shape whose signatures agree on a whole band (LSH). In a
    bucket each member is paired with the bucket's first one, so a family of n articles costs
    about n pairs per band, not n squared."""
    n = len(shapes)
    if n < 2:
        return []
    rows = PERMUTATIONS // BANDS
    kinds = {shape: k for k, shape in enumerate(sorted(set(shapes)))}
    shape_ids = np.array([kinds[s] for s in shapes], dtype=np.uint64)
    found: list[npt.NDArray[np.int64]] = []
    for band in range(BANDS):
        key = shape_ids * np.uint64(0x9E3779B97F4A7C15)
        for r in range(rows):
            key = (key ^ signatures[:, band * rows + r]) * np.uint64(0xC2B2AE3D27D4EB4F)
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, n])
        run = np.repeat(np.arange(starts.size), sizes)
        first = order[starts][run]
        ok = (order != first) & (sizes[run] <= MAX_BUCKET)
        a, b = np.minimum(first[ok], order[ok]), np.maximum(first[ok], order[ok])
        found.append(a.astype(np.int64) * n + b)
    codes = np.unique(np.concatenate(found))
    return [(int(c // n), int(c % n)) for c in codes]


class _Postings:
    """Which structured articles (positions in ``kept``) use each linking phrase."""

    def __init__(self, kept: list[npt.NDArray[np.int64]]) -> None:
        self.n = len(kept)
        values = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
        owners = np.repeat(np.arange(len(kept)), [k.size for k in kept])
        order = np.argsort(values, kind="stable")
        self.values = values[order]
        self.owners = owners[order]
        self._sets: dict[int, frozenset[int]] = {}
        self._pairs: dict[tuple[int, int], bool] = {}  # two phrases: a set, or not

    def of(self, phrase: int) -> frozenset[int]:
        found = self._sets.get(phrase)
        if found is None:
            lo = int(np.searchsorted(self.values, phrase, side="left"))
            hi = int(np.searchsorted(self.values, phrase, side="right"))
            found = self._sets[phrase] = frozenset(self.owners[lo:hi].tolist())
        return found

    def together(self, shared: npt.NDArray[np.int64], x: int, y: int) -> npt.NDArray[np.int64]:
        """The pair's shared phrases that travel with another of them: beyond these two
        articles, the two phrases meet in at least one article, and in more than
        :data:`ASSOCIATION` times as many as chance would put them together. A template's stock
        phrases come as a set, in every article of the family; common phrases that two unrelated
        articles happen to share each have their own readers. Whether two phrases are a set
        does not depend on the pair (both articles use both), so it is worked out once."""
        readers = np.searchsorted(self.values, shared, side="right") - np.searchsorted(
            self.values, shared, side="left"
        )
        order = np.argsort(readers, kind="stable")  # rarest first, ties in hash order
        order = order[readers[order] > 2]  # the phrases other articles use too
        rare = shared[order[:ASSOCIATION_SCAN]].tolist()  # each holds x and y
        keep: set[int] = set()
        for i, p in enumerate(rare):
            for q in rare[i + 1 :]:
                if self._set(p, q):
                    keep.update((p, q))
        return np.array(sorted(keep), dtype=np.int64)

    def _set(self, p: int, q: int) -> bool:
        known = self._pairs.get((p, q))
        if known is None:
            first, second = self.of(p), self.of(q)
            common = len(first & second)
            both = common - 2  # the other articles that use both
            chance = (len(first) - 2) * (len(second) - 2) / max(self.n, 1)
            # two phrases every one of whose articles uses both are a set however few the
            # articles are (four pages of one family alone cannot beat chance by 2x)
            same = common == len(first) == len(second)
            known = both >= ASSOCIATION_MIN and (both > ASSOCIATION * chance or same)
            self._pairs[(p, q)] = known
        return known


class _Group:
    """The linking phrases of some articles: each phrase, how many of them use it, and whether
    it is theirs (they hold at least :data:`OWN_SHARE` of its users among all the structured
    articles). ``flat`` holds the members' phrases member by member (``rows`` where each one's
    start); ``by_phrase`` orders them phrase by phrase (each phrase's users in member order)."""

    def __init__(
        self,
        members: list[int],
        kept: dict[int, npt.NDArray[np.int64]],
        users: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    ) -> None:
        arrays = [kept[i] for i in members]
        sizes = np.array([a.size for a in arrays], dtype=np.intp)
        self.flat = np.concatenate(arrays)
        self.rows = np.r_[0, np.cumsum(sizes)]
        self.owners = np.repeat(np.arange(len(members)), sizes)
        self.values, self.inverse, self.counts = np.unique(
            self.flat, return_inverse=True, return_counts=True
        )
        self.by_phrase = np.argsort(self.inverse, kind="stable")
        self.starts = np.r_[0, np.cumsum(self.counts)]
        everywhere = users[1][np.searchsorted(users[0], self.values)]
        self.own = self.counts >= OWN_SHARE * everywhere

    def readers(self, phrase: int) -> npt.NDArray[np.intp]:
        """The members (positions) that use the phrase at position ``phrase`` of ``values``."""
        return self.owners[self.by_phrase[self.starts[phrase] : self.starts[phrase + 1]]]

    def uses(self, readers: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """How many of ``readers`` use each phrase (by position in ``values``)."""
        rows = [self.inverse[self.rows[r] : self.rows[r + 1]] for r in readers.tolist()]
        return np.bincount(np.concatenate(rows), minlength=self.values.size)

    def holding(
        self,
        members: list[int],
        texts: dict[int, _Text],
        chosen: npt.NDArray[np.bool_],
        least: int,
    ) -> list[int]:
        """The members that hold the ``chosen`` phrases (a mask over ``values``) in at least
        ``least`` separate passages."""
        held = np.bincount(self.owners[chosen[self.inverse]], minlength=len(members))
        maybe = np.flatnonzero(held >= least).tolist()
        passages = _passages_of([texts[members[k]] for k in maybe], self.values[chosen])
        return [members[k] for k, p in zip(maybe, passages.tolist(), strict=True) if p >= least]


def _sets(
    members: list[int],
    kept: dict[int, npt.NDArray[np.int64]],
    texts: dict[int, _Text],
    users: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    min_shared: int,
    min_articles: int,
) -> list[npt.NDArray[np.int64]]:
    """The strict phrase sets of a group: the phrase most of its members use (theirs) is a seed;
    its set is the group's phrases that at least half of the seed's users also use; the set
    counts when ``min_articles`` members hold it in ``min_shared`` passages. Those are taken
    out and the next seed is tried on the rest. Seeds most used first, ties by hash."""
    remaining = list(members)
    out: list[npt.NDArray[np.int64]] = []
    tried = np.zeros(0, dtype=np.int64)
    group: _Group | None = None
    open_counts = np.zeros(0, dtype=np.intp)
    while len(remaining) >= min_articles:
        if group is None:
            group = _Group(remaining, kept, users)
            open_counts = np.where(group.own & ~_within(group.values, tried), group.counts, 0)
        seed = int(np.argmax(open_counts))  # the most used, the smallest hash of those
        if open_counts[seed] < min_articles:
            break
        readers = group.readers(seed)
        chosen = (2 * group.uses(readers) >= readers.size) & group.own
        phrases = group.values[chosen]
        tried = np.union1d(tried, phrases)
        open_counts[chosen] = 0
        family = group.holding(remaining, texts, chosen, min_shared)
        if len(family) >= min_articles:
            out.append(phrases)
            taken = set(family)
            remaining = [i for i in remaining if i not in taken]
            group = None
    return out


def _cohesive(
    members: list[int],
    kept: dict[int, npt.NDArray[np.int64]],
    texts: dict[int, _Text],
    users: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    min_shared: int,
    min_articles: int,
) -> list[list[int]]:
    """The families a linked group holds.

    Links chain: a few spurious ones (two unrelated pages that share common phrases) join
    families to each other and to ordinary pages. So the group's own phrases are the ones that
    two or more of its members use and that are theirs (the group holds at least
    :data:`OWN_SHARE` of the phrase's users: a common phrase, used all over the corpus, is
    nobody's); a member stays only if it holds its group's own phrases in ``min_shared``
    separate passages, and this is repeated until no member goes (pages linked by common
    phrases go entirely). What is left must hold a strict phrase set (:func:`_sets`, one that
    ``min_articles`` members hold): a chain of pages that each share other phrases with the next
    has none and is no family. It is split when it holds more than one (two families joined by a
    link, or by a page that has both): each member goes with the set it holds in the most
    passages. A template spun page by page, whose members share a few of many phrases each,
    usually has one set and stays whole."""
    group = list(members)
    while len(group) >= min_articles:
        stats = _Group(group, kept, users)
        keep = stats.holding(group, texts, (stats.counts >= 2) & stats.own, min_shared)
        if len(keep) == len(group):
            break
        group = keep
    if len(group) < min_articles:
        return []
    sets = _sets(group, kept, texts, users, min_shared, min_articles)
    if not sets:
        return []  # pages that each share something with another, no set that several share
    if len(sets) == 1:
        return [group]
    parts: list[list[int]] = [[] for _ in sets]
    ours = [texts[i] for i in group]
    held = np.stack([_passages_of(ours, phrases) for phrases in sets])
    for i, best in zip(group, np.argmax(held, axis=0).tolist(), strict=True):
        parts[best].append(i)  # the set it holds in the most passages, the first of equals
    return [part for part in parts if len(part) >= min_articles]


def site_of(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def candidates(
    articles: Sequence[tuple[str, Document]],
    *,
    min_shared: int = MIN_SHARED,
    min_articles: int = MIN_ARTICLES,
    min_sites: int = MIN_SITES,
) -> list[Candidate]:
    """Candidate families among ``articles`` (key, document); keys are URLs (their host is the
    site). Largest candidates first."""
    # Only articles with a list near the top can be linked (a template has a structure).
    structured = [
        i
        for i, (_, doc) in enumerate(articles)
        if any(b.kind == "list_item" for b in doc.blocks[:OPENING_SCAN])
    ]
    shapes = {i: _shape(articles[i][1]) for i in structured}
    structured = [i for i in structured if shapes[i][0]]
    texts = dict(zip(structured, _texts([articles[i][1] for i in structured]), strict=True))
    # Phrases that half the corpus uses (boilerplate) link nothing, nor those used once.
    common = max(2, int(COMMON_SHARE * len(articles)))
    frees = [texts[i].free for i in structured]
    flat = np.concatenate(frees) if frees else np.zeros(0, dtype=np.int64)
    values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    useful = (counts >= 2) & (counts <= common)
    linking = values[useful]
    users = (linking, counts[useful])  # each linking phrase and how many articles use it
    pieces = np.split(useful[inverse], np.cumsum([f.size for f in frees])[:-1]) if frees else []
    kept_all = {i: f[m] for i, f, m in zip(structured, frees, pieces, strict=True)}
    # an article sharing fewer phrases than a link needs with anybody links nothing
    structured = [i for i in structured if kept_all[i].size >= min_shared]
    kept = [kept_all[i] for i in structured]
    parent = list(range(len(articles)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    postings = _Postings(kept)
    local = _pairs([shapes[i] for i in structured], _signatures(kept))
    for x, y in local:
        a, b = structured[x], structured[y]
        if find(a) == find(b):
            continue  # already linked through others
        shared = np.intersect1d(kept[x], kept[y], assume_unique=True)
        if shared.size < min_shared:
            continue
        if _jaccard(texts[a], texts[b]) >= MAX_TEXT_JACCARD:
            continue  # the same text: a near-duplicate, not a template
        if _passages(texts[a], shared) < min_shared:
            continue  # one shared quotation, not stock phrases spread through the text
        together = postings.together(shared, x, y)
        if _passages(texts[a], together) < TOGETHER_PASSAGES:
            continue  # common phrases that met here by chance, not one template's set
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for i in range(len(articles)):
        groups.setdefault(find(i), []).append(i)
    out: list[Candidate] = []
    linking_set = set(linking.tolist())
    cohesive = [
        part
        for members in groups.values()
        if len(members) >= min_articles
        for part in _cohesive(members, kept_all, texts, users, min_shared, min_articles)
    ]
    for members in cohesive:
        keys = [articles[i][0] for i in members]
        sites = sorted({site_of(k) for k in keys})
        if len(members) < min_articles or len(sites) < min_sites:
            continue
        phrases = _phrases(
            [articles[i][1] for i in members], [texts[i] for i in members], linking_set
        )
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
