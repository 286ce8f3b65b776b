"""Dedup speed and memory: MinHash signing, the LSH index, datasketch's MinHashLSH, a brute-force scan.

Corpus: synthetic documents of 250-350 words (about 300) drawn from a Zipfian vocabulary (exponent
1.05) of 50,000 made-up words, generated with numpy from a fixed seed in chunks of 10,000. Every
document is really generated and signed with ``MinHasher`` (64 permutations, word 2-shingles), on
all cores; the 10k and 100k corpora are the first documents of the 1M one.

Queries: 1,000 near-duplicates (20% of the words of an indexed document replaced by words drawn
from the same distribution; the sources are 1,000 random documents of the first 10,000, so present
in every corpus) and 1,000 fresh documents from a chunk that is never indexed. A query's latency
includes candidate verification: every engine returns the ids at or above the engine's near
threshold (0.3) by estimated Jaccard similarity, best first. Recall is the share of near-duplicate
queries whose best result is their source document.

Engines, each built and queried in its own forked process so that memory is measured apart:

* ``ours``: ``LSHIndex(64, 32)`` (32 bands of 2 rows) filled with one ``add_many``.
* ``datasketch``: ``MinHashLSH(threshold=0.15, num_perm=64)``, the threshold for which datasketch's
  own optimiser picks the same 32 bands of 2 rows; filled through an insertion session with
  ``LeanMinHash`` objects (scheme ``affine32``, built from our signatures). It keeps no signatures,
  so candidates are verified against our signature matrix (which its memory figure leaves out).
* ``brute force``: the signature matrix scanned with numpy for every query (10k and 100k only).

Also measured: signing rate per core (one process, documents already generated), the same on the
project's seeds, the parallel signing throughput, query latency with a full pending buffer
(4,095 entries added one by one, as during a crawl), and rebuilding the index the way
``Deduper.load`` does at start-up (10k and 100k).

Memory: ``LSHIndex.nbytes`` per document, and the growth of the process's resident set
(``VmRSS`` in /proc/self/status) over the build, per document.

Run: ``python bench/dedup_speed.py`` (about 10-15 minutes on 2 cores, peak RSS about 10 GB with
datasketch at 1M). ``--sizes 10000 100000`` for a quick run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from dedup_index_legacy import LSHIndex as LegacyIndex
from dedup_index_legacy import MinHasher as LegacyHasher

from pipeline.dedup.engine import BANDS, NEAR_THRESHOLD, NUM_PERM, SHINGLE, SKIP, Deduper
from pipeline.dedup.lsh import MERGE_AT, LSHIndex
from pipeline.dedup.minhash import MinHasher
from pipeline.dedup.tokens import token_ids

SEED = 20261122
VOCABULARY = 50_000
ZIPF_EXPONENT = 1.05
WORDS = (250, 351)
CHUNK = 10_000
QUERIES = 1_000
SPIN = 0.20
FRESH_CHUNK = 1_000_000  # never indexed
PENDING_CHUNK = 1_000_001
DATASKETCH_THRESHOLD = 0.15  # datasketch's optimiser picks (32 bands, 2 rows) for this
LEGACY_PERM, LEGACY_BANDS, LEGACY_THRESHOLD = 64, 32, 0.3  # the index before issue 11 part 3
DATASKETCH_MAX_SECONDS = 600.0
DATASKETCH_MAX_BYTES = 16 * 1024**3
BRUTE_MAX = 100_000
LOAD_MAX = 100_000
REPO = Path(__file__).resolve().parents[1]

U32 = npt.NDArray[Any]  # a signature matrix: uint16 (ours) or uint32 (today's)
Result = dict[str, Any]


# --- the synthetic corpus ---------------------------------------------------------------------


def make_vocabulary() -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64]]:
    """50,000 distinct made-up words and the Zipfian cumulative distribution over them."""
    rng = np.random.default_rng(SEED)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words: set[str] = set()
    while len(words) < VOCABULARY:
        lengths = rng.integers(2, 11, size=VOCABULARY)
        for length in lengths:
            words.add("".join(rng.choice(letters, length)))
            if len(words) == VOCABULARY:
                break
    vocabulary = np.array(sorted(words), dtype=object)
    rng.shuffle(vocabulary)
    weights = 1.0 / np.arange(1, VOCABULARY + 1) ** ZIPF_EXPONENT
    return vocabulary, np.cumsum(weights / weights.sum())


VOCAB, CDF = make_vocabulary()
VOCAB_IDS = token_ids(list(VOCAB))  # each word's token id, as the hashers compute it


def draw(rng: np.random.Generator, count: int) -> npt.NDArray[np.int64]:
    return np.minimum(np.searchsorted(CDF, rng.random(count)), VOCABULARY - 1)


def chunk_tokens(chunk: int, count: int = CHUNK) -> list[npt.NDArray[np.int64]]:
    rng = np.random.default_rng([SEED, chunk])
    lengths = rng.integers(*WORDS, size=count)
    ids = draw(rng, int(lengths.sum()))
    return np.split(ids, np.cumsum(lengths)[:-1])


def text(ids: npt.NDArray[np.int64]) -> str:
    return " ".join(VOCAB[ids])


def sign_chunk(chunk: int, count: int = CHUNK) -> tuple[U32, U32]:
    """The chunk signed by ours and by today's hasher. The corpus is signed from its token ids
    (``shingles_of``), which gives the same signatures as signing its text (checked on the
    first documents) without tokenising 300 million words again; the signing rate is measured on
    text."""
    hasher, legacy = MinHasher(NUM_PERM, SHINGLE, skip=SKIP), LegacyHasher(LEGACY_PERM, 2)
    words = chunk_tokens(chunk, count)
    docs = [VOCAB_IDS[ids] for ids in words]
    ours = np.stack([hasher.sign_shingles(hasher.shingles_of(d)) for d in docs])
    today = np.stack([legacy.sign_shingles(legacy.shingles_of(d)) for d in docs])
    for ids, a, b in list(zip(words[:3], ours, today, strict=False)):
        assert np.array_equal(hasher.sign(text(ids)), a) and np.array_equal(
            legacy.sign(text(ids)), b
        )
    return ours, today


def spun(ids: npt.NDArray[np.int64], rng: np.random.Generator) -> npt.NDArray[np.int64]:
    out = ids.copy()
    where = rng.choice(len(ids), round(SPIN * len(ids)), replace=False)
    out[where] = draw(rng, len(where))
    return out


# --- measuring ----------------------------------------------------------------------------------


def rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def in_child(work: Callable[[], Result], timeout: float) -> Result:
    """Run ``work`` in a forked process (memory measured apart, freed after); its result dict."""
    context = mp.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def target(out: Connection) -> None:
        try:
            out.send(work())
        except BaseException as exc:  # report, do not hang the parent
            out.send({"error": repr(exc)})

    process = context.Process(target=target, args=(sender,))
    process.start()
    sender.close()
    result: Result = {"error": f"timed out after {timeout:.0f} s"}
    if receiver.poll(timeout):
        try:
            result = receiver.recv()
        except EOFError:
            result = {"error": f"child died (exit code {process.exitcode})"}
    process.kill()
    process.join()
    return result


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = np.sort(np.asarray(values))
    return float(np.percentile(ordered, 50)), float(np.percentile(ordered, 99))


def run_queries(
    query: Callable[[int, U32], list[tuple[int, float]]],
    near: U32,
    sources: npt.NDArray[np.int64],
    fresh: U32,
) -> Result:
    near_ns: list[float] = []
    fresh_ns: list[float] = []
    hits = 0
    false = 0
    for j, signature in enumerate(near):
        started = time.perf_counter_ns()
        found = query(j, signature)
        near_ns.append(time.perf_counter_ns() - started)
        hits += bool(found) and found[0][0] == int(sources[j])
    for j, signature in enumerate(fresh):
        started = time.perf_counter_ns()
        found = query(QUERIES + j, signature)
        fresh_ns.append(time.perf_counter_ns() - started)
        false += bool(found)
    p50, p99 = percentiles([ns / 1e3 for ns in near_ns + fresh_ns])
    near50, near99 = percentiles([ns / 1e3 for ns in near_ns])
    fresh50, fresh99 = percentiles([ns / 1e3 for ns in fresh_ns])
    return {
        "p50_us": p50,
        "p99_us": p99,
        "near_p50_us": near50,
        "near_p99_us": near99,
        "fresh_p50_us": fresh50,
        "fresh_p99_us": fresh99,
        "recall": hits / len(near),
        "fresh_matches": false / len(fresh),
    }


def verify(
    sigs: U32,
    rows: npt.NDArray[np.int64],
    signature: U32,
    limit: int = 5,
    threshold: float = LEGACY_THRESHOLD,
) -> list[tuple[int, float]]:
    """Candidates' estimated similarity, filtered at the threshold, best first."""
    if not len(rows):
        return []
    sims = (sigs[rows] == signature).mean(axis=1)
    keep = np.flatnonzero(sims >= threshold)
    order = keep[np.lexsort((rows[keep], -sims[keep]))][:limit]
    return [(int(rows[i]), float(sims[i])) for i in order]


# --- the engines ----------------------------------------------------------------------------------


def bench_ours(
    sigs: U32, near: U32, sources: Any, fresh: U32, pending: U32, legacy: bool = False
) -> Result:
    """Ours (``legacy=False``) or today's index, on signatures by the matching hasher."""
    n = len(sigs)
    before = rss()
    started = time.perf_counter()
    index: Any = LegacyIndex(LEGACY_PERM, LEGACY_BANDS) if legacy else LSHIndex(NUM_PERM, BANDS)
    threshold = LEGACY_THRESHOLD if legacy else NEAR_THRESHOLD
    index.add_many(np.arange(n, dtype=np.int64), sigs)
    build = time.perf_counter() - started
    grown = rss() - before
    result = run_queries(lambda _, s: index.query(s, threshold, limit=5), near, sources, fresh)
    result.update(build_s=build, nbytes=index.nbytes / n, rss_per_doc=grown / n)
    for k, signature in enumerate(pending[: MERGE_AT - 1]):
        index.add(n + k, signature)
    with_pending = run_queries(
        lambda _, s: index.query(s, threshold, limit=5), near, sources, fresh
    )
    result.update(pending_p50_us=with_pending["p50_us"], pending_p99_us=with_pending["p99_us"])
    return result


def bench_datasketch(sigs: U32, near: U32, sources: Any, fresh: U32) -> Result:
    from datasketch import LeanMinHash, MinHashLSH

    def lean(signature: U32) -> Any:
        return LeanMinHash(seed=1, hashvalues=signature, scheme="affine32")

    n = len(sigs)
    before = rss()
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=DATASKETCH_THRESHOLD, num_perm=LEGACY_PERM)
    assert (lsh.b, lsh.r) == (LEGACY_BANDS, LEGACY_PERM // LEGACY_BANDS), (lsh.b, lsh.r)
    with lsh.insertion_session(buffer_size=50_000) as session:
        for i in range(n):
            session.insert(i, lean(sigs[i]), check_duplication=False)
    build = time.perf_counter() - started
    grown = rss() - before
    probes = [lean(s) for s in near] + [lean(s) for s in fresh]

    def query(j: int, signature: U32) -> list[tuple[int, float]]:
        keys = lsh.query(probes[j])
        rows = np.fromiter(keys, dtype=np.int64, count=len(keys))
        return verify(sigs, rows, signature)

    result = run_queries(query, near, sources, fresh)
    result.update(build_s=build, nbytes=None, rss_per_doc=grown / n)
    return result


def bench_brute(sigs: U32, near: U32, sources: Any, fresh: U32) -> Result:
    every = np.arange(len(sigs), dtype=np.int64)

    def query(_: int, signature: U32) -> list[tuple[int, float]]:
        matches = np.count_nonzero(sigs == signature, axis=1)
        rows = every[matches >= NEAR_THRESHOLD * NUM_PERM]
        return verify(sigs, rows, signature, threshold=NEAR_THRESHOLD)

    result = run_queries(query, near, sources, fresh)
    result.update(build_s=0.0, nbytes=sigs.nbytes / len(sigs), rss_per_doc=sigs.nbytes / len(sigs))
    return result


def bench_load(sigs: U32) -> Result:
    """Rebuild as at start-up: ``Deduper.load`` over (id, signature) rows."""
    deduper = Deduper({})
    started = time.perf_counter()
    deduper.load((i, sigs[i]) for i in range(len(sigs)))
    return {"load_s": time.perf_counter() - started}


# --- the run ----------------------------------------------------------------------------------------


def signing(workers: int, total: int) -> tuple[Result, tuple[U32, U32]]:
    log("signing rate, one process, ours and today's alternated")
    docs = [text(ids) for ids in chunk_tokens(FRESH_CHUNK + 7)]
    seeds = [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    hashers: dict[str, Any] = {
        "ours": MinHasher(NUM_PERM, SHINGLE, skip=SKIP),
        "today": LegacyHasher(LEGACY_PERM, 2),
    }
    spent = {name: [0.0, 0.0] for name in hashers}  # synthetic, seeds (CPU seconds)
    rounds = 40
    for part in range(10):
        for name, hasher in hashers.items():
            started = time.process_time()
            for doc in docs[part * 1000 : (part + 1) * 1000]:
                hasher.sign(doc)
            spent[name][0] += time.process_time() - started
            started = time.process_time()
            for _ in range(rounds):
                for seed in seeds:
                    hasher.sign(seed)
            spent[name][1] += time.process_time() - started
    seed_words = statistics.fmean(len(s.split()) for s in seeds)
    log(f"generating and signing {total:,} documents on {workers} processes (both hashers)")
    chunks = range((total + CHUNK - 1) // CHUNK)
    started = time.perf_counter()
    with mp.get_context("fork").Pool(workers) as pool:
        parts = pool.map(sign_chunk, chunks, chunksize=1)
    wall = time.perf_counter() - started
    ours = np.concatenate([p[0] for p in parts])[:total]
    today = np.concatenate([p[1] for p in parts])[:total]
    words = statistics.fmean(len(d.split()) for d in docs)
    return {
        "per_core": len(docs) / spent["ours"][0],
        "per_core_today": len(docs) / spent["today"][0],
        "words": words,
        "seeds_rate": 10 * rounds * len(seeds) / spent["ours"][1],
        "seeds_rate_today": 10 * rounds * len(seeds) / spent["today"][1],
        "seed_words": seed_words,
        "parallel": total / wall,
        "parallel_wall_s": wall,
        "workers": workers,
    }, (ours, today)


def load_average() -> str:
    with open("/proc/loadavg") as status:
        return " ".join(status.read().split()[:3])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b else f"{a / b:.1f}×"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--datasketch", action="store_true", help="also datasketch (slow, 10 GB)")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    started = load_average()
    sign, (sigs, legacy_sigs) = signing(args.workers, sizes[-1])
    rng = np.random.default_rng([SEED, 99])
    sources = np.sort(rng.choice(CHUNK, QUERIES, replace=False)).astype(np.int64)
    first = chunk_tokens(0)
    hasher, legacy = MinHasher(NUM_PERM, SHINGLE, skip=SKIP), LegacyHasher(LEGACY_PERM, 2)
    spun_texts = [text(spun(first[i], rng)) for i in sources]
    near = np.stack([hasher.sign(t) for t in spun_texts])
    legacy_near = np.stack([legacy.sign(t) for t in spun_texts])
    fresh, legacy_fresh = sign_chunk(FRESH_CHUNK, QUERIES)
    pending, legacy_pending = sign_chunk(PENDING_CHUNK, MERGE_AT)
    rows: list[tuple[int, str, Result]] = []
    loads: dict[int, float] = {}
    skipped: list[str] = []
    per_doc_ds: tuple[float, float] | None = None  # seconds and bytes per document, measured
    for n in sizes:
        for engine in ("today", "ours", "today", "ours"):  # alternated, each run twice
            log(f"{n:,}: {engine}")
            got = in_child(
                partial(
                    bench_ours,
                    (legacy_sigs if engine == "today" else sigs)[:n],
                    legacy_near if engine == "today" else near,
                    sources,
                    legacy_fresh if engine == "today" else fresh,
                    legacy_pending if engine == "today" else pending,
                    engine == "today",
                ),
                1800,
            )
            rows.append((n, engine, got))
        if n <= LOAD_MAX:
            log(f"{n:,}: Deduper.load")
            loads[n] = in_child(partial(bench_load, sigs[:n]), 1800).get("load_s", float("nan"))
        if args.datasketch:
            if per_doc_ds and (
                per_doc_ds[0] * n > DATASKETCH_MAX_SECONDS
                or per_doc_ds[1] * n > DATASKETCH_MAX_BYTES
            ):
                skipped.append(
                    f"datasketch at {n:,}: predicted {per_doc_ds[0] * n:,.0f} s to build and"
                    f" {per_doc_ds[1] * n / 1024**3:,.1f} GiB (limits 600 s, 16 GiB)"
                )
            else:
                log(f"{n:,}: datasketch")
                got = in_child(
                    partial(bench_datasketch, legacy_sigs[:n], legacy_near, sources, legacy_fresh),
                    1200,
                )
                rows.append((n, "datasketch (today's signatures)", got))
                if "error" not in got:
                    per_doc_ds = (got["build_s"] / n, got["rss_per_doc"])
                else:
                    skipped.append(f"datasketch at {n:,}: {got['error']}")
        if n <= BRUTE_MAX:
            log(f"{n:,}: brute force")
            rows.append(
                (
                    n,
                    "brute force",
                    in_child(partial(bench_brute, sigs[:n], near, sources, fresh), 1800),
                )
            )
    report(sign, rows, loads, skipped, started)


def machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        memory = int(info.readline().split()[1]) / 1024**2
    import datasketch

    return (
        f"{os.cpu_count()} CPUs ({model}), {memory:.1f} GiB RAM; Python {platform.python_version()},"
        f" numpy {np.__version__}, datasketch {datasketch.__version__}"
    )


def report(
    sign: Result,
    rows: list[tuple[int, str, Result]],
    loads: dict[int, float],
    skipped: list[str],
    load_at_start: str,
) -> None:
    print("## Dedup speed and memory\n")
    print(f"Machine: {machine()}.")
    print(
        f"Load average (1, 5, 15 min) at the start: {load_at_start}; at the end: {load_average()}.\n"
    )
    print("| signing | ours | today's | ours ÷ today's |\n| --- | --- | --- | --- |")
    print(
        f"| one core, synthetic documents of {sign['words']:.0f} words | {sign['per_core']:,.0f}"
        f" docs/s | {sign['per_core_today']:,.0f} docs/s"
        f" | {ratio(sign['per_core'], sign['per_core_today'])} |"
    )
    print(
        f"| one core, the project's seeds ({sign['seed_words']:.0f} words)"
        f" | {sign['seeds_rate']:,.0f} docs/s | {sign['seeds_rate_today']:,.0f} docs/s"
        f" | {ratio(sign['seeds_rate'], sign['seeds_rate_today'])} |"
    )
    print(
        f"| {sign['workers']} processes, generating the corpus and signing it with both"
        f" | {sign['parallel']:,.0f} docs/s ({sign['parallel_wall_s']:.0f} s) | | |"
    )
    print()
    print(
        "| docs | engine | build s | index B/doc | RSS B/doc | p50 µs | p99 µs | near p50/p99 µs"
        " | fresh p50/p99 µs | recall | fresh with a match |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for n, engine, r in rows:
        if "error" in r:
            print(f"| {n:,} | {engine} | {r['error']} | | | | | | | | |")
            continue
        print(
            f"| {n:,} | {engine} | {r['build_s']:.2f} | {fmt(r['nbytes'])} | {r['rss_per_doc']:,.0f}"
            f" | {r['p50_us']:,.0f} | {r['p99_us']:,.0f}"
            f" | {r['near_p50_us']:,.0f} / {r['near_p99_us']:,.0f}"
            f" | {r['fresh_p50_us']:,.0f} / {r['fresh_p99_us']:,.0f}"
            f" | {r['recall']:.3f} | {r['fresh_matches']:.3f} |"
        )
    print()
    ours = {n: r for n, e, r in rows if e == "ours" and "error" not in r}  # the second run
    print("Ratios (the other engine ÷ ours; above 1× means ours is faster or leaner):\n")
    print(
        "| docs | engine | build time | RSS per doc | p50 | p99 |\n| --- | --- | --- | --- | --- | --- |"
    )
    for n, engine, r in rows:
        if engine == "ours" or "error" in r or n not in ours:
            continue
        o = ours[n]
        build = ratio(r["build_s"], o["build_s"]) if r["build_s"] else "-"
        print(
            f"| {n:,} | {engine} | {build} | {ratio(r['rss_per_doc'], o['rss_per_doc'])}"
            f" | {ratio(r['p50_us'], o['p50_us'])} | {ratio(r['p99_us'], o['p99_us'])} |"
        )
    print()
    print(
        "| docs | ours: p50 / p99 µs with 4,095 pending entries | Deduper.load (add one by one) s | add_many s |"
    )
    print("| --- | --- | --- | --- |")
    for n, o in ours.items():
        load = fmt(loads.get(n), 2) if n in loads else "-"
        print(
            f"| {n:,} | {o['pending_p50_us']:,.0f} / {o['pending_p99_us']:,.0f} | {load}"
            f" | {o['build_s']:.2f} |"
        )
    print()
    if skipped:
        print("Skipped: " + "; ".join(skipped) + ".\n")


if __name__ == "__main__":
    main()
