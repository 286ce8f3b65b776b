"""The same candidates before and after a speed change of ``pipeline.dedup.discovery``.

``python bench/dedup_discovery_check.py dump OUT.json`` clusters the 5,000 and 20,000 weeks (both
variants: ``a`` seed 7, ``b`` seed 13), the dev split (all rows, negatives only) and the AEB pages,
and writes each run's candidates (id, members, phrases, shape, sites) to OUT.json, with each run's
clustering CPU time. ``python bench/dedup_discovery_check.py compare A.json B.json`` says whether
two dumps hold the same candidates, run by run. ``python bench/dedup_discovery_check.py time
OLD_DISCOVERY.py`` clusters weeks side by side with an older ``discovery.py`` (``git show
e8cd97a:pipeline/dedup/discovery.py > /tmp/old.py``), the two alternating, and prints the wall
time, the CPU time (worker processes included) and whether the candidates are the same. The weeks are generated once and kept in
``--cache`` (pickles, outside the project), so that the dumps of two commits cluster the same
articles without generating them twice.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pickle
import resource
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.document import Document
from pipeline.dedup.discovery import candidates

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_discovery import EVAL, aeb, dev
from dedup_week import week

WEEKS = [(5000, "a", 7), (5000, "b", 13), (20000, "a", 7), (20000, "b", 13)]


def _week(cache: Path, n: int, variant: str, seed: int) -> list[tuple[str, Document]]:
    path = cache / f"week-{n}-{variant}-{seed}.pickle"
    if path.exists():
        with path.open("rb") as f:
            loaded: list[tuple[str, Document]] = pickle.load(f)
        return loaded
    articles = [(url, doc) for url, doc, _ in week(n, seed, variant)]
    cache.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(articles, f)
    return articles


def dump(out: Path, cache: Path, only: str | None) -> None:
    runs: dict[str, list[tuple[str, Document]]] = {}
    rows, labels = dev(EVAL / "articles_dev.jsonl")
    runs["dev all"] = rows
    runs["dev negatives"] = [r for r in rows if labels[r[0]] != "same_template"]
    runs["aeb"] = aeb(EVAL / "aeb")
    for n, variant, seed in WEEKS:
        runs[f"week {n} {variant} {seed}"] = _week(cache, n, variant, seed)
    result = {}
    for name, articles in runs.items():
        if only and only not in name:
            continue
        cpu = time.process_time()
        found = candidates(articles)
        seconds = time.process_time() - cpu
        result[name] = {"cpu_s": round(seconds, 2), "candidates": [asdict(c) for c in found]}
        print(f"{name}: {len(found)} candidates, {seconds:.1f} s CPU", flush=True)
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")


def compare(a: Path, b: Path) -> bool:
    left, right = json.loads(a.read_text()), json.loads(b.read_text())
    same = True
    for name in sorted(set(left) | set(right)):
        x = left.get(name, {}).get("candidates")
        y = right.get(name, {}).get("candidates")
        ok = x == y
        same &= ok
        print(f"{name}: {'same' if ok else 'DIFFERENT'} ({len(x or [])} vs {len(y or [])})")
    return same


def _run(finder: Any, articles: list[tuple[str, Document]]) -> tuple[list[Any], float, float]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, cpu = time.perf_counter(), time.process_time()
    found = finder(articles)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    return found, time.perf_counter() - wall, time.process_time() - cpu + worker


def side_by_side(old: Path, cache: Path, weeks: list[str], repeats: int) -> None:
    spec = importlib.util.spec_from_file_location("discovery_before", old)
    assert spec is not None and spec.loader is not None
    before = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = before  # its dataclasses look their module up
    spec.loader.exec_module(before)
    print(
        "| week | version | articles | wall s | CPU s (workers included) | candidates | same "
        "candidates | load average before; after |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    for name in weeks:
        n, variant, seed = name.split("-")
        articles = _week(cache, int(n), variant, int(seed))
        for r in range(repeats):
            order = [("before", before.candidates), ("after", candidates)]
            results = {}
            for version, finder in order if r % 2 == 0 else order[::-1]:
                load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
                found, wall, cpu = _run(finder, articles)
                results[version] = [(c.id, c.members) for c in found]
                end = " ".join(Path("/proc/loadavg").read_text().split()[:3])
                same = "" if len(results) < 2 else str(results["before"] == results["after"])
                print(
                    f"| {variant} seed {seed} | {version} | {int(n):,} | {wall:.1f} | {cpu:.1f} | "
                    f"{len(found)} | {same} | {load}; {end} |",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/claimwatch-weeks"))
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--only", default=None, help="only the runs whose name holds this")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    t = sub.add_parser("time")
    t.add_argument("old", type=Path, help="an older pipeline/dedup/discovery.py")
    t.add_argument("--weeks", nargs="+", default=["20000-a-7"], help="N-variant-seed")
    t.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.cache, args.only)
    elif args.command == "time":
        side_by_side(args.old, args.cache, args.weeks, args.repeats)
    else:
        sys.exit(0 if compare(args.a, args.b) else 1)


if __name__ == "__main__":
    main()
