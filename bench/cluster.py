"""Crawl workers on one Redis and one PostgreSQL: throughput with 1, 2 and 4 workers, and a worker
killed with -9 at a random moment (issue 14).

The 181 Article Extraction Benchmark pages (``shared/eval/aeb`` next to the repository) are split
into ``--sites`` sites, each served from its own loopback address (127.0.0.10, .11, ...: distinct
hosts, so the host slots do not serialise them), with a sitemap and an allow-all robots.txt, from
one server process that logs every request. Each scenario gets a fresh PostgreSQL database and a
Redis of its own (``redis-server`` on a free port, no persistence), starts N ``claimwatch worker``
processes, enqueues one crawl per site, and waits until every site has a successful run and the
queue is empty:

``workers=N`` (``--workers``)  throughput (pages stored per minute, wall clock from the enqueue);
``kill``                       2 workers, one of them (chosen at random) killed with -9 at a random
                               moment while crawls run; its crawl is redelivered to the other once
                               its heartbeat is ``heartbeat_timeout_s`` old. Repeated ``--repeats``
                               times.

For each scenario: pages stored, URLs fetched more than once (and whether all of those belong to
a crawl the kill interrupted), pages lost (served in a sitemap, never stored), crawl runs.
Extraction runs in the crawl process (``extract_processes = 0``) so each crawl is one process and
two workers compete for the two cores as two crawls would; no download delay, 4 per domain.

Run once: ``.venv/bin/python bench/cluster.py [--sites 8] [--workers 1,2,4] [--repeats 3]
[--seed N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AEB = ROOT.parent / "shared" / "eval" / "aeb"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
NAMESPACE = "bench"
HOST_BASE = 10  # sites on 127.0.0.10, .11, ...


# -- the sites ---------------------------------------------------------------------------------


def serve(aeb: Path, sites: int, log_path: Path) -> None:
    """Serve the AEB pages split over ``sites`` loopback hosts; print one URL per site."""
    pages = sorted((aeb / "html").glob("*.html.gz"))
    shares = [pages[i::sites] for i in range(sites)]
    guard = threading.Lock()
    log = log_path.open("a", encoding="utf-8")

    def handler(share: list[Path]) -> type[BaseHTTPRequestHandler]:
        by_path = {f"/{p.name.removesuffix('.html.gz')}.html": p for p in share}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                host = self.headers.get("Host", "?")
                with guard:
                    log.write(f"{host}{path}\n")
                    log.flush()
                if path == "/robots.txt":
                    self.reply(b"User-agent: *\nAllow: /\n", "text/plain")
                elif path == "/sitemap.xml":
                    locs = "".join(
                        f"<url><loc>{escape(f'http://{host}{p}')}</loc></url>" for p in by_path
                    )
                    body = (
                        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns='
                        f'"http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
                    )
                    self.reply(body.encode(), "application/xml")
                elif path in by_path:
                    self.reply(gzip.decompress(by_path[path].read_bytes()), "text/html")
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def reply(self, body: bytes, ctype: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    for index, share in enumerate(shares):
        httpd = ThreadingHTTPServer((f"127.0.0.{HOST_BASE + index}", 0), handler(share))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        print(f"http://127.0.0.{HOST_BASE + index}:{httpd.server_address[1]} {len(share)}")
    sys.stdout.flush()
    sys.stdin.read()  # until the orchestrator is gone


# -- the services ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    from redis import Redis
    from redis.exceptions import RedisError

    port = free_port()
    binary = shutil.which("redis-server") or "redis-server"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = Redis.from_url(url)
    for _ in range(200):
        with contextlib.suppress(RedisError):
            client.ping()
            break
        time.sleep(0.05)
    client.close()
    return process, url


def admin(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def write_config(folder: Path, sites: list[str], db_url: str, redis_url: str) -> Path:
    lines = [
        f'data_dir = "{folder / "data"}"',
        f'database_url = "{db_url}"',
        "[crawl]",
        'allow_addresses = ["127.0.0.0/8"]',
        "download_delay = 0",
        "autothrottle = false",
        "concurrency_per_domain = 4",
        "extract_processes = 0",
        "retry_times = 0",
        "[cluster]",
        f'broker_url = "{redis_url}"',
        f'namespace = "{NAMESPACE}"',
        "lock_ttl_s = 5",
        "heartbeat_timeout_s = 10",
    ]
    for index, url in enumerate(sites):
        lines += [
            "[[sources]]",
            f'name = "site{index}"',
            'kind = "sitemap"',
            f'start_urls = ["{url}/sitemap.xml"]',
        ]
    path = folder / "claimwatch.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# -- one scenario ------------------------------------------------------------------------------


def scenario(
    name: str,
    workers: int,
    sites: list[tuple[str, int]],
    log_path: Path,
    kill_rng: random.Random | None,
) -> dict[str, Any]:
    from sqlalchemy import func, select

    from core.config import load_config
    from core.db import sessions_for
    from core.models import Article, CrawlRun, Source
    from worker.broker import enqueue_crawl, queue_depth

    database = f"bench_cluster_{os.getpid()}"
    admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    admin(f"CREATE DATABASE {database}")
    db_url = f"{PG_SERVER}/{database}"
    redis, redis_url = start_redis()
    folder = Path(tempfile.mkdtemp(prefix=f"cluster-{name}-"))
    path = write_config(folder, [url for url, _ in sites], db_url, redis_url)
    cli = [sys.executable, "-m", "claimwatch", "--config", str(path)]
    subprocess.run([*cli, "db", "upgrade"], check=True, capture_output=True, cwd=ROOT)
    config = load_config(path, env={})
    procs = [
        subprocess.Popen(
            [*cli, "worker"],
            cwd=ROOT,
            stdout=(folder / f"worker{n}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for n in range(workers)
    ]
    time.sleep(3.0)  # the workers' start-up is not the crawl's time
    log_path.write_text("")
    sessions = sessions_for(db_url)
    started = time.monotonic()
    for index in range(len(sites)):
        enqueue_crawl(config, f"site{index}")
    killed: str | None = None
    kill_at = started + kill_rng.uniform(3.0, 20.0) if kill_rng else None
    deadline = started + 1800
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if kill_at is not None and time.monotonic() >= kill_at and killed is None:
            victim = kill_rng.randrange(workers) if kill_rng else 0
            procs[victim].kill()
            killed = f"worker {victim} at {time.monotonic() - started:.1f} s"
        with sessions() as session:
            ok = session.scalar(
                select(func.count(func.distinct(CrawlRun.source_id))).where(CrawlRun.status == "ok")
            )
        if ok == len(sites) and queue_depth(config) == 0:
            break
    elapsed = time.monotonic() - started
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Article)) or 0
        runs = list(
            session.execute(
                select(Source.name, CrawlRun.status, CrawlRun.pages).join(
                    Source, CrawlRun.source_id == Source.id
                )
            )
        )
        stored_urls = set(session.scalars(select(Article.url)))
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=120)
    redis.kill()
    redis.wait()
    fetched = Counter(line.strip() for line in log_path.read_text().splitlines() if line.strip())
    pages = {u: n for u, n in fetched.items() if u.endswith(".html")}
    twice = {u: n for u, n in pages.items() if n > 1}
    rerun_sources = {s for s, status, _ in runs if status != "ok"}
    rerun_hosts = {
        sites[int(s.removeprefix("site"))][0].removeprefix("http://") for s in rerun_sources
    }
    served_total = sum(n for _, n in sites)
    lost = served_total - len({u for u in stored_urls})
    admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "scenario": name,
        "workers": workers,
        "elapsed_s": round(elapsed, 1),
        "stored": stored,
        "pages_per_min": round(stored / elapsed * 60, 1),
        "fetched_pages": sum(pages.values()),
        "fetched_twice": len(twice),
        "twice_only_in_interrupted_crawl": all(u.split("/", 1)[0] in rerun_hosts for u in twice),
        "not_stored": lost,
        "runs": sorted(f"{s}:{status}" for s, status, _ in runs if status != "ok"),
        "run_count": len(runs),
        "killed": killed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aeb", type=Path, default=DEFAULT_AEB)
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--workers",
        default="1,2,4",
        help="worker counts to measure, comma-separated (first: the base)",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.aeb, args.sites, args.log)
        return
    sys.path.insert(0, str(ROOT))
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    rng = random.Random(seed)
    log_path = Path(tempfile.mkdtemp(prefix="cluster-sites-")) / "access.log"
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--aeb",
            str(args.aeb),
            "--sites",
            str(args.sites),
            "--log",
            str(log_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    sites = []
    for _ in range(args.sites):
        url, count = server.stdout.readline().split()
        sites.append((url, int(count)))
    print(f"# load average at start: {os.getloadavg()}, seed {seed}", flush=True)
    results = []
    try:
        counts = [int(n) for n in args.workers.split(",")]
        for workers in counts:
            results.append(scenario(f"workers={workers}", workers, sites, log_path, None))
            print(json.dumps(results[-1]), flush=True)
        for repeat in range(args.repeats):
            results.append(scenario(f"kill #{repeat + 1}", 2, sites, log_path, rng))
            print(json.dumps(results[-1]), flush=True)
    finally:
        server.kill()
        server.wait()
    print(f"# load average at end: {os.getloadavg()}", flush=True)
    base = results[0]["pages_per_min"]
    for workers, result in zip(counts, results, strict=False):
        print(
            f"# {workers} workers / {counts[0]}: {result['pages_per_min'] / base:.2f}x", flush=True
        )


if __name__ == "__main__":
    main()
