"""What keeping versions and WARC records costs the store, side by side in one process.

On the 181 AEB pages (read in place from ``../shared/eval/aeb/``, as ``extraction_quality.py``
does; extracted and scored once, before any timing), each round stores them into a fresh SQLite
database in batches of 20 (``crawl.batch_size``), through :func:`pipeline.store.store_batch`, the
path the crawl's writer thread takes:

* ``first``: every page new (each adds its first version);
* ``unchanged``: the same pages again (no version added);
* ``changed``: every text changed (each keeps a second version);

each once without WARC and once with WARC (the batch's records written and synced to disk first,
as :class:`pipeline.store.StorePipeline` does), alternating which goes first. Reported: the
median wall and CPU time per page over the rounds, the ratios with WARC ÷ without, the
database size and the WARC bytes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.extraction_quality import DEFAULT_AEB, load_pages
from core.db import make_engine, session_factory, upgrade
from core.document import from_text
from pipeline.claims import default_rules
from pipeline.claims.article import score_document
from pipeline.extract import extract_html
from pipeline.items import PageItem
from pipeline.runs import SourceSpec, open_runs
from pipeline.store import run_ids, store_batch
from pipeline.warc import WarcArchive

BATCH = 20
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def items(aeb: Path) -> list[PageItem]:
    rules = default_rules()
    out = []
    for page in load_pages(aeb):
        document = extract_html(page.html, page.url, min_chars=0).document
        if document is None:
            continue
        body = page.html.encode("utf-8")
        item = PageItem(
            source="aeb",
            run_group="g",
            url=page.url,
            request_url=page.url,
            status=200,
            fetched_at=T0,
            body=body,
            html=page.html,
            protocol="HTTP/1.1",
            request_headers=(("User-Agent", "claimwatch-bench"),),
            response_headers=(("Content-Type", "text/html; charset=utf-8"),),
        )
        item.document = document
        item.score = score_document(document, rules)
        out.append(item)
    return out


def changed(item: PageItem) -> PageItem:
    assert item.document is not None
    text = item.document.text + "\nThis page was edited after our letter."
    new = replace(item, fetched_at=T0 + timedelta(days=1))
    new.document = from_text(text, url=item.document.canonical_url or item.url)
    new.score = score_document(new.document, default_rules())
    return new


def run(
    pages: list[PageItem], edited: list[PageItem], folder: Path, warc: bool
) -> dict[str, float]:
    db = folder / "bench.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        open_runs(session, [SourceSpec("aeb", "sitemap", ["https://aeb.example/"])], "g", None)
    with sessions() as session:
        ids = run_ids(session, "g")
    archive = WarcArchive(folder / "warc") if warc else None
    times: dict[str, float] = {}
    for name, batch_items in (("first", pages), ("unchanged", pages), ("changed", edited)):
        start, cpu = time.perf_counter(), time.process_time()
        for at in range(0, len(batch_items), BATCH):
            batch = batch_items[at : at + BATCH]
            refs = archive.write_all(batch) if archive is not None else None
            with sessions() as session:
                store_batch(session, batch, ids, warc=refs)
        times[name] = (time.perf_counter() - start) / len(batch_items) * 1000
        times[name + "_cpu"] = (time.process_time() - cpu) / len(batch_items) * 1000
    if archive is not None:
        archive.close()
    engine.dispose()
    times["db_mib"] = db.stat().st_size / 2**20
    times["warc_mib"] = (
        sum(p.stat().st_size for p in (folder / "warc").glob("*")) / 2**20 if warc else 0.0
    )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--aeb", type=Path, default=DEFAULT_AEB)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pages = items(args.aeb)
    edited = [changed(p) for p in pages]
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for round_ in range(args.rounds):
        order = (False, True) if round_ % 2 == 0 else (True, False)
        for warc in order:
            with tempfile.TemporaryDirectory() as tmp:
                results[warc].append(run(pages, edited, Path(tmp), warc))
    print(f"{len(pages)} pages, {args.rounds} rounds, batches of {BATCH}")
    print("ms per page, median of the rounds: wall (CPU)")
    print(f"{'pass':<10} {'no WARC':>16} {'WARC':>16} {'ratio wall (CPU)':>18}")
    for name in ("first", "unchanged", "changed"):
        plain, plain_cpu = (
            statistics.median(r[k] for r in results[False]) for k in (name, name + "_cpu")
        )
        warc, warc_cpu = (
            statistics.median(r[k] for r in results[True]) for k in (name, name + "_cpu")
        )
        print(
            f"{name:<10} {plain:>8.2f} ({plain_cpu:>5.2f}) {warc:>8.2f} ({warc_cpu:>5.2f})"
            f" {warc / plain:>9.2f} ({warc_cpu / plain_cpu:.2f})"
        )
    db = statistics.median(r["db_mib"] for r in results[True])
    warc_size = statistics.median(r["warc_mib"] for r in results[True])
    print(f"database {db:.1f} MiB after the three passes; WARC files {warc_size:.1f} MiB")


if __name__ == "__main__":
    main()
