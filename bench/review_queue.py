"""Review queue speed: server time of the queue page over 10,000 flagged articles.

Database: a temporary SQLite file with ``--flagged`` flagged articles (10,000 by default; 3 claims
each, 4,000 characters of text), 10 sources, 5 template families, 20 substances and a fifth of the
articles reviewed (a status and an assignee); first seen over 26 weeks (one every 26 minutes), a
tenth of them changed in the last week. Each scenario requests the queue page through the whole app
(session check, query, count, filter menus including the week menu, template, security headers)
``--repeat`` times in process and reports p50 and p95; the week menu's query is also timed alone.
Target (issue 13): p95 ≤ 300 ms.

Run: ``python bench/review_queue.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from starlette.testclient import TestClient

from core.config import Web
from core.db import make_engine, session_factory, upgrade
from core.models import Article, ArticleReview, Claim, Source, User
from review.app import create_app
from review.auth import hash_password
from review.queue import weeks

SECRET = "b" * 48
PASSWORD = "bench password"
BANDS = ("priority", "review", "watch")
CATEGORIES = ("disease_treatment", "medical_substitution", "efficacy_certainty", "dosage_advice")


def fill(url: str, flagged: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    engine = make_engine(url)
    upgrade(engine)
    now = datetime(2026, 11, 18, tzinfo=UTC)
    html = gzip.compress(b"<html>" + b"x" * 2000 + b"</html>")
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {"name": f"user{i}", "role": "reviewer", "password_hash": hash_password(PASSWORD)}
                for i in range(5)
            ],
        )
        conn.execute(
            insert(Source),
            [{"name": f"src{i}", "kind": "sitemap", "start_urls": []} for i in range(10)],
        )
        articles, claims, reviews = [], [], []
        for n in range(1, flagged + 1):
            text = " ".join(
                rng.choice(("turmeric", "cures", "pain", "daily", "the")) for _ in range(700)
            )
            articles.append(
                {
                    "id": n,
                    "canonical_url": f"https://site{n % 2000}.example/a/{n}",
                    "url": f"https://site{n % 2000}.example/a/{n}",
                    "source_id": 1 + n % 10,
                    "first_seen_at": now - timedelta(minutes=26 * n),
                    "fetched_at": now,
                    "checked_at": now,
                    "changed_at": now if n % 10 == 0 else now - timedelta(minutes=26 * n),
                    "raw_sha256": f"{n:064x}",
                    "text_sha256": f"{n:064x}",
                    "raw_html_gz": html,
                    "title": f"Article {n} about supplement {n % 20}",
                    "text": text[:4000],
                    "risk_score": rng.uniform(15, 100),
                    "risk_band": rng.choice(BANDS),
                    "escalations": ["cancer"] if n % 17 == 0 else [],
                    "claim_count": 3,
                    "family": f"family-{n % 5}" if n % 3 == 0 else None,
                }
            )
            for position in range(3):
                claims.append(
                    {
                        "article_id": n,
                        "position": position,
                        "sentence": f"Supplement {n % 20} cures pain {position}.",
                        "start": position * 10,
                        "end": position * 10 + 9,
                        "categories": [rng.choice(CATEGORIES)],
                        "substance": f"substance-{n % 20}",
                        "condition": "pain",
                        "severity": "serious",
                        "score": rng.uniform(10, 90),
                        "rules": ["r"],
                        "hedged": False,
                        "detail": {},
                    }
                )
            if n % 5 == 0:
                reviews.append(
                    {
                        "article_id": n,
                        "status": rng.choice(("in_review", "actioned", "dismissed")),
                        "assignee_id": 1 + n % 5,
                        "notes": "",
                    }
                )
        conn.execute(insert(Article), articles)
        conn.execute(insert(Claim), claims)
        conn.execute(insert(ArticleReview), reviews)
    engine.dispose()


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        run()
        times.append((time.perf_counter() - begin) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flagged", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        started = time.perf_counter()
        fill(url, args.flagged)
        print(f"filled {args.flagged:,} flagged articles in {time.perf_counter() - started:.1f} s")
        engine = make_engine(url)
        app = create_app(session_factory(engine), Web(), SECRET)
        with TestClient(app, follow_redirects=False) as client:
            page = client.get("/login")
            token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            client.post("/login", data={"name": "user0", "password": PASSWORD, "csrf": token})
            scenarios = {
                "first page": "/",
                "page 100": "/?page=100",
                "band + substance": "/?band=priority&substance=substance-3",
                "category": "/?category=dosage_advice",
                "status + assignee": "/?status=in_review&assignee=user2",
                "text search": "/?q=supplement%2013",
                "week": "/?week=2026-W40",
                "week, page 10": "/?week=2026-W40&page=10",
                "week (with the changed tenth)": "/?week=2026-W47",
                "week + band + source": "/?week=2026-W40&band=review&source=src3",
            }
            print("| scenario | p50 ms | p95 ms |\n| --- | --- | --- |")
            for name, path in scenarios.items():
                times = []
                for _ in range(args.repeat):
                    begin = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - begin) * 1000)
                    assert response.status_code == 200, response.status_code
                times.sort()
                p95 = times[max(0, int(len(times) * 0.95) - 1)]
                print(f"| {name} | {statistics.median(times):.0f} | {p95:.0f} |")
        with session_factory(engine)() as session:
            name = f"the week menu's query alone ({len(weeks(session))} weeks)"
            p50, p95 = timed(lambda: weeks(session), args.repeat)
            print(f"| {name} | {p50:.0f} | {p95:.0f} |")
        engine.dispose()


if __name__ == "__main__":
    main()
