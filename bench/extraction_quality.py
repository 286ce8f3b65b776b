"""Extraction quality on the Article Extraction Benchmark (AEB) pages: ours vs plain trafilatura.

For each of the 181 pages, ``pipeline.extract.extract_html(html, url)`` (``min_chars=0``) gives the
blocks (also with ``structural=False``: trafilatura on every page, no fast path); the predicted text is the blocks' texts joined by newlines. ``trafilatura.extract(html,
url=url)`` (default settings, text output) runs on the same decoded HTML, in the same process.

Both are scored against ``articleBody`` with word 4-gram shingle multisets (a ``Counter`` of tuples
of 4 consecutive tokens; the overlap is the multiset intersection). Per document, precision is
``|overlap| / |predicted shingles|`` and recall is ``|overlap| / |truth shingles|``; both are
averaged over documents and F1 is the harmonic mean of the two averages. Two variants are printed:

``ws``   whitespace tokens, lowercased; a page with no prediction counts as precision 0, recall 0.
``aeb``  exactly as the published benchmark's ``evaluate.py``: ``\\w+`` tokens, case kept (a text of
         fewer than 4 tokens is one short shingle); a page with no prediction is left out of the
         precision average and counts as recall 0.

The AEB data (``shared/eval/aeb``, next to the repository) is read in place; nothing of it is
written anywhere. ``--worst N`` lists the pages where ours loses most against trafilatura, by URL.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import trafilatura

from pipeline.extract import extract_html
from pipeline.fastextract import structural_blocks

DEFAULT_AEB = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aeb"
NGRAM = 4
_WORD = re.compile(r"\w+")

Shingles = Counter[tuple[str, ...]]


def ws_tokens(text: str) -> list[str]:
    return text.lower().split()


def aeb_tokens(text: str) -> list[str]:
    return _WORD.findall(text)


def shingles(tokens: list[str], n: int = NGRAM, short_ok: bool = False) -> Shingles:
    """Multiset of n-grams; with ``short_ok`` a text of 1..n-1 tokens is one short shingle (AEB)."""
    if short_ok and 0 < len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True, slots=True)
class Score:
    precision: float | None  # None: no predicted shingles (left out of the AEB precision mean)
    recall: float | None  # None: no truth shingles (left out of both recall means)


def score(truth: str, pred: str | None, variant: str) -> Score:
    tokens = aeb_tokens if variant == "aeb" else ws_tokens
    short_ok = variant == "aeb"
    t = shingles(tokens(truth), short_ok=short_ok)
    p = shingles(tokens(pred or ""), short_ok=short_ok)
    overlap = sum((t & p).values())
    n_t, n_p = sum(t.values()), sum(p.values())
    precision = overlap / n_p if n_p else (None if variant == "aeb" else 0.0)
    recall = overlap / n_t if n_t else None
    return Score(precision, recall)


@dataclass
class Summary:
    precision: float
    recall: float
    f1: float
    empty: int


def summarise(scores: list[Score], empty: int) -> Summary:
    ps = [s.precision for s in scores if s.precision is not None]
    rs = [s.recall for s in scores if s.recall is not None]
    p = statistics.fmean(ps) if ps else 0.0
    r = statistics.fmean(rs) if rs else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Summary(p, r, f1, empty)


@dataclass
class Page:
    sha: str
    url: str
    html: str
    truth: str


def load_pages(aeb: Path) -> list[Page]:
    truth = json.loads((aeb / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for sha, entry in sorted(truth.items()):
        raw = gzip.decompress((aeb / "html" / f"{sha}.html.gz").read_bytes())
        # The published benchmark reads every page as UTF-8; all 181 decode cleanly.
        html = raw.decode("utf-8", errors="replace")
        pages.append(Page(sha, entry["url"], html, entry.get("articleBody") or ""))
    return pages


def ours(page: Page) -> str | None:
    document = extract_html(page.html, page.url, min_chars=0).document
    if document is None:
        return None
    return "\n".join(block.text for block in document.blocks)


def ours_without_fast_path(page: Page) -> str | None:
    document = extract_html(page.html, page.url, min_chars=0, structural=False).document
    if document is None:
        return None
    return "\n".join(block.text for block in document.blocks)


def library(page: Page) -> str | None:
    return trafilatura.extract(page.html, url=page.url)


@dataclass
class Run:
    name: str
    predictions: list[str | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def run(name: str, extractor: Callable[[Page], str | None], pages: Iterable[Page]) -> Run:
    result = Run(name)
    for page in pages:
        start = time.perf_counter()
        result.predictions.append(extractor(page))
        result.seconds.append(time.perf_counter() - start)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aeb", type=Path, default=DEFAULT_AEB, help="AEB data folder")
    parser.add_argument("--worst", type=int, default=10, help="list the N biggest losses (0: none)")
    parser.add_argument("--json", type=Path, help="also write the figures (no page text) here")
    args = parser.parse_args(argv)

    pages = load_pages(args.aeb)
    # Warm both code paths (imports, lazy tables) so the first page does not carry them.
    ours(pages[0])
    library(pages[0])
    runs = [
        run("claimwatch extract_html", ours, pages),
        run("trafilatura.extract", library, pages),
        run("extract_html, structural=False", ours_without_fast_path, pages),
    ]
    taken = sum(1 for page in pages if structural_blocks(page.html) is not None)

    results: dict[str, dict[str, object]] = {}
    print(f"AEB pages: {len(pages)}  ({args.aeb})\n")
    print("| extractor | metric | precision | recall | F1 | no text | ms/page (median / mean) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    per_doc: dict[tuple[str, str], list[Score]] = {}
    for r in runs:
        empty = sum(1 for p in r.predictions if not p)
        ms_median = statistics.median(r.seconds) * 1000
        ms_mean = statistics.fmean(r.seconds) * 1000
        results[r.name] = {"ms_median": ms_median, "ms_mean": ms_mean, "no_text": empty}
        for variant in ("ws", "aeb"):
            scores = [
                score(page.truth, pred, variant)
                for page, pred in zip(pages, r.predictions, strict=True)
            ]
            per_doc[(r.name, variant)] = scores
            s = summarise(scores, empty)
            results[r.name][variant] = {"precision": s.precision, "recall": s.recall, "f1": s.f1}
            print(
                f"| {r.name} | {variant} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} "
                f"| {empty} | {ms_median:.1f} / {ms_mean:.1f} |"
            )

    print(f"\nstructural fast path: {taken} of {len(pages)} pages, trafilatura on the rest")
    results["fast_path_pages"] = {"count": taken}

    if args.worst:
        a, b = per_doc[(runs[0].name, "ws")], per_doc[(runs[1].name, "ws")]

        def f1(s: Score) -> float:
            p, r = s.precision or 0.0, s.recall or 0.0
            return 2 * p * r / (p + r) if p + r else 0.0

        losses = sorted(
            ((f1(y) - f1(x), i) for i, (x, y) in enumerate(zip(a, b, strict=True))), reverse=True
        )
        print(f"\nBiggest losses of ours vs trafilatura (ws metric, top {args.worst}):\n")
        print("| F1 loss | ours P / R | trafilatura P / R | page |")
        print("|---:|---|---|---|")
        for loss, i in losses[: args.worst]:
            if loss <= 0:
                break
            x, y = a[i], b[i]
            print(
                f"| {loss:.3f} | {x.precision or 0:.2f} / {x.recall or 0:.2f} "
                f"| {y.precision or 0:.2f} / {y.recall or 0:.2f} | {pages[i].sha[:12]} "
                f"{pages[i].url} |"
            )
        better = sum(1 for x, y in zip(a, b, strict=True) if f1(x) > f1(y) + 1e-9)
        worse = sum(1 for x, y in zip(a, b, strict=True) if f1(x) < f1(y) - 1e-9)
        print(f"\nPer page (ws F1): ours better on {better}, worse on {worse}, equal on the rest.")

    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
