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
all the others. Word 5-shingles are shown next to the engine's 2-shingles for comparison.

Run: ``python bench/dedup_quality.py`` (about ten seconds). Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.document import Block, Document, from_text
from pipeline.dedup.engine import NEAR_THRESHOLD, Deduper
from pipeline.dedup.minhash import MinHasher, Signature, similarity
from pipeline.dedup.seeds import load_families
from pipeline.extract import extract_html

REPO = Path(__file__).resolve().parents[1]
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
DEMO_SITES = REPO / "crawler" / "demo" / "sites"
SEED = 20261122
RATES = (0.05, 0.10, 0.20, 0.30)
TRIALS = 3  # variants per text and level (different random draws)
MIN_TEXT_WORDS = 100
VERBATIM = 0.9
MUST_BE_CLEAN = ("medical_authority", "news", "vendor")


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
    print("## Template families on articles_dev.jsonl\n")
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


def spinning(texts: list[tuple[str, Document]], shingle: int) -> dict[str, tuple[int, int, float]]:
    """Level -> (found, variants, median similarity to the original)."""
    hasher = MinHasher(shingle=shingle)
    deduper = Deduper({}, hasher=hasher)
    for label, document in texts:
        deduper.remember(label, document.text, hasher.sign(document.text))
    levels: dict[str, list[tuple[bool, float]]] = {}
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
                levels.setdefault(level, []).append((result.near.of == label, sim))
    return {
        level: (sum(hit for hit, _ in got), len(got), statistics.median(s for _, s in got))
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
    print("| variant | recall, 2-shingles (engine) | median similarity | recall, 5-shingles |")
    print("| --- | --- | --- | --- |")
    for level, (hit, total, sim) in results[2].items():
        hit5, total5, _ = results[5][level]
        print(
            f"| {level} | {hit}/{total} = {hit / total:.3f} | {sim:.2f}"
            f" | {hit5}/{total5} = {hit5 / total5:.3f} |"
        )
    print()
    print("| false near-duplicates (original vs. index of the others) | 2-shingles | 5-shingles |")
    print("| --- | --- | --- |")
    (f2, h2), (f5, h5) = false_near(texts, 2), false_near(texts, 5)
    n = len(texts)
    print(f"| rate | {f2}/{n} = {f2 / n:.3f} | {f5}/{n} = {f5 / n:.3f} |")
    print(f"| highest similarity between two originals | {h2:.2f} | {h5:.2f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=EVAL / "articles_dev.jsonl")
    args = parser.parse_args()
    deduper = Deduper(load_families([REPO / "seeds"]))
    report_templates(analyse_rows(args.eval, deduper))
    report_spinning()


if __name__ == "__main__":
    main()
