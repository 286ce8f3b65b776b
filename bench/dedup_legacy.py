"""The template matcher before the learned score (commit ce2e577), kept as the baseline that
bench/dedup_quality.py reports side by side with the learned score. Not used by the project.

Template families: recognise an article built from the same content-farm template as the seeds,
even when its topic and every sentence differ.

A family is learned from its seed documents (through the shared block model, so HTML pages and
plain-text seeds compare alike). What a family remembers:

* **the opening**: how many prose blocks come before the first list, and that no heading does;
* **the table of contents**: the size of the bulleted list near the top whose items come back, in
  order, as the section headings (the strongest single signal);
* **heading patterns**: the words the seeds' headings start with, and their length;
* **the paragraph-length profile** of the body;
* **template boilerplate**: word 3- and 4-grams that recur across two or more seeds but contain none
  of the family's topic words (the words of its headings, and the words every seed repeats), so the
  stock openings, transitions and closings remain while the subject matter drops out.

A document is scored against each family; each feature adds its weight and a line of evidence. The
table-of-contents echo is required: an ordinary article with headings and bullets, but no summary and
intro ahead of a list that its headings repeat, cannot reach the threshold.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.config import Dedup
from core.document import Block, Document
from pipeline.dedup.tokens import STOPWORDS, tokens

OPENING_SCAN = 8  # the table of contents must start within this many blocks
TOC_MAX_ITEMS = 12  # list items and headings compared for the echo: bounded, whatever the input
HEADINGS_SCAN = 40
MATCH_THRESHOLD: float = Dedup.model_fields["template_threshold"].default  # the config's default
TRUNCATED_ECHO_CREDIT = 0.7  # only for texts known to be excerpts (meta["excerpt"]): a list
# at the very end of a whole page is also how many product pages end
WEIGHTS = {
    "toc_echo": 0.30,
    "toc_size": 0.10,
    "opening": 0.15,
    "toc_coverage": 0.05,
    "heading_length": 0.10,
    "heading_style": 0.05,
    "paragraphs": 0.05,
    "phrases": 0.20,
}
_NON_WORD = re.compile(r"[^\w]+")


def _norm(text: str) -> str:
    return _NON_WORD.sub(" ", text.casefold()).strip()


def _similar(a: str, b: str) -> bool:
    """Same heading text, allowing small edits (spinning, punctuation, a dropped word)."""
    na, nb = _norm(a), _norm(b)
    if not na or not nb:
        return False
    if na == nb:
        return True
    ta, tb = set(na.split()), set(nb.split())
    return len(ta & tb) / max(len(ta | tb), 1) >= 0.75


@dataclass(frozen=True, slots=True)
class Layout:
    """The structural facts of one document that template matching looks at."""

    opening: int  # prose blocks before the table of contents
    heading_first: bool  # a heading comes before the table of contents
    toc: tuple[str, ...]  # the first list run near the top
    echoed: int  # table-of-contents items that come back as headings
    first_heading_echoes: bool  # the first heading after the list is the first item
    truncated: bool  # the text ends inside the list (an excerpt cut short): echo unverifiable
    later_headings: tuple[str, ...]
    paragraph_words: tuple[int, ...]
    has_quote_intro: bool


def layout(blocks: Sequence[Block]) -> Layout:
    start = next((i for i, b in enumerate(blocks[:OPENING_SCAN]) if b.kind == "list_item"), None)
    if start is None:
        return Layout(0, False, (), 0, False, False, (), _paragraphs(blocks), False)
    end = start
    while end < len(blocks) and blocks[end].kind == "list_item":
        end += 1
    toc = tuple(b.text for b in blocks[start:end])
    before = blocks[:start]
    headings = tuple(b.text for b in blocks[end:] if b.kind == "heading")
    scan = headings[:HEADINGS_SCAN]
    echoed = sum(1 for item in toc[:TOC_MAX_ITEMS] if any(_similar(item, h) for h in scan))
    return Layout(
        opening=sum(1 for b in before if b.kind in ("paragraph", "quote")),
        heading_first=any(b.kind == "heading" for b in before),
        toc=toc,
        echoed=echoed,
        first_heading_echoes=bool(headings) and _similar(toc[0], headings[0]),
        truncated=end == len(blocks),
        later_headings=headings,
        paragraph_words=_paragraphs(blocks[end:]),
        has_quote_intro=any(b.kind == "quote" or b.text[:1] in '“"«' for b in before),
    )


def _paragraphs(blocks: Sequence[Block]) -> tuple[int, ...]:
    return tuple(len(b.text.split()) for b in blocks if b.kind == "paragraph")


def _grams(words: list[str], sizes: tuple[int, ...] = (3, 4)) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for n in sizes:
        for i in range(len(words) - n + 1):
            out.add(tuple(words[i : i + n]))
    return out


@dataclass(frozen=True)
class FamilyMatch:
    family: str | None
    score: float
    nearest_seed: str | None
    evidence: list[str] = field(default_factory=list)

    @property
    def match(self) -> bool:
        return self.family is not None


@dataclass
class Family:
    """A template family learned from its seeds."""

    name: str
    seeds: dict[str, Document]
    toc_sizes: set[int] = field(default_factory=set)
    openings: set[int] = field(default_factory=set)
    heading_starts: set[str] = field(default_factory=set)
    paragraph_range: tuple[float, float] = (0.0, 0.0)
    heading_words: tuple[float, float] = (0.0, 0.0)
    phrases: frozenset[tuple[str, ...]] = frozenset()
    topic_words: frozenset[str] = frozenset()

    @classmethod
    def learn(cls, name: str, seeds: dict[str, Document]) -> Family:
        if not seeds:
            raise ValueError(f"family {name!r} has no seeds")
        family = cls(name, seeds)
        paragraph_means: list[float] = []
        heading_means: list[float] = []
        counts: Counter[str] = Counter()
        topic: set[str] = set()
        for doc in seeds.values():
            shape = layout(doc.blocks)
            if shape.toc:
                family.toc_sizes.add(len(shape.toc))
                family.openings.add(shape.opening)
                heading_means.append(statistics.fmean(len(t.split()) for t in shape.toc))
            for heading in (*shape.toc, *shape.later_headings):
                words = heading.split()
                if words:
                    family.heading_starts.add(_norm(words[0]))
                topic |= {w for w in tokens(heading) if w not in STOPWORDS}
            if shape.paragraph_words:
                paragraph_means.append(statistics.fmean(shape.paragraph_words))
            counts.update(set(tokens(doc.text)) - STOPWORDS)
        # Words every seed uses are the family's subject matter, not its template.
        topic |= {w for w, c in counts.items() if c >= max(2, len(seeds))}
        family.topic_words = frozenset(topic)
        if paragraph_means:
            family.paragraph_range = (min(paragraph_means) * 0.6, max(paragraph_means) * 1.5)
        if heading_means:
            family.heading_words = (min(heading_means) * 0.7, max(heading_means) * 1.4)
        df: Counter[tuple[str, ...]] = Counter()
        for doc in seeds.values():
            df.update(
                g
                for g in _grams(tokens(doc.text))
                if not any(w in topic for w in g) and not all(w in STOPWORDS for w in g)
            )
        minimum = 2 if len(seeds) > 1 else 1
        family.phrases = frozenset(g for g, c in df.items() if c >= minimum)
        return family

    def score(self, doc: Document) -> tuple[float, list[str]]:
        shape = layout(doc.blocks)
        evidence: list[str] = []
        total = 0.0
        size = len(shape.toc)
        if shape.toc and shape.truncated and doc.meta.get("excerpt"):
            # The text stops inside the list: the echo cannot be checked, so it counts for less.
            total += WEIGHTS["toc_echo"] * TRUNCATED_ECHO_CREDIT
            evidence.append(f"the text ends inside a {size}-item list near the top (cut short)")
            if size <= max(self.toc_sizes, default=0):
                total += WEIGHTS["toc_size"] / 2
        elif not shape.toc or not shape.first_heading_echoes:
            return 0.0, ["no table of contents echoed by the headings"]
        else:
            total += WEIGHTS["toc_echo"]
            evidence.append(
                f"a {size}-item list near the top whose first item returns as the first "
                f"heading ({shape.toc[0]!r})"
            )
            if size in self.toc_sizes:
                total += WEIGHTS["toc_size"]
                evidence.append(f"table of contents of {size} items, as in the seeds")
            elif any(abs(size - s) == 1 for s in self.toc_sizes):
                total += WEIGHTS["toc_size"] / 2
            coverage = shape.echoed / size
            total += WEIGHTS["toc_coverage"] * coverage
            if coverage > 0.5:
                evidence.append(f"{shape.echoed} of {size} list items come back as headings")
        lo = min(self.openings, default=1)
        hi = max(self.openings, default=3)
        if not shape.heading_first and lo - 1 <= shape.opening <= hi + 1 and shape.opening:
            total += WEIGHTS["opening"]
            kind = "summary and a quoted intro" if shape.has_quote_intro else "summary and intro"
            evidence.append(f"opens with {shape.opening} prose blocks ({kind}) before the list")
        item_words = statistics.fmean(len(t.split()) for t in shape.toc)
        if self.heading_words[0] <= item_words <= self.heading_words[1]:
            total += WEIGHTS["heading_length"]
            evidence.append(f"list items of {item_words:.0f} words, long like the seeds' headings")
        starts = [_norm(h.split()[0]) for h in shape.toc if h.split()]
        if starts and sum(s in self.heading_starts for s in starts) / len(starts) >= 0.5:
            total += WEIGHTS["heading_style"]
            evidence.append(
                "headings start like the seeds' (" + ", ".join(sorted(set(starts))) + ")"
            )
        if shape.paragraph_words:
            mean = statistics.fmean(shape.paragraph_words)
            if self.paragraph_range[0] <= mean <= self.paragraph_range[1]:
                total += WEIGHTS["paragraphs"]
                evidence.append(f"paragraphs of {mean:.0f} words on average, as in the seeds")
        found = sorted(
            " ".join(g) for g in _grams(tokens(doc.text)) & self.phrases if len(g) == 4
        ) or sorted(" ".join(g) for g in _grams(tokens(doc.text)) & self.phrases)
        if found:
            share = min(1.0, len(found) / 4)
            total += WEIGHTS["phrases"] * share
            evidence.append("stock phrases of the template: " + "; ".join(found[:6]))
        return round(min(total, 1.0), 3), evidence

    def overlap(self, doc: Document) -> float:
        """Word-set Jaccard similarity with the closest seed: breaks ties between families."""
        words = set(tokens(doc.text))
        return max(
            len(words & seed) / max(len(words | seed), 1)
            for seed in (set(tokens(d.text)) for d in self.seeds.values())
        )

    def nearest_seed(self, doc: Document) -> str:
        words = set(tokens(doc.text))
        best = max(
            self.seeds.items(),
            key=lambda kv: (len(words & set(tokens(kv[1].text))), kv[0]),
        )
        return best[0]


class TemplateMatcher:
    """All families; :meth:`match` returns the best-scoring one above the threshold."""

    def __init__(self, families: Sequence[Family], threshold: float = MATCH_THRESHOLD) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be in [0.0, 1.0]")
        self.families = list(families)
        self.threshold = threshold

    def match(self, doc: Document) -> FamilyMatch:
        if not doc.blocks:
            return FamilyMatch(None, 0.0, None, ["empty document"])
        best: Family | None = None
        best_score, best_evidence = 0.0, ["no seed families loaded"]
        for family in self.families:
            score, evidence = family.score(doc)
            if (
                best is None
                or score > best_score
                or (score == best_score and family.overlap(doc) > best.overlap(doc))
            ):
                best, best_score, best_evidence = family, score, evidence
        if best is None or best_score < self.threshold:
            return FamilyMatch(None, best_score, None, best_evidence)
        return FamilyMatch(best.name, best_score, best.nearest_seed(doc), best_evidence)
