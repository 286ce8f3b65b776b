"""Digest speed and memory: build and render one week from a database of 100,000 articles.

Database: a temporary SQLite file (the default backend) filled with synthetic rows through bulk
``executemany`` inserts: 100,000 articles over ``--weeks`` ISO weeks (the digest's week is the last
one), ``--flagged`` of them flagged (risk band watch or higher; 10,000 by default) with 1-6 claims
each, a fifth of the others with one low-scoring claim, 30% in one of 5 template families, 5%
exact reposts and 10% near-duplicates, 2,000 sites, 40 sources with 6 crawl runs a week each.
Row sizes are realistic: 4,000 characters of text and about 6 KB of gzipped HTML per article.

Scenarios: ``spread``, the flagged articles spread evenly over the weeks (1,000 in the digest's
week), and ``concentrated``, all of them in the digest's week (the heaviest digest this database
can produce: 10,000 flagged articles ranked, exported to CSV and JSON, 50 shown in full).

Measured, in a fresh child process per run so that the figures exclude data generation: the time
to build the digest (queries and model), to render the page, the text and the e-mail HTML (CSS
inlined), to write the archive (page, text, CSV, JSON, evidence of the 50 shown, index), and the
peak resident set (``ru_maxrss``), with the resident set after imports for comparison. Each
scenario runs ``--repeat`` times (default 3) and the median is reported.

Run: ``python bench/digest.py`` (about 2 minutes on 2 cores; writes bench/DIGEST_RESULTS.md with
``--write``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20261122
WEEK_KEY = "2026-W47"
SUBSTANCES = (
    "kratom",
    "seven_oh",
    "cbd",
    "delta8",
    "kava",
    "ashwagandha",
    "mushrooms",
    "psychedelics",
    "berberine",
    "colloidal_silver",
    "ivermectin",
    "nmn",
)
CATEGORIES = (
    "disease_treatment",
    "medical_substitution",
    "safety_assurance",
    "efficacy_certainty",
    "dosage_advice",
    "vulnerable_groups",
    "drug_interaction",
    "regulatory_status",
)
WORDS = (
    "kratom eases withdrawal dopamine natural remedy doctors hate this simple trick capsules "
    "daily dose relief anxiety sleep energy focus immune support clinical study shows results "
    "customers report amazing benefits within days without side effects order today"
).split()


def _text(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))).capitalize()
        out.append(sentence + ".")
        size += len(sentence) + 2
        if rng.random() < 0.15:
            out.append("\n")
    return " ".join(out)


def generate(path: Path, articles: int, flagged: int, weeks: int, concentrated: bool) -> None:
    from sqlalchemy import insert

    from core.db import make_engine, upgrade
    from core.models import Article, Claim, CrawlRun, Source
    from reports.period import parse_period

    rng = random.Random(SEED)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    target = parse_period(WEEK_KEY)
    windows = [target.previous(n) for n in range(weeks - 1, -1, -1)]
    html_pool = [
        gzip.compress(("<html><body>" + _text(rng, 20_000) + "</body></html>").encode())
        for _ in range(50)
    ]
    text_pool = [_text(rng, 4_000) for _ in range(200)]
    flagged_ids = set(rng.sample(range(1, articles + 1), flagged))
    with engine.begin() as conn:
        conn.execute(
            insert(Source),
            [
                {"id": i, "name": f"source-{i}", "kind": "sitemap", "start_urls": []}
                for i in range(1, 41)
            ],
        )
        runs = []
        for window in windows:
            for source in range(1, 41):
                for day in range(6):
                    failed = source <= 3 and window is windows[-1]
                    stats = {"source": {"errors/total": 2, "errors/timeout": 2}} if failed else {}
                    runs.append(
                        {
                            "run_group": f"{window.key}-{day}",
                            "source_id": source,
                            "started_at": window.start + timedelta(days=day, hours=source % 24),
                            "finished_at": window.start
                            + timedelta(days=day, hours=1 + source % 24),
                            "status": "failed" if failed else "ok",
                            "pages": rng.randint(50, 500),
                            "items": rng.randint(5, 50),
                            "errors": 2 if failed else 0,
                            "stats": stats,
                        }
                    )
        conn.execute(insert(CrawlRun), runs)
    claim_id = 0
    for chunk_start in range(1, articles + 1, 5_000):
        rows: list[dict[str, Any]] = []
        claims: list[dict[str, Any]] = []
        for i in range(chunk_start, min(chunk_start + 5_000, articles + 1)):
            if concentrated and i in flagged_ids:
                window = windows[-1]
            else:
                window = windows[(i - 1) * weeks // articles]
            seen = window.start + timedelta(seconds=rng.randint(0, 7 * 86400 - 1))
            is_flagged = i in flagged_ids
            site = rng.randint(1, 2_000)
            text = rng.choice(text_pool)
            n_claims = rng.randint(1, 6) if is_flagged else (1 if rng.random() < 0.2 else 0)
            scores = sorted((round(rng.uniform(5, 80), 1) for _ in range(n_claims)), reverse=True)
            risk = min(100.0, scores[0] + 0.25 * sum(scores[1:])) if scores else 0.0
            band = (
                ("priority" if risk >= 70 else "review" if risk >= 40 else "watch")
                if is_flagged
                else "ignore"
            )
            if is_flagged and band == "watch":
                risk = max(risk, 15.0)
            family = f"family-{rng.randint(1, 5)}" if rng.random() < 0.3 else None
            rows.append(
                {
                    "id": i,
                    "canonical_url": f"https://site-{site}.example/post/{i}",
                    "url": f"https://site-{site}.example/post/{i}",
                    "source_id": 1 + i % 40,
                    "first_seen_at": seen,
                    "fetched_at": seen,
                    "checked_at": seen,
                    "changed_at": seen,
                    "raw_sha256": f"{i:064x}",
                    "text_sha256": f"{i:064x}",
                    "raw_html_gz": rng.choice(html_pool),
                    "title": f"Article {i}: " + " ".join(rng.choice(WORDS) for _ in range(8)),
                    "text": text,
                    "text_chars": len(text),
                    "blocks": [],
                    "risk_score": round(risk, 1) if n_claims or is_flagged else 0.0,
                    "risk_band": band,
                    "escalations": ["cancer"] if is_flagged and rng.random() < 0.05 else [],
                    "claim_count": n_claims,
                    "rules_sha256": "ab" * 32,
                    "family": family,
                    "family_score": round(rng.uniform(0.6, 1.0), 3) if family else None,
                    "duplicate_of": rng.randint(1, i - 1)
                    if i > 1 and rng.random() < 0.05
                    else None,
                    "near_of": f"https://site-{rng.randint(1, 2000)}.example/post/{rng.randint(1, articles)}"
                    if rng.random() < 0.1
                    else None,
                    "near_kind": "article",
                    "dedup_evidence": {
                        "template": ["table of contents of 7 items"],
                        "passages": [],
                    },
                }
            )
            offset = 0
            for position, score in enumerate(scores):
                end = text.find(".", offset + 40) + 1 or len(text)
                claim_id += 1
                claims.append(
                    {
                        "id": claim_id,
                        "article_id": i,
                        "position": position,
                        "sentence": text[offset:end],
                        "start": offset,
                        "end": end,
                        "categories": rng.sample(CATEGORIES, rng.randint(1, 2)),
                        "substance": rng.choice(SUBSTANCES),
                        "condition": "opioid_withdrawal",
                        "severity": "serious",
                        "score": score,
                        "rules": ["disease.treats"],
                        "hedged": False,
                        "detail": {
                            "criterion": ["21 CFR 101.93(g)(2)(i)"],
                            "aggravators": [],
                            "mitigators": [],
                        },
                    }
                )
                offset = min(end + 1, len(text) - 1)
        with engine.begin() as conn:
            conn.execute(insert(Article), rows)
            if claims:
                conn.execute(insert(Claim), claims)
    engine.dispose()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(db: Path, out: Path) -> dict[str, Any]:
    """One measured run: build, render, write; times in seconds, RSS in MiB."""
    from core.config import DigestSettings
    from core.db import make_engine, session_factory
    from reports import render
    from reports.archive import write_archive
    from reports.digest import build_digest
    from reports.period import parse_period

    engine = make_engine(f"sqlite:///{db}")
    settings = DigestSettings()
    period = parse_period(WEEK_KEY)
    render.environment()
    baseline = _rss_mib()
    with session_factory(engine)() as session:
        t0 = time.perf_counter()
        digest = build_digest(session, period, settings)
        t1 = time.perf_counter()
        render.page_html(digest)
        render.text(digest)
        render.mail_html(digest)
        t2 = time.perf_counter()
        write_archive(session, digest, out)
        t3 = time.perf_counter()
    return {
        "flagged": len(digest.articles),
        "build_s": t1 - t0,
        "render_s": t2 - t1,
        "archive_s": t3 - t2,
        "total_s": t3 - t0,
        "baseline_mib": baseline,
        "peak_mib": _rss_mib(),
        "json_mib": (out / f"{WEEK_KEY}.json").stat().st_size / 2**20,
    }


def measure(db: Path, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            result = subprocess.run(
                [sys.executable, __file__, "--child", str(db), out],
                capture_output=True,
                text=True,
                check=True,
            )
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--flagged", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write bench/DIGEST_RESULTS.md")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]))))
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in ("spread", "concentrated"):
            db = Path(tmp) / f"{scenario}.db"
            t0 = time.perf_counter()
            generate(db, args.articles, args.flagged, args.weeks, scenario == "concentrated")
            made = time.perf_counter() - t0
            size = db.stat().st_size / 2**20
            print(f"{scenario}: generated in {made:.0f} s, {size:.0f} MiB", flush=True)
            results[scenario] = {**measure(db, args.repeat), "db_mib": size}
            print(scenario, json.dumps(results[scenario]), flush=True)
            db.unlink()
    table = report(results, args)
    print(table)
    if args.write:
        (ROOT / "bench" / "DIGEST_RESULTS.md").write_text(table)


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        "# Digest benchmark (bench/digest.py)",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {__import__('sqlite3').sqlite_version}. Date: 2026-11-22.",
        "",
        f"Database: {args.articles:,} articles over {args.weeks} weeks, {args.flagged:,} flagged, "
        "4,000 characters of text and about 6 KB of gzipped HTML each (see the script's docstring). "
        f"Median of {args.repeat} runs, each in a fresh process. Target: at most 5 s, bounded memory.",
        "",
        "| scenario | flagged in the week | build | render (page, text, mail) | archive (files, evidence) | total | RSS after imports | peak RSS | JSON export | DB size |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['flagged']:,.0f} | {r['build_s']:.2f} s | {r['render_s']:.2f} s | "
            f"{r['archive_s']:.2f} s | **{r['total_s']:.2f} s** | {r['baseline_mib']:.0f} MiB | "
            f"**{r['peak_mib']:.0f} MiB** | {r['json_mib']:.1f} MiB | {r['db_mib']:.0f} MiB |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
