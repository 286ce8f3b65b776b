"""Dedup quality: template-family matching on real pages, near-duplicate recall under spinning.

Part 1, template families. Each row of ``../shared/eval/articles_dev.jsonl`` (plain-text format) is
parsed with ``core.document.from_text`` and analysed by ``Deduper(load_families([seeds/]))``.
``template.match`` is scored against ``label == "same_template"``: precision, recall, F1, the false
positives by ``kind`` (medical_authority, news and vendor must have none), and the score range of
the positives and the negatives. Seed-verbatim pages (``near_dup_of_seed`` set, or a near-duplicate
of a seed at similarity >= 0.9) are reported apart and left out of the figures. The rows are
excerpts cut mid-word, so each document is marked ``meta={"excerpt": True}`` (what a page really
cut short looks like to the template matcher; a crawled page never is).

Part 2, spinning, on the project's own texts only: the seeds in ``seeds/`` and the demo pages in
``crawler/demo/sites/*/`` (``extract_html``; pages without article text or under 100 words are
left out, and so are pages that are already near-duplicates of an earlier text, such as the demo's
seed reposts, so that every text has exactly one true original). For each text, variants with 5,
10, 20 and 30% of the words substituted (random positions; replacement words drawn from the other
texts' vocabulary; ``random.Random(SEED)``), with the paragraphs reordered, and with both. All
originals are indexed in one ``Deduper`` (``remember``); a variant counts as found when its nearest
match is its own original. The false-near-duplicate rate analyses each original against an index of
all the others. Word 5-shingles are shown next to the engine's word pairs for comparison.

Part 2b, the signature candidates of issue 11 side by side on the same draws: today's (64 32-bit
values over 2-shingles, threshold 0.3, ``dedup_index_legacy.py``) and 128 16-bit values over
2-shingles or over word pairs up to three apart, at three thresholds; variants with 20, 30 and 40%
of the words changed, sentences and paragraphs reordered, keyword links inserted, and all three.
False near-duplicates among the originals, and among the articles of one template family: the
seeds and the development split's same-template rows (read in place).

Part 1b, the learned template score cross-validated, side by side with the score before it
(``bench/dedup_legacy.py``, the hand-weighted score that required the table-of-contents echo). The
evidence vectors (``bench/dedup_fit.py``) are scored out of fold: stratified 5-fold, grouped by
article (each row is one article, one URL) and, stricter, by site (host name), repeated with 10
shuffles; each row's score comes from a model fitted without it. Reported overall, by ``batch``,
on the look-alikes (the negatives of the template batches ``gather2`` and ``gather4``), and on the
181 AEB pages (``../shared/eval/aeb/``, extracted with ``extract_html`` as the crawler does, whole
pages, not excerpts) with the shipped weights (fitted on all of the dev split; AEB is never fitted
on).

Run: ``python bench/dedup_quality.py`` (about thirty seconds). Prints Markdown.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dedup_fit import Vector, dev_vectors, families
from dedup_index_legacy import LSHIndex as LegacyIndex
from dedup_index_legacy import MinHasher as LegacyHasher
from dedup_index_legacy import similarity as legacy_similarity
from dedup_legacy import Family as LegacyFamily
from dedup_legacy import TemplateMatcher as LegacyMatcher

from core.document import Block, Document, from_text
from pipeline.dedup.engine import NEAR_THRESHOLD, Deduper
from pipeline.dedup.fit import DEFAULT_C, out_of_fold
from pipeline.dedup.lsh import LSHIndex
from pipeline.dedup.minhash import MinHasher, Signature, similarity
from pipeline.dedup.seeds import load_families
from pipeline.dedup.template import MATCH_THRESHOLD, TemplateMatcher
from pipeline.dedup.tokens import tokens
from pipeline.extract import extract_html

REPO = Path(__file__).resolve().parents[1]
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
DEMO_SITES = REPO / "crawler" / "demo" / "sites"
SEED = 20261122
RATES = (0.05, 0.10, 0.20, 0.30, 0.40)
TRIALS = 3  # variants per text and level (different random draws)
MIN_TEXT_WORDS = 100
VERBATIM = 0.9
MUST_BE_CLEAN = ("medical_authority", "news", "vendor")
LEGACY_THRESHOLD = 0.6  # the old score's configured default
LOOK_ALIKE_BATCHES = ("gather2", "gather4")
REPEATS = 10  # shuffles of the cross-validation folds
AEB = EVAL / "aeb"


# --- part 1: template families on the dev set -------------------------------------------------


@dataclass
class Row:
    id: str
    kind: str
    label: str
    match: bool
    score: float
    family: str | None
    near_of: str | None
    near_similarity: float
    verbatim: bool


def analyse_rows(path: Path, deduper: Deduper) -> list[Row]:
    out: list[Row] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw: dict[str, Any] = json.loads(line)
        document = from_text(raw["text"], title=raw.get("title"), url=raw.get("url"))
        document = replace(document, meta={"excerpt": True})
        result = deduper.analyze(document)
        verbatim = bool(raw.get("near_dup_of_seed")) or (
            result.near.kind == "seed" and result.near.similarity >= VERBATIM
        )
        out.append(
            Row(
                raw["id"],
                raw["kind"],
                raw["label"],
                result.template.match,
                result.template.score,
                result.template.family,
                result.near.of,
                result.near.similarity,
                verbatim,
            )
        )
    return out


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, score


def report_templates(rows: list[Row]) -> None:
    scored = [r for r in rows if not r.verbatim]
    apart = [r for r in rows if r.verbatim]
    positive = [r for r in scored if r.label == "same_template"]
    negative = [r for r in scored if r.label != "same_template"]
    tp = sum(r.match for r in positive)
    fn = len(positive) - tp
    fp = sum(r.match for r in negative)
    precision, recall, score = f1(tp, fp, fn)
    print("## Template families on articles_dev.jsonl (shipped weights, in sample)\n")
    print(f"{len(rows)} rows: {len(positive)} same_template, {len(negative)} others; ", end="")
    print(f"{len(apart)} seed-verbatim rows reported apart.\n")
    print("| metric | value |\n| --- | --- |")
    print(f"| true positives | {tp} |\n| false negatives | {fn} |\n| false positives | {fp} |")
    print(f"| precision | {precision:.3f} |\n| recall | {recall:.3f} |\n| F1 | {score:.3f} |")
    print()
    kinds = Counter(r.kind for r in negative)
    false_by_kind = Counter(r.kind for r in negative if r.match)
    print("False positives by kind (negatives only):\n")
    print("| kind | negatives | false positives | must be zero |\n| --- | --- | --- | --- |")
    for kind in sorted(set(kinds) | set(MUST_BE_CLEAN)):
        flag = "yes" if kind in MUST_BE_CLEAN else ""
        print(f"| {kind} | {kinds.get(kind, 0)} | {false_by_kind.get(kind, 0)} | {flag} |")
    print()
    print("Scores (template.score):\n")
    print("| group | n | min | median | max |\n| --- | --- | --- | --- | --- |")
    for name, group in (("same_template", positive), ("others", negative)):
        values = [r.score for r in group] or [0.0]
        print(
            f"| {name} | {len(group)} | {min(values):.3f} | {statistics.median(values):.3f}"
            f" | {max(values):.3f} |"
        )
    print()
    errors = [r for r in scored if r.match != (r.label == "same_template")]
    if errors:
        print("Errors: " + ", ".join(f"{r.id} ({r.label}, {r.kind}, {r.score})" for r in errors))
    else:
        print("Errors: none.")
    above = [r for r in scored if r.near_of is not None]
    pairs = ", ".join(f"{r.id}→{r.near_of} {r.near_similarity:.2f}" for r in above)
    print(
        f"Near-duplicates of a seed among the scored rows: {len(above)}"
        + (f" ({pairs})." if above else ".")
    )
    print("\nSeed-verbatim rows (apart):", end=" ")
    if not apart:
        print("none in this split (no `near_dup_of_seed`, no seed similarity >= 0.9).")
    else:
        print()
        print("| id | near-duplicate of | similarity | template match | score |")
        print("| --- | --- | --- | --- | --- |")
        for r in apart:
            print(f"| {r.id} | {r.near_of} | {r.near_similarity:.2f} | {r.match} | {r.score} |")
    print()


# --- part 1b: the learned score cross-validated, beside the old score ------------------------


def counts(
    vectors: list[Vector], predicted: list[bool], keep: Any = None
) -> tuple[int, int, int, int]:
    tp = fp = fn = n = 0
    for v, p in zip(vectors, predicted, strict=True):
        if keep is not None and not keep(v):
            continue
        n += 1
        tp += p and v.positive
        fp += p and not v.positive
        fn += v.positive and not p
    return tp, fp, fn, n


def cell(tp: int, fp: int, fn: int) -> str:
    precision, recall, score = f1(tp, fp, fn)
    return f"{tp}/{tp + fn} found, {fp} FP: P {precision:.3f} R {recall:.3f} F1 **{score:.3f}**"


def aeb_documents(folder: Path) -> list[Document]:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    out: list[Document] = []
    for sha, entry in sorted(truth.items()):
        html = gzip.decompress((folder / "html" / f"{sha}.html.gz").read_bytes())
        document = extract_html(html.decode("utf-8", errors="replace"), entry["url"]).document
        if document is not None:
            out.append(replace(document, meta={"aeb": sha[:10]}))
    return out


def report_cross_validated(path: Path, aeb: Path) -> None:
    learned = families()
    vectors = dev_vectors(path, learned)
    rows = [v.features for v in vectors]
    labels = [v.positive for v in vectors]
    legacy = LegacyMatcher(
        [LegacyFamily.learn(name, seeds) for name, seeds in load_families([REPO / "seeds"]).items()]
    )
    old = [legacy.match(v.document).score >= LEGACY_THRESHOLD for v in vectors]
    shipped = TemplateMatcher(learned)
    in_sample = [shipped.match(v.document).match for v in vectors]
    runs: dict[str, list[list[float]]] = {"article": [], "site": []}
    for seed in range(13, 13 + REPEATS):
        runs["article"].append(out_of_fold(rows, labels, [v.url for v in vectors], seed=seed))
        hosts = [v.url.split("/")[2] for v in vectors]
        runs["site"].append(out_of_fold(rows, labels, hosts, seed=seed))
    first = [s >= MATCH_THRESHOLD for s in runs["article"][0]]
    print("## The learned template score, cross-validated, beside the old score\n")
    print(
        f"{len(vectors)} rows, {sum(labels)} same_template. Old: the hand-weighted score with the "
        f"echo required (threshold {LEGACY_THRESHOLD}). Learned: logistic regression "
        f"(C={DEFAULT_C}), threshold {MATCH_THRESHOLD}; out of fold, 5 folds, seed 13 unless "
        f"a range over {REPEATS} shuffles is given.\n"
    )
    print("| rows | old score | learned, cross-validated by article | learned, in sample |")
    print("| --- | --- | --- | --- |")
    batches = [("all", None), *((f"batch {b}", b) for b in sorted({v.batch for v in vectors}))]
    for name, batch in batches:
        keep = None if batch is None else (lambda v, b=batch: v.batch == b)
        a, b, c = (counts(vectors, pred, keep) for pred in (old, first, in_sample))
        print(f"| {name} ({a[3]}) | {cell(*a[:3])} | {cell(*b[:3])} | {cell(*c[:3])} |")
    alike = [
        counts(vectors, pred, lambda v: v.batch in LOOK_ALIKE_BATCHES and not v.positive)
        for pred in (old, first, in_sample)
    ]
    print(
        f"| look-alikes: the {alike[0][3]} negatives of {', '.join(LOOK_ALIKE_BATCHES)} "
        f"| {alike[0][1]} FP | {alike[1][1]} FP | {alike[2][1]} FP |"
    )
    print()
    print(f"Over {REPEATS} shuffles of the folds:\n")
    print(
        "| grouped by | F1 min / mean / max | false positives min / max | positives' OOF score "
        "min | negatives' OOF score max |"
    )
    print("| --- | --- | --- | --- | --- |")
    for group, scores in runs.items():
        f1s, fps = [], []
        for run in scores:
            tp, fp, fn, _ = counts(vectors, [s >= MATCH_THRESHOLD for s in run])
            f1s.append(f1(tp, fp, fn)[2])
            fps.append(fp)
        pos = min(s for run in scores for s, y in zip(run, labels, strict=True) if y)
        neg = max(s for run in scores for s, y in zip(run, labels, strict=True) if not y)
        print(
            f"| {group} | {min(f1s):.3f} / {statistics.fmean(f1s):.3f} / {max(f1s):.3f} "
            f"| {min(fps)} / {max(fps)} | {pos:.3f} | {neg:.3f} |"
        )
    print()
    missed = [
        f"{v.id} ({statistics.fmean(run[i] for run in runs['article']):.2f})"
        for i, v in enumerate(vectors)
        if v.positive and not first[i]
    ]
    wrong = [
        f"{v.id} ({v.kind}, {runs['article'][0][i]:.2f})"
        for i, v in enumerate(vectors)
        if not v.positive and first[i]
    ]
    print("Missed out of fold (mean OOF score): " + (", ".join(missed) or "none") + ".")
    print("False positives out of fold: " + (", ".join(wrong) or "none") + ".\n")
    if not (aeb / "ground-truth.json").is_file():
        print(f"AEB pages: not found at {aeb}.\n")
        return
    pages = aeb_documents(aeb)
    new_scores = [shipped.match(d).score for d in pages]
    old_scores = [legacy.match(d).score for d in pages]
    print(f"AEB: {len(pages)} pages with article text (whole pages).\n")
    print("| score | false positives | highest score |\n| --- | --- | --- |")
    print(
        f"| old (threshold {LEGACY_THRESHOLD}) | {sum(s >= LEGACY_THRESHOLD for s in old_scores)}"
        f" | {max(old_scores):.3f} |"
    )
    print(
        f"| learned, shipped weights (threshold {MATCH_THRESHOLD}) "
        f"| {sum(s >= MATCH_THRESHOLD for s in new_scores)} | {max(new_scores):.3f} |"
    )
    print()


# --- part 2: spinning on the project's own texts ----------------------------------------------


def own_texts() -> tuple[list[tuple[str, Document]], list[str]]:
    """(label, document) for the seeds and the demo pages with article text, one per original."""
    found: list[tuple[str, Document]] = []
    for path in sorted((REPO / "seeds").glob("*.txt")):
        found.append((f"seed:{path.stem}", from_text(path.read_text(encoding="utf-8"))))
    for path in sorted(DEMO_SITES.glob("*/**/*.html")):
        site = path.relative_to(DEMO_SITES).parts[0]
        base = f"http://{site}.demo"
        url = base + "/" + path.relative_to(DEMO_SITES / site).as_posix()
        html = path.read_text(encoding="utf-8").replace("__BASE_URL__", base)
        outcome = extract_html(html, url)
        if outcome.document is not None:
            found.append((url, outcome.document))
    hasher = MinHasher()
    kept: list[tuple[str, Document]] = []
    signatures: list[Signature] = []
    dropped: list[str] = []
    for label, document in found:
        if len(document.text.split()) < MIN_TEXT_WORDS:
            dropped.append(f"{label} (under {MIN_TEXT_WORDS} words)")
            continue
        signature = hasher.sign(document.text)
        near = [
            (similarity(signature, other), kept[i][0])
            for i, other in enumerate(signatures)
            if similarity(signature, other) >= NEAR_THRESHOLD
        ]
        if near:
            sim, of = max(near)
            dropped.append(f"{label} (near-duplicate of {of}, {sim:.2f})")
            continue
        kept.append((label, document))
        signatures.append(signature)
    return kept, dropped


def substitute(document: Document, rate: float, pool: list[str], rng: random.Random) -> Document:
    words = [block.text.split() for block in document.blocks]
    positions = [(b, w) for b, block in enumerate(words) for w in range(len(block))]
    for b, w in rng.sample(positions, round(rate * len(positions))):
        words[b][w] = rng.choice(pool)
    blocks = tuple(
        Block(block.kind, " ".join(new)) for block, new in zip(document.blocks, words, strict=True)
    )
    return Document(blocks=blocks)


def reorder(document: Document, rng: random.Random) -> Document:
    slots = [i for i, block in enumerate(document.blocks) if block.kind == "paragraph"]
    moved = slots[:]
    while len(slots) > 1 and moved == slots:
        rng.shuffle(moved)
    blocks = list(document.blocks)
    for slot, source in zip(slots, moved, strict=True):
        blocks[slot] = document.blocks[source]
    return Document(blocks=tuple(blocks))


def exact_jaccard(a: str, b: str, shingle: int) -> float:
    """The true Jaccard similarity of the two texts' word shingle sets (what MinHash estimates)."""
    wa, wb = tokens(a), tokens(b)
    sa = {tuple(wa[i : i + shingle]) for i in range(len(wa) - shingle + 1)}
    sb = {tuple(wb[i : i + shingle]) for i in range(len(wb) - shingle + 1)}
    return len(sa & sb) / max(len(sa | sb), 1)


def spinning(
    texts: list[tuple[str, Document]], shingle: int
) -> dict[str, tuple[int, int, float, float, float]]:
    """Level -> (found, variants, median estimated similarity to the original, lowest and median
    exact Jaccard)."""
    hasher = MinHasher(shingle=shingle)
    deduper = Deduper({}, hasher=hasher)
    for label, document in texts:
        deduper.remember(label, document.text, hasher.sign(document.text))
    levels: dict[str, list[tuple[bool, float, float]]] = {}
    for index, (label, document) in enumerate(texts):
        pool = sorted(
            {w for other, doc in texts if other != label for w in doc.text.split() if w.isalpha()}
        )
        original = hasher.sign(document.text)
        for trial in range(TRIALS):
            rng = random.Random(SEED + 1000 * index + trial)
            variants = {
                f"{round(r * 100)}% words": substitute(document, r, pool, rng) for r in RATES
            }
            variants["paragraphs reordered"] = reorder(document, rng)
            variants["reordered + 20% words"] = substitute(reorder(document, rng), 0.20, pool, rng)
            for level, spun in variants.items():
                result = deduper.analyze(spun)
                sim = similarity(original, result.signature)
                exact = exact_jaccard(document.text, spun.text, shingle)
                levels.setdefault(level, []).append((result.near.of == label, sim, exact))
    return {
        level: (
            sum(hit for hit, _, _ in got),
            len(got),
            statistics.median(s for _, s, _ in got),
            min(e for _, _, e in got),
            statistics.median(e for _, _, e in got),
        )
        for level, got in levels.items()
    }


def false_near(texts: list[tuple[str, Document]], shingle: int) -> tuple[int, float]:
    """Originals with a match above the threshold in an index of the other originals only."""
    hasher = MinHasher(shingle=shingle)
    signed = [(label, doc, hasher.sign(doc.text)) for label, doc in texts]
    false = 0
    highest = 0.0
    for label, document, signature in signed:
        deduper = Deduper({}, hasher=hasher)
        for other, doc, sig in signed:
            if other != label:
                deduper.remember(other, doc.text, sig)
                highest = max(highest, similarity(signature, sig))
        false += deduper.analyze(document).near.of is not None
    return false, highest


def report_spinning() -> None:
    texts, dropped = own_texts()
    print("## Near-duplicates under spinning (the project's own texts)\n")
    seeds = sum(label.startswith("seed:") for label, _ in texts)
    words = [len(doc.text.split()) for _, doc in texts]
    print(
        f"{len(texts)} originals ({seeds} seeds, {len(texts) - seeds} demo pages;"
        f" {min(words)}-{max(words)} words, median {statistics.median(words):.0f});"
        f" {TRIALS} variants per original and level; near threshold {NEAR_THRESHOLD}."
    )
    print("\n| left out | why |\n| --- | --- |")
    for entry in dropped:
        label, why = entry.split(" (", 1)
        print(f"| {label} | {why.removesuffix(')')} |")
    print()
    results = {k: spinning(texts, k) for k in (2, 5)}
    print(
        "| variant | recall, the engine (word pairs 1-3 apart) | median similarity (estimated) "
        "| exact Jaccard of the contiguous 2-shingles, lowest / median | recall, 5-shingles |"
    )
    print("| --- | --- | --- | --- | --- |")
    for level, (hit, total, sim, low, mid) in results[2].items():
        hit5, total5 = results[5][level][:2]
        print(
            f"| {level} | {hit}/{total} = {hit / total:.3f} | {sim:.2f} | {low:.2f} / {mid:.2f}"
            f" | {hit5}/{total5} = {hit5 / total5:.3f} |"
        )
    print()
    print(
        "| false near-duplicates (original vs. index of the others) | the engine (word pairs)"
        " | 5-shingles |"
    )
    print("| --- | --- | --- |")
    (f2, h2), (f5, h5) = false_near(texts, 2), false_near(texts, 5)
    n = len(texts)
    print(f"| rate | {f2}/{n} = {f2 / n:.3f} | {f5}/{n} = {f5 / n:.3f} |")
    print(f"| highest similarity between two originals | {h2:.2f} | {h5:.2f} |")
    print()


# --- part 2b: spinning, the signature candidates side by side (issue 11) ----------------------


@dataclass(frozen=True)
class Candidate:
    """A signature and index configuration, run as the engine runs it (LSH candidates, then the
    estimated similarity against the threshold)."""

    name: str
    threshold: float
    sign: Any  # str -> signature
    index: Any  # () -> an empty index with add(id, sig) and query(sig, threshold, limit)
    sim: Any  # (sig, sig) -> estimated similarity


def spin_candidates() -> list[Candidate]:
    legacy = LegacyHasher(64, 2)
    out = [
        Candidate(
            "today: 64 x 32-bit, 2-shingles, 32 bands x 2",
            0.3,
            legacy.sign,
            lambda: LegacyIndex(64, 32),
            legacy_similarity,
        )
    ]
    for skip, label in ((0, "2-shingles"), (2, "word pairs 1-3 apart")):
        hasher = MinHasher(128, 2, skip=skip)
        for threshold in (0.15, 0.17, 0.2):
            out.append(
                Candidate(
                    f"128 x 16-bit, {label}, 64 bands x 2, threshold {threshold}",
                    threshold,
                    hasher.sign,
                    lambda: LSHIndex(128, 64),
                    similarity,
                )
            )
    return out


def reorder_sentences(document: Document, rng: random.Random) -> Document:
    """Every paragraph's sentences shuffled."""
    blocks = []
    for block in document.blocks:
        if block.kind == "paragraph":
            parts = re.split(r"(?<=[.!?])\s+", block.text)
            rng.shuffle(parts)
            block = Block(block.kind, " ".join(parts))
        blocks.append(block)
    return Document(blocks=tuple(blocks))


def insert_links(document: Document, rate: float, pool: list[str], rng: random.Random) -> Document:
    """Keyword links of 2-3 words from ``pool`` inserted at random places, adding about ``rate``
    of the text's word count."""
    words = [block.text.split() for block in document.blocks]
    total = sum(map(len, words))
    for _ in range(max(1, round(rate * total / 2.5))):
        b = rng.randrange(len(words))
        at = rng.randrange(len(words[b]) + 1)
        words[b][at:at] = [rng.choice(pool) for _ in range(rng.choice((2, 3)))]
    blocks = tuple(
        Block(block.kind, " ".join(new)) for block, new in zip(document.blocks, words, strict=True)
    )
    return Document(blocks=blocks)


def spun_variants(document: Document, pool: list[str], rng: random.Random) -> dict[str, Document]:
    variants = {f"{r}% words": substitute(document, r / 100, pool, rng) for r in (20, 30, 40)}
    variants["sentences and paragraphs reordered + 30%"] = substitute(
        reorder_sentences(reorder(document, rng), rng), 0.30, pool, rng
    )
    variants["keyword links (+10% words) + 30%"] = substitute(
        insert_links(document, 0.10, pool, rng), 0.30, pool, rng
    )
    variants["all three, 40%"] = insert_links(
        substitute(reorder_sentences(reorder(document, rng), rng), 0.40, pool, rng),
        0.10,
        pool,
        rng,
    )
    return variants


def family_texts(path: Path) -> list[str]:
    """The same-template rows of the development split (read in place, never stored)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            if raw["label"] == "same_template" and not raw.get("near_dup_of_seed"):
                out.append(from_text(raw["text"]).text)
    return out


def nearest(candidate: Candidate, index: Any, signature: Any, exclude: int) -> tuple[int, float]:
    for key, sim in index.query(signature, candidate.threshold, limit=8):
        if key != exclude:
            return key, sim
    return -1, 0.0


def report_spin_candidates(path: Path) -> None:
    texts, _ = own_texts()
    family = family_texts(path) + [doc.text for label, doc in texts if label.startswith("seed:")]
    candidates = spin_candidates()
    hits: dict[str, dict[str, list[bool]]] = {c.name: {} for c in candidates}
    draws: list[tuple[int, str, Document]] = []
    for index, (label, document) in enumerate(texts):
        pool = sorted(
            {w for other, doc in texts if other != label for w in doc.text.split() if w.isalpha()}
        )
        for trial in range(TRIALS):
            rng = random.Random(SEED + 1000 * index + trial)
            for level, spun in spun_variants(document, pool, rng).items():
                draws.append((index, level, spun))
    false_own: dict[str, int] = {}
    false_family: dict[str, int] = {}
    highest: dict[str, float] = {}
    for candidate in candidates:
        signed = [candidate.sign(doc.text) for _, doc in texts]
        index = candidate.index()
        for i, signature in enumerate(signed):
            index.add(i, signature)
        for source, level, spun in draws:
            found, _ = nearest(candidate, index, candidate.sign(spun.text), -1)
            hits[candidate.name].setdefault(level, []).append(found == source)
        false_own[candidate.name] = sum(
            nearest(candidate, index, sig, i)[0] >= 0 for i, sig in enumerate(signed)
        )
        fam = [candidate.sign(text) for text in family]
        fam_index = candidate.index()
        for i, signature in enumerate(fam):
            fam_index.add(i, signature)
        false_family[candidate.name] = sum(
            nearest(candidate, fam_index, sig, i)[0] >= 0 for i, sig in enumerate(fam)
        )
        highest[candidate.name] = max(
            candidate.sim(a, b) for i, a in enumerate(fam) for b in fam[i + 1 :]
        )
    levels = list(next(iter(hits.values())))
    print("## Spinning: the signature candidates side by side (issue 11)\n")
    print(
        f"{len(texts)} originals, {TRIALS} draws per original and variant, the same draws for"
        f" every candidate; {len(family)} articles of one template family (the seeds and the"
        f" development split's same-template rows) for the false near-duplicates.\n"
    )
    print(
        "| candidate | " + " | ".join(levels) + " | false, originals | false, one family "
        "| highest estimate in the family |"
    )
    print("| --- " * (len(levels) + 4) + "|")
    for candidate in candidates:
        cells = [
            f"{sum(got)}/{len(got)} = {sum(got) / len(got):.3f}"
            for got in hits[candidate.name].values()
        ]
        pairs = len(family)
        print(
            f"| {candidate.name} | " + " | ".join(cells) + f" | {false_own[candidate.name]}/"
            f"{len(texts)} | {false_family[candidate.name]}/{pairs} |"
            f" {highest[candidate.name]:.2f} |"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=EVAL / "articles_dev.jsonl")
    parser.add_argument("--aeb", type=Path, default=AEB, help="AEB data folder")
    parser.add_argument("--templates-only", action="store_true", help="skip the spinning part")
    parser.add_argument(
        "--spinning-only", action="store_true", help="only the spinning parts (2 and 2b)"
    )
    args = parser.parse_args()
    if args.spinning_only:
        report_spinning()
        report_spin_candidates(args.eval)
        return
    deduper = Deduper(load_families([REPO / "seeds"]))
    report_templates(analyse_rows(args.eval, deduper))
    report_cross_validated(args.eval, args.aeb)
    if args.templates_only:
        return
    report_spinning()
    report_spin_candidates(args.eval)


if __name__ == "__main__":
    main()
