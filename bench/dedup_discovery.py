"""Family discovery on real pages: which candidate families ``pipeline.dedup.discovery`` proposes.

Reads ``../shared/eval/articles_dev.jsonl`` and the AEB pages (``../shared/eval/aeb/``) in place.
Three runs: every dev row (the network's pages included: they should come out as candidates, made
of ``same_template`` rows only), the dev negatives alone (no candidate expected), and the 181 AEB
pages extracted as the crawler does (no candidate expected).

``--week N`` instead clusters a synthetic week of N stored articles (``bench/dedup_week.py``: text
generated for this benchmark, with 25 planted template families among ordinary pages, syndicated
stories and reposts) and reports the wall and CPU time, the peak memory, and what came out: how
many planted families were found, and how many candidates mix families or hold unplanted pages.
Each week run clusters the same articles with today's version and with the version before the
cohesion split (``bench/dedup_discovery_union.py``: union-find's linked groups as they are), one
after the other in this process; ``--legacy-up-to M`` also times the pair-counting version
(``bench/dedup_discovery_legacy.py``) when N ≤ M. ``--variant b`` (``--seed S``) draws a
second kind of week (``dedup_week.VARIANTS``), to check the rules against a week they were not
worked out on.

Run: ``python bench/dedup_discovery.py`` (about fifteen seconds);
``python bench/dedup_discovery.py --week 100000`` (a few minutes, most of it generating). Prints
Markdown.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.document import Document, from_text
from pipeline.dedup.discovery import Candidate, candidates, site_of
from pipeline.extract import extract_html

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_discovery_legacy import candidates as legacy_candidates  # noqa: E402
from dedup_discovery_union import candidates as union_candidates  # noqa: E402
from dedup_week import week  # noqa: E402

# the baselines in bench/ have their own copy of the Candidate class
Finder = Callable[[Sequence[tuple[str, Document]]], list[Any]]


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


def _timed(
    finder: Finder, articles: list[tuple[str, Document]]
) -> tuple[list[Candidate], float, float]:
    """The finder's result, wall time and CPU time (its worker processes included)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, cpu = time.perf_counter(), time.process_time()
    found = finder(articles)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    return found, time.perf_counter() - wall, time.process_time() - cpu + worker


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])  # kB
    return 0


def _reset_peak() -> int:
    """Reset the peak RSS (Linux: clear_refs 5) and return the current RSS, in kB."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return _status("VmRSS")


def _peak() -> int:
    return _status("VmHWM")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def synthetic(n: int, legacy_up_to: int, variant: str, seed: int) -> None:
    started = time.perf_counter()
    rows = list(week(n, seed, variant))
    generated = time.perf_counter() - started
    articles = [(url, doc) for url, doc, _ in rows]
    planted = {url: family for url, _, family in rows}
    sizes = Counter(f for f in planted.values() if f)
    structured = sum(1 for _, doc in articles if any(b.kind == "list_item" for b in doc.blocks[:8]))
    print(
        f"week {variant}, seed {seed}: "
        f"{n:,} articles generated in {generated:.0f} s: {sum(sizes.values()):,} articles of "
        f"{len(sizes)} planted families, {structured:,} with a list near the top\n"
    )
    finders: list[tuple[str, Finder]] = [
        ("today (cohesion split)", candidates),
        ("before (union-find groups)", union_candidates),
    ]
    if n <= legacy_up_to:
        finders.append(("before (pairs counted)", legacy_candidates))
    print(
        "| version | articles | wall s | CPU s | peak RSS growth MiB | candidates | planted families "
        "found (of those on 2+ sites with 3+ articles) | their pages in a candidate of theirs | "
        "candidates mixing families | candidates with unplanted pages (pages) | load average "
        "before, after |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    sites: dict[str, set[str]] = {}
    for url, family in planted.items():
        if family:
            sites.setdefault(family, set()).add(site_of(url))
    findable = {f for f, c in sizes.items() if c >= 3 and len(sites[f]) >= 2}
    findable_pages = sum(sizes[f] for f in findable)
    for name, finder in finders:
        load = _load()
        base = _reset_peak()
        found, wall, cpu = _timed(finder, articles)
        rss = (_peak() - base) / 1024
        majority = set()
        mixed = unplanted = unplanted_pages = 0
        best: Counter[str] = Counter()  # each family's pages in the candidate it leads
        for c in found:
            kinds = Counter(planted[m] for m in c.members)
            top = kinds.most_common(1)[0][0]
            if top:
                majority.add(top)
                best[top] = max(best[top], kinds[top])
            if len([k for k in kinds if k]) > 1:
                mixed += 1
            if kinds.get(None):
                unplanted += 1
                unplanted_pages += kinds[None]
        print(
            f"| {name} | {n:,} | {wall:.1f} | {cpu:.1f} | {rss:,.0f} | {len(found)} | "
            f"{len(majority & findable)} of {len(findable)} | "
            f"{sum(best[f] for f in findable) / max(findable_pages, 1):.3f} | {mixed} | {unplanted} "
            f"({unplanted_pages:,}) | {load}; {_load()} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=EVAL / "articles_dev.jsonl")
    parser.add_argument("--aeb", type=Path, default=EVAL / "aeb")
    parser.add_argument("--week", type=int, default=0, help="cluster a synthetic week of N")
    parser.add_argument("--legacy-up-to", type=int, default=0)
    parser.add_argument("--variant", default="a", help="the kind of week (dedup_week.VARIANTS)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.week:
        synthetic(args.week, args.legacy_up_to, args.variant, args.seed)
        return
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
