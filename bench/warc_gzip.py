"""The gzip level of the WARC records: CPU and size per page, side by side in one process.

On the 181 AEB pages (read in place from ``../shared/eval/aeb/``), each page's response and
request records are built with :func:`pipeline.warc.fetch_records` at each level, the levels
interleaved page by page in a rotating order, ``--rounds`` times; reported: the median over the
rounds of the CPU ms per page (process time) and the records' bytes ÷ the raw body.

Run: ``.venv/bin/python -m bench.warc_gzip [--rounds 3] [--levels 1,3,6,9]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.extraction_quality import DEFAULT_AEB, load_pages
from pipeline.items import PageItem
from pipeline.warc import GZIP_LEVEL, fetch_records


def items(aeb: Path) -> list[PageItem]:
    when = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    return [
        PageItem(
            source="aeb",
            run_group="g",
            url=page.url,
            request_url=page.url,
            status=200,
            fetched_at=when,
            body=page.html.encode("utf-8"),
            protocol="HTTP/1.1",
            request_headers=(("User-Agent", "claimwatch-bench"),),
            response_headers=(("Content-Type", "text/html; charset=utf-8"),),
        )
        for page in load_pages(aeb)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--aeb", type=Path, default=DEFAULT_AEB)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--levels", default="1,3,6,9")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    pages = items(args.aeb)
    raw = sum(len(p.body) for p in pages)
    cpu: dict[int, list[float]] = {level: [] for level in levels}
    size: dict[int, int] = {}
    for _ in range(args.rounds):
        spent = dict.fromkeys(levels, 0.0)
        for i, page in enumerate(pages):
            for level in levels[i % len(levels) :] + levels[: i % len(levels)]:
                start = time.process_time()
                records = fetch_records(page, level)
                spent[level] += time.process_time() - start
                size[level] = size.get(level, 0) + len(records)
        for level in levels:
            cpu[level].append(1000 * spent[level] / len(pages))
    base = statistics.median(cpu[GZIP_LEVEL]) if GZIP_LEVEL in cpu else None
    print(
        f"{len(pages)} pages, {raw / len(pages) / 1024:.0f} KiB each on average, "
        f"{args.rounds} rounds"
    )
    print("| gzip level | CPU ms/page | ÷ level 6 | records ÷ raw body |")
    print("| ---: | ---: | ---: | ---: |")
    for level in levels:
        ms = statistics.median(cpu[level])
        ratio = f"{ms / base:.2f}" if base else "-"
        print(f"| {level} | {ms:.2f} | {ratio} | {size[level] / args.rounds / raw:.3f} |")


if __name__ == "__main__":
    main()
