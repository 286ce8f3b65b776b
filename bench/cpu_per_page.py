"""CPU per page of the extraction options and of the stored-HTML compression, side by side.

On the 181 AEB pages (read in place, as ``extraction_quality.py`` does), in one process:

* extraction: ``extract_html`` as the pipeline calls it (the structural fast path first,
  :mod:`pipeline.fastextract`), without the fast path (``structural=False``), plain
  ``trafilatura.extract`` (as ``extraction_quality.py`` calls it), and ``extract_html`` with trafilatura's ``fast=True``, with
  ``favor_precision`` or ``favor_recall`` (alone and with ``fast``), with htmldate's extensive
  (free-text) date search off, and with a date given by the sitemap or
  feed (no date search: the AEB pages come without one, so a fixed date stands in; its F1 is the
  default's, as the date is not text); each with its AEB F1 (``ws`` and
  ``aeb``, the metrics of ``extraction_quality.py``) and its pages without text. The variants run
  interleaved, page by page, in a rotating order, so machine load falls on all of them alike.
* the stages around extraction (dedup with and without a given signature, the signing alone,
  scoring) and the crawl process's side of a worker round trip, for the pipeline with extraction
  alone in the workers and with signing and scoring there too (:mod:`pipeline.page_work`);
* compression of the raw HTML (the store's ``raw_html_gz``): gzip level 6 (the old setting), gzip
  level 1, zlib level 1 and zstd level 3 where ``backports.zstd`` or ``compression.zstd`` is
  importable; CPU µs per page and the stored size.

Times are process CPU (``time.process_time``), reported as means and medians and as ratios to the
first row. ``--against REV`` adds, as the first row, ``extract_html`` as ``pipeline/extract.py`` was
at that git revision (to compare a change with what it replaces, in the same run); ``--variants N``
runs only the first N variants and skips the stages and compressions.
"""

from __future__ import annotations

import argparse
import gzip
import json
import pickle
import statistics
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.extraction_quality import DEFAULT_AEB, Page, load_pages, score, summarise
from pipeline.extract import extract_html

Extractor = Callable[[Page], str | None]


def _variant(**options: Any) -> Extractor:
    def extract(page: Page) -> str | None:
        document = extract_html(page.html, page.url, min_chars=0, **options).document
        return None if document is None else "\n".join(b.text for b in document.blocks)

    return extract


def _plain_trafilatura(page: Page) -> str | None:
    import trafilatura

    return trafilatura.extract(page.html, url=page.url)


VARIANTS: dict[str, Extractor] = {
    "default": _variant(),
    "structural=False (trafilatura on every page)": _variant(structural=False),
    "trafilatura.extract (plain)": _plain_trafilatura,
    "fast=True": _variant(fast=True),
    "favor_precision": _variant(favor_precision=True),
    "favor_recall": _variant(favor_recall=True),
    "fast + favor_precision": _variant(fast=True, favor_precision=True),
    "fast + favor_recall": _variant(fast=True, favor_recall=True),
    "extensive_dates=False": _variant(extensive_dates=False),
    "date given by the listing": _variant(listed="2026-11-30"),
}


def extractor_at(rev: str) -> Extractor:
    """``extract_html`` as ``pipeline/extract.py`` was at git revision ``rev`` (the rest of the
    code as it is now), to compare a change with what it replaces in one run."""
    import importlib.util
    import subprocess
    import sys
    import tempfile

    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{rev}:pipeline/extract.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="extract-at-"))
    path = folder / "extract_at_rev.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("extract_at_rev", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["extract_at_rev"] = module
    spec.loader.exec_module(module)

    def extract(page: Page) -> str | None:
        document = module.extract_html(page.html, page.url, min_chars=0).document
        return None if document is None else "\n".join(b.text for b in document.blocks)

    return extract


def stage_split(pages: list[Page]) -> dict[str, float]:
    """CPU ms per page of the stages around extraction, and of the crawl process's side of a
    worker round trip (pickling the call, unpickling the answer), as the pipeline runs them
    with the extraction alone in a worker (``before``) and with extraction, dedup signing and
    scoring there (``after``, :mod:`pipeline.page_work`). Interleaved page by page."""
    from pipeline.claims import default_rules, score_document
    from pipeline.claims.learned import default_model
    from pipeline.dedup.pipeline import build_deduper
    from pipeline.page_work import PageWork, Scoring

    seeds = Path(__file__).resolve().parents[1] / "seeds"
    deduper = build_deduper([seeds], 0.3, 0.5)
    rules, model = default_rules(), default_model()
    parts: dict[str, list[float]] = {
        k: []
        for k in (
            "sign",
            "dedup, signing included",
            "dedup, signature given",
            "score",
            "round trip, extraction only",
            "round trip, page work",
        )
    }

    def timed(name: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        out = call(*args, **kwargs)
        parts[name].append(time.process_time() - start)
        return out

    def round_trip(call: tuple[Any, ...], answer: bytes) -> None:
        pickle.loads(answer)
        pickle.dumps(call)

    for page in pages:
        extraction = extract_html(page.html, page.url, min_chars=0)
        doc = extraction.document
        if doc is None:
            continue
        signature = timed("sign", deduper.hasher.sign, doc.text)
        timed("dedup, signing included", deduper.analyze, doc)
        timed("dedup, signature given", deduper.analyze, doc, signature=signature)
        score = timed("score", score_document, doc, rules, model)
        call = (page.html, page.url, 400, None)
        before = pickle.dumps(extraction)
        after = pickle.dumps(PageWork(extraction, signature, score))
        timed("round trip, extraction only", round_trip, call, before)
        timed("round trip, page work", round_trip, (*call, Scoring()), after)
    return {name: 1000 * statistics.fmean(values) for name, values in parts.items()}


def _compressors() -> dict[str, Callable[[bytes], bytes]]:
    found: dict[str, Callable[[bytes], bytes]] = {
        "gzip 6": lambda b: gzip.compress(b, compresslevel=6, mtime=0),
        "gzip 1": lambda b: gzip.compress(b, compresslevel=1, mtime=0),
        "zlib 1": lambda b: zlib.compress(b, 1),
    }
    try:
        from backports import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        try:
            from compression import zstd  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:
            zstd = None
    if zstd is not None:
        found["zstd 3"] = lambda b: zstd.compress(b, level=3)
        found["zstd 1"] = lambda b: zstd.compress(b, level=1)
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aeb", type=Path, default=DEFAULT_AEB)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--variants", type=int, help="only the first N extraction variants (and no stages)"
    )
    parser.add_argument(
        "--against", metavar="REV", help="also run extract_html as pipeline/extract.py was at REV"
    )
    args = parser.parse_args(argv)
    pages = load_pages(args.aeb)
    variants = dict(VARIANTS)
    names = list(VARIANTS)[: args.variants]
    if args.against:
        name = f"extract_html at {args.against}"
        variants[name] = extractor_at(args.against)
        names.insert(0, name)
    for name in names:  # warm imports and lazy tables
        variants[name](pages[0])
    preds: dict[str, list[str | None]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for i, page in enumerate(pages):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            start = time.process_time()
            preds[name].append(variants[name](page))
            cpu[name].append(time.process_time() - start)

    results: dict[str, object] = {}
    base = sum(cpu[names[0]])
    print(f"AEB pages: {len(pages)}\n")
    print(f"| extraction | ws F1 | aeb F1 | no text | CPU ms/page (mean / median) | ÷ {names[0]} |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        empty = sum(1 for p in preds[name] if not p)
        f1 = {
            v: summarise(
                [score(pg.truth, pr, v) for pg, pr in zip(pages, preds[name], strict=True)], empty
            ).f1
            for v in ("ws", "aeb")
        }
        mean = statistics.fmean(cpu[name]) * 1000
        median = statistics.median(cpu[name]) * 1000
        ratio = sum(cpu[name]) / base
        results[name] = {"ws": f1["ws"], "aeb": f1["aeb"], "no_text": empty, "cpu_ms": mean}
        print(
            f"| {name} | {f1['ws']:.3f} | {f1['aeb']:.3f} | {empty} "
            f"| {mean:.1f} / {median:.1f} | {ratio:.2f} |"
        )

    from pipeline.fastextract import structural_blocks

    fast = [structural_blocks(page.html) is not None for page in pages]
    results["fast_path_pages"] = sum(fast)
    print(f"\nstructural fast path: {sum(fast)} of {len(pages)} pages, trafilatura on the rest")
    for label, taken in (("fast-path pages", True), ("the other pages", False)):
        rows = [i for i, f in enumerate(fast) if f is taken]
        for name in names[:3]:
            f1 = summarise([score(pages[i].truth, preds[name][i], "ws") for i in rows], 0).f1
            ms = statistics.fmean(cpu[name][i] for i in rows) * 1000 if rows else 0.0
            print(f"  {label} ({len(rows)}), {name}: ws F1 {f1:.3f}, CPU {ms:.1f} ms/page")
    if args.variants:
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        return

    split = stage_split(pages)
    results["stages"] = split
    crawl_before = (
        split["round trip, extraction only"] + split["dedup, signing included"] + split["score"]
    )
    crawl_after = split["round trip, page work"] + split["dedup, signature given"]
    print("\n| stage (CPU ms/page, mean over the pages with text) | ms |")
    print("|---|---:|")
    for name, value in split.items():
        print(f"| {name} | {value:.2f} |")
    print(
        f"\ncrawl process per page, extraction alone in the workers: {crawl_before:.2f} ms; "
        f"with signing and scoring there too: {crawl_after:.2f} ms "
        f"({crawl_after / max(crawl_before, 1e-9):.2f}×); moved to the workers: "
        f"{split['sign'] + split['score']:.2f} ms"
    )

    bodies = [page.html.encode("utf-8") for page in pages]
    compressors = _compressors()
    ctimes: dict[str, list[float]] = {n: [] for n in compressors}
    sizes: dict[str, int] = dict.fromkeys(compressors, 0)
    cnames = list(compressors)
    for _ in range(5):
        for i, body in enumerate(bodies):
            order = cnames[i % len(cnames) :] + cnames[: i % len(cnames)]
            for name in order:
                start = time.perf_counter()
                out = compressors[name](body)
                ctimes[name].append(time.perf_counter() - start)
                sizes[name] += len(out)
    raw = sum(len(b) for b in bodies) * 5
    cbase = sum(ctimes[cnames[0]])
    print("\n| raw HTML compression | µs/page (mean) | ÷ gzip 6 | stored size ÷ raw |")
    print("|---|---:|---:|---:|")
    for name in cnames:
        mean = statistics.fmean(ctimes[name]) * 1e6
        results[f"compress {name}"] = {"us": mean, "size_ratio": sizes[name] / raw}
        print(
            f"| {name} | {mean:.0f} | {sum(ctimes[name]) / cbase:.2f} | {sizes[name] / raw:.3f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
