"""Template families: recognise an article built from the same content-farm template as the seeds,
even when its topic and every sentence differ.

A family is learned from its seed documents (through the shared block model, so HTML pages and
plain-text seeds compare alike). What a family remembers:

* **the opening**: how many prose blocks come before the first list, and how long the first one
  (the summary) is;
* **the table of contents**: the size of the bulleted list near the top whose items come back, in
  order, as the section headings;
* **heading patterns**: the words the seeds' headings start with, and their length;
* **the paragraph-length profile** of the body;
* **template boilerplate**: word 3- and 4-grams that recur across two or more seeds but contain none
  of the family's topic words (the words of its headings, and the words every seed repeats), so the
  stock openings, transitions and closings remain while the subject matter drops out.

A document is measured against each family as a vector of evidence features (:data:`~pipeline.dedup.template_model.FEATURES`, each
0..1, each with a line of evidence when it is there), and a logistic model
(:mod:`pipeline.dedup.template_model`, weights shipped as data) turns the vector into one calibrated
score. No single feature is required: a page whose list was cut off, or a variant that leaves the
list out, can still match on its opening formula and stock phrases, while an ordinary article with
headings and bullets, or one stock phrase, stays below the threshold.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.config import Dedup
from core.document import HEADING_MAX_WORDS, Block, Document
from pipeline.dedup.template_model import FEATURES, TemplateModel, default_model
from pipeline.dedup.tokens import STOPWORDS, tokens

OPENING_SCAN = 8  # the table of contents must start within this many blocks
TOC_MAX_ITEMS = 12  # list items and headings compared for the echo: bounded, whatever the input
HEADINGS_SCAN = 40
MATCH_THRESHOLD: float = Dedup.model_fields["template_threshold"].default  # the config's default
OPENING_PHRASES_SCAN = 4  # blocks of the opening searched for stock phrases when there is no list
_NON_WORD = re.compile(r"[^\w]+")
_SENTENCE_END = (".", "!", "?", "…")


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


def _heading_like(block: Block) -> bool:
    """A heading, or a short line the text format read as a paragraph because it ends in ``:`` or
    ``)`` (a section title all the same)."""
    if block.kind == "heading":
        return True
    text = block.text.rstrip()
    return (
        block.kind == "paragraph"
        and 0 < len(text.split()) <= HEADING_MAX_WORDS
        and not text.endswith(_SENTENCE_END)
    )


@dataclass(frozen=True, slots=True)
class Layout:
    """The structural facts of one document that template matching looks at."""

    opening: int  # prose blocks before the table of contents (or the first heading)
    heading_first: bool  # a heading comes before the table of contents
    toc: tuple[str, ...]  # the first list run near the top
    echoed: int  # table-of-contents items that come back as headings
    first_heading_echoes: bool  # the first heading after the list is the first item
    truncated: bool  # the text ends inside the list (an excerpt cut short): echo unverifiable
    later_headings: tuple[str, ...]
    paragraph_words: tuple[int, ...]
    has_quote_intro: bool
    summary_words: int = 0  # words of the first block when it is a paragraph
    opening_text: str = ""  # the prose before the list (or the first blocks, without one)


def layout(blocks: Sequence[Block]) -> Layout:
    start = next((i for i, b in enumerate(blocks[:OPENING_SCAN]) if b.kind == "list_item"), None)
    summary = len(blocks[0].text.split()) if blocks and blocks[0].kind == "paragraph" else 0
    if start is None:
        first_heading = next(
            (i for i, b in enumerate(blocks[:OPENING_SCAN]) if b.kind == "heading"),
            min(len(blocks), OPENING_SCAN),
        )
        before = blocks[:first_heading]
        prose = [b for b in before if b.kind in ("paragraph", "quote")]
        headings = tuple(b.text for b in blocks[: HEADINGS_SCAN * 4] if b.kind == "heading")
        return Layout(
            opening=len(prose),
            heading_first=first_heading == 0 and bool(blocks),
            toc=(),
            echoed=0,
            first_heading_echoes=False,
            truncated=False,
            later_headings=headings,
            paragraph_words=_paragraphs(blocks),
            has_quote_intro=any(b.kind == "quote" or b.text[:1] in '“"«' for b in before),
            summary_words=summary,
            opening_text="\n".join(b.text for b in prose[:OPENING_PHRASES_SCAN]),
        )
    end = start
    while end < len(blocks) and blocks[end].kind == "list_item":
        end += 1
    toc = tuple(b.text for b in blocks[start:end])
    before = blocks[:start]
    after = blocks[end : end + HEADINGS_SCAN * 4]
    headings = tuple(b.text for b in after if _heading_like(b))
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
        summary_words=summary,
        opening_text="\n".join(b.text for b in before if b.kind in ("paragraph", "quote")),
    )


def _title_like(text: str) -> bool:
    """A list item written as a section title: short, capitalised, no sentence end."""
    words = text.split()
    return (
        0 < len(words) <= HEADING_MAX_WORDS
        and text[:1].isupper()
        and not text.rstrip().endswith(_SENTENCE_END)
    )


def _specific(gram: tuple[str, ...]) -> bool:
    return len(gram) == 4 or sum(w not in STOPWORDS for w in gram) >= 2


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
    features: dict[str, float] = field(default_factory=dict)  # the best family's evidence vector

    @property
    def match(self) -> bool:
        return self.family is not None


@dataclass(frozen=True)
class Measured:
    """A document measured against one family: the evidence vector and its lines of evidence."""

    features: dict[str, float]
    evidence: list[str]


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
    summary_range: tuple[float, float] = (0.0, 0.0)
    phrases: frozenset[tuple[str, ...]] = frozenset()
    topic_words: frozenset[str] = frozenset()

    @classmethod
    def learn(cls, name: str, seeds: dict[str, Document]) -> Family:
        if not seeds:
            raise ValueError(f"family {name!r} has no seeds")
        family = cls(name, seeds)
        paragraph_means: list[float] = []
        heading_means: list[float] = []
        summaries: list[int] = []
        counts: Counter[str] = Counter()
        topic: set[str] = set()
        for doc in seeds.values():
            shape = layout(doc.blocks)
            if shape.toc:
                family.toc_sizes.add(len(shape.toc))
                family.openings.add(shape.opening)
                heading_means.append(statistics.fmean(len(t.split()) for t in shape.toc))
            if shape.summary_words:
                summaries.append(shape.summary_words)
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
        if summaries:
            family.summary_range = (min(summaries) * 0.6, max(summaries) * 3.0)
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

    def _found(self, text: str) -> list[str]:
        """The family's stock phrases in ``text``, one per passage: overlapping matches (``start with
        a low`` and ``a low dose``) merge into one. Only the 4-grams, and the 3-grams with two
        content words, count (``one of the`` is in every kind of text)."""
        words = tokens(text)
        spans: list[list[int]] = []
        for i in range(len(words) - 2):
            for n in (4, 3):
                gram = tuple(words[i : i + n])
                if len(gram) == n and gram in self.phrases and _specific(gram):
                    if spans and i <= spans[-1][1]:
                        spans[-1][1] = max(spans[-1][1], i + n)
                    else:
                        spans.append([i, i + n])
                    break
        return sorted({" ".join(words[lo:hi]) for lo, hi in spans})

    def measure(self, doc: Document) -> Measured:
        """The evidence vector of ``doc`` against this family (:data:`FEATURES`), with the lines of
        evidence that explain it."""
        shape = layout(doc.blocks)
        f = dict.fromkeys(FEATURES, 0.0)
        evidence: list[str] = []
        size = len(shape.toc)
        excerpt = bool(doc.meta.get("excerpt"))
        # A list is a table of contents when it comes back as the headings, or when the excerpt
        # stops inside it; any other list near the top (product features, tips) is just a list.
        cut = size > 0 and shape.truncated and excerpt
        if size and (cut or shape.first_heading_echoes or shape.echoed):
            f["toc"] = 1.0
            if cut:
                f["toc_cut"] = 1.0
                evidence.append(f"the text ends inside a {size}-item list near the top (cut short)")
            elif shape.first_heading_echoes:
                f["toc_echo"] = 1.0
                evidence.append(
                    f"a {size}-item list near the top whose first item returns as the first "
                    f"heading ({shape.toc[0]!r})"
                )
            f["toc_coverage"] = shape.echoed / size
            if not f["toc_cut"] and f["toc_coverage"] > 0.5:
                evidence.append(f"{shape.echoed} of {size} list items come back as headings")
            if size in self.toc_sizes:
                f["toc_size"] = 1.0
                evidence.append(f"table of contents of {size} items, as in the seeds")
            elif any(abs(size - s) == 1 for s in self.toc_sizes):
                f["toc_size"] = 0.5
        else:
            evidence.append("no table of contents near the top")
            size = 0
        lo = min(self.openings, default=1)
        hi = max(self.openings, default=3)
        if not shape.heading_first and shape.opening and lo - 1 <= shape.opening <= hi + 1:
            f["opening"] = 1.0
            kind = "summary and a quoted intro" if shape.has_quote_intro else "summary and intro"
            where = "before the list" if size else "before any heading"
            evidence.append(f"opens with {shape.opening} prose blocks ({kind}) {where}")
        lo_words, hi_words = self.summary_range
        if hi_words > 0 and lo_words <= shape.summary_words <= hi_words:
            f["summary"] = 1.0
            evidence.append(f"a summary paragraph of {shape.summary_words} words comes first")
        toc = shape.toc if size else ()
        items = toc[:-1] if f["toc_cut"] and size > 1 else toc
        if items:
            f["toc_titles"] = sum(_title_like(t) for t in items) / len(items)
        f["toc_full"] = f["toc_echo"] * f["toc_coverage"] * f["toc_titles"]
        titles = items or shape.later_headings[:TOC_MAX_ITEMS]
        if titles:
            item_words = statistics.fmean(len(t.split()) for t in titles)
            what = "list items" if size else "headings"
            if f["toc_cut"] and size == 1:
                f["heading_length"] = 0.5  # one item, cut: its length is unknown
            elif self.heading_words[0] <= item_words <= self.heading_words[1]:
                f["heading_length"] = 1.0
                evidence.append(f"{what} of {item_words:.0f} words, long like the seeds' headings")
            starts = [_norm(h.split()[0]) for h in titles if h.split()]
            share = sum(s in self.heading_starts for s in starts) / max(len(starts), 1)
            f["heading_style"] = share
            if share >= 0.5:
                evidence.append(
                    f"{what} start like the seeds' (" + ", ".join(sorted(set(starts))) + ")"
                )
        if shape.paragraph_words:
            mean = statistics.fmean(shape.paragraph_words)
            if self.paragraph_range[0] <= mean <= self.paragraph_range[1]:
                f["paragraphs"] = 1.0
                evidence.append(f"paragraphs of {mean:.0f} words on average, as in the seeds")
        found = self._found(doc.text)
        if found:
            f["phrases"] = min(1.0, len(found) / 4)
            evidence.append("stock phrases of the template: " + "; ".join(found[:6]))
        opening_found = self._found(shape.opening_text) if shape.opening_text else []
        if opening_found:
            f["opening_phrases"] = min(1.0, len(opening_found) / 2)
            evidence.append("in the opening: " + "; ".join(opening_found[:4]))
        return Measured(f, evidence)

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
    """All families; :meth:`match` returns the best-scoring one at or above the threshold.

    The score of a family is the model's probability for the document's evidence vector against it
    (``model``: the shipped weights unless given)."""

    def __init__(
        self,
        families: Sequence[Family],
        threshold: float = MATCH_THRESHOLD,
        model: TemplateModel | None = None,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be in [0.0, 1.0]")
        self.families = list(families)
        self.threshold = threshold
        self.model = model or default_model()

    def match(self, doc: Document) -> FamilyMatch:
        if not doc.blocks:
            return FamilyMatch(None, 0.0, None, ["empty document"])
        best: Family | None = None
        best_score = 0.0
        best_measured = Measured({}, ["no seed families loaded"])
        for family in self.families:
            measured = family.measure(doc)
            score = round(self.model.probability(measured.features), 3)
            if (
                best is None
                or score > best_score
                or (score == best_score and family.overlap(doc) > best.overlap(doc))
            ):
                best, best_score, best_measured = family, score, measured
        evidence, features = best_measured.evidence, best_measured.features
        if best is None or best_score < self.threshold:
            return FamilyMatch(None, best_score, None, evidence, features)
        return FamilyMatch(best.name, best_score, best.nearest_seed(doc), evidence, features)
