"""Crawl throughput: a bare Scrapy spider vs the full claimwatch pipeline, on the same local site.

The 181 Article Extraction Benchmark pages (``shared/eval/aeb`` next to the repository) are served
on 127.0.0.1 from a separate server process (``--serve``): each page at ``/<sha256>.html``, plus
``/sitemap.xml`` and an allow-all ``/robots.txt``. Then, for each concurrency level, the two crawls
alternate for ``--rounds`` rounds, each in its own worker process (Twisted's reactor cannot
restart):

``bare``        a plain Spider: reads the sitemap, fetches every page, yields a trivial dict, no
                pipelines.
``claimwatch``  ``crawler.runner.run_crawl`` with one ``sitemap`` source: the project spider,
                extraction and SQLite storage (a fresh database in a temporary folder each round).

Both use the same ``CONCURRENT_REQUESTS`` / ``CONCURRENT_REQUESTS_PER_DOMAIN`` and
``DOWNLOAD_DELAY`` (``--download-delay``, default 0: with 0, Scrapy 2.19 on the asyncio reactor does
not enforce the per-domain limit; 0.001 makes it hold), no AutoThrottle, and obey robots.txt. The elapsed time runs from ``spider_opened`` to
``spider_closed`` (so it includes the last store batch but not imports or schema migrations); CPU
is the worker's CPU time over the same span (all threads, plus child processes that ended in it).

``--latency-ms`` makes the server wait before each response, to imitate a remote site. Each crawl
records how much CPU other processes used meanwhile and is redone (``--retries``) when that exceeds
``--max-foreign`` of the machine; a worker that crashes is reported and redone too.
``--profile`` adds one profiled crawl of each kind per level (cProfile with per-thread CPU clocks
in every thread of the worker) and prints the CPU per thread and the top costs.

``--sites N`` is the many-sites scenario instead: N sites, one per loopback address (127.0.0.2,
127.0.0.3, ...; one server process, one port), each serving 25 of the AEB pages with its own
sitemap and robots.txt; every kind of crawl in ``--kinds`` (``bare``, ``claimwatch`` with a worker
process per CPU, ``claimwatch-<n>`` with n extraction processes, 0 for none) runs once per round,
the order rotated each round, at ``--concurrency`` requests in all and ``--per-domain`` per site.
Reported per kind: pages/min, its ratio to bare Scrapy (median of the rounds' ratios), CPU ms per
page in the crawl process alone and in all processes together (the crawl process, its worker
processes), and the peak resident memory of the crawl process and its children together (sampled
every 0.25 s), with the peaks of the crawl process alone and of its workers, and the CPU per
page of each of the crawl process's threads (``store``, ``dedup``, ``MainThread``: the reactor).
A kind ending in ``@base`` runs the same crawl importing claimwatch from ``--base`` (another
checkout, e.g. a worktree of main) instead: before and after, side by side in one run.

Run: ``.venv/bin/python bench/crawl.py [--rounds 5] [--levels 16:8,16:2] [--latency-ms 0]``, or
``.venv/bin/python bench/crawl.py --sites 40 --rounds 2 --latency-ms 100 --download-delay 0.05``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gzip
import io
import json
import os
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from xml.sax.saxutils import escape

DEFAULT_AEB = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aeb"
SCRIPT = Path(__file__).resolve()
RESULT_PREFIX = "RESULT "
STAGES = (
    r"\((extract_html|bare_extraction|extract_metadata|find_date|_blocks|listing_reason|"
    r"_write|store_batch|compress_html|parse_page|parse_sitemap|process_item|_flush|"
    r"html_to_unicode|findsource|getsourcefile|is_generator_with_return_value|"
    r"warn_on_generator_with_return_value|process_request|check)\)"
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


# -- server ----------------------------------------------------------------------------------------


def load_site(aeb: Path) -> dict[str, tuple[bytes, str]]:
    """``/<sha>.html`` -> (decompressed body, content type) for every AEB page."""
    pages: dict[str, tuple[bytes, str]] = {}
    for path in sorted((aeb / "html").glob("*.html.gz")):
        body = gzip.decompress(path.read_bytes())
        match = _META_CHARSET.search(body[:4096])
        charset = match.group(1).decode("ascii").lower() if match else "utf-8"
        sha = path.name.removesuffix(".html.gz")
        pages[f"/{sha}.html"] = (body, f"text/html; charset={charset}")
    return pages


class BenchHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real web server
    disable_nagle_algorithm = True  # else headers, then body: a delayed-ACK stall per response
    pages: ClassVar[dict[str, tuple[bytes, str]]] = {}
    latency: ClassVar[float] = 0.0

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8"
        elif path == "/sitemap.xml":
            base = f"http://{self.headers.get('Host', '127.0.0.1')}"
            locs = "".join(f"<url><loc>{escape(base + p)}</loc></url>\n" for p in self.pages)
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                f"{locs}</urlset>\n"
            ).encode()
            ctype = "application/xml"
        elif path in self.pages:
            body, ctype = self.pages[path]
        else:
            body, ctype = b"<h1>Not found</h1>", "text/html; charset=utf-8"
            self.reply(404, body, ctype)
            return
        self.reply(200, body, ctype)

    def reply(self, status: int, body: bytes, ctype: str) -> None:
        if self.latency:
            time.sleep(self.latency)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class BenchServer(ThreadingHTTPServer):
    daemon_threads = True
    # Scrapy opens a new connection for most requests; the default listen backlog (5) overflows
    # and the dropped SYNs cost the client a one-second retransmission each.
    request_queue_size = 1024


def exit_on_stdin_eof() -> None:
    """The orchestrator holds our stdin open: when it is gone, so are we."""
    sys.stdin.read()
    os._exit(0)


SITE_PAGES = 25  # pages per site in the many-sites scenario
FIRST_SITE = 2  # the sites are 127.0.0.2, 127.0.0.3, ...


def site_address(k: int) -> str:
    """The loopback address of site ``k`` (0-based) of the many-sites scenario."""
    return f"127.0.0.{FIRST_SITE + k}"


def site_urls(sites: int, port: int) -> list[str]:
    return [f"http://{site_address(k)}:{port}" for k in range(sites)]


def serve_sites(aeb: Path, latency_ms: float, sites: int) -> None:
    """``sites`` servers, one per loopback address, on one port; each serves its own 25 pages.

    Site ``k`` serves AEB pages ``25k`` to ``25k + 24`` (modulo the 181), so with more than 7
    sites some sites serve pages other sites serve too (as reposting content farms do).
    """
    if not 1 <= sites <= 250:
        raise SystemExit(f"--sites must be in 1..250, not {sites}")
    everything = load_site(aeb)
    paths = list(everything)
    servers: list[BenchServer] = []
    port = 0
    for k in range(sites):
        chosen = [paths[(k * SITE_PAGES + j) % len(paths)] for j in range(SITE_PAGES)]
        handler = type(
            f"Site{k}Handler",
            (BenchHandler,),
            {"pages": {p: everything[p] for p in chosen}, "latency": latency_ms / 1000},
        )
        httpd = BenchServer((site_address(k), port), handler)
        port = httpd.server_address[1]
        servers.append(httpd)
    for httpd in servers:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"port {port}", flush=True)
    exit_on_stdin_eof()


def serve(aeb: Path, latency_ms: float) -> None:
    BenchHandler.pages = load_site(aeb)
    BenchHandler.latency = latency_ms / 1000
    httpd = BenchServer(("127.0.0.1", 0), BenchHandler)
    threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    print(f"http://127.0.0.1:{httpd.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()


# -- workers ---------------------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    """The live processes under ``pid``, children of children included."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        kids = [int(c) for c in children]
        found += kids
        todo += kids
    return found


def crawl_cpu_seconds() -> tuple[float, float]:
    """(all processes, this process alone): this process, its finished children and its live
    descendants (worker processes still up), from one ``os.times`` reading."""
    t = os.times()
    own = t.user + t.system
    total = own + t.children_user + t.children_system
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError, ValueError):
            total += process_cpu(pid)
    return total, own


def thread_cpu() -> dict[int, tuple[str, float]]:
    """This process's live threads: native id -> (name without its number, CPU seconds so far)."""
    found: dict[int, tuple[str, float]] = {}
    for thread in threading.enumerate():
        tid = thread.native_id
        if tid is None:
            continue
        with contextlib.suppress(OSError, ValueError):
            text = Path(f"/proc/self/task/{tid}/stat").read_text(encoding="ascii", errors="replace")
            fields = text[text.rindex(")") + 2 :].split()
            name = re.sub(r"[_-]\d+$", "", thread.name)
            found[tid] = (name, (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return found


class ThreadCpu:
    """Samples the CPU of each thread of this process every ``interval`` seconds (a thread's
    last reading stands for it once it has ended), for the CPU per thread group of a crawl."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.start = thread_cpu()
        self.last: dict[int, tuple[str, float]] = dict(self.start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="sampler")
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.last.update(thread_cpu())

    def stop(self) -> dict[str, float]:
        """CPU seconds per thread group since the start."""
        self._stop.set()
        self._thread.join()
        self.last.update(thread_cpu())
        groups: dict[str, float] = {}
        for tid, (name, seconds) in self.last.items():
            before = self.start.get(tid, (name, 0.0))[1]
            groups[name] = groups.get(name, 0.0) + seconds - before
        return groups


class Meter:
    """Scrapy extension: wall and CPU time from spider_opened to spider_closed, and the CPU of
    the crawl process's threads (by name: MainThread the reactor, store, dedup, ...)."""

    opened: ClassVar[tuple[float, float, float]] = (0.0, 0.0, 0.0)
    closed: ClassVar[tuple[float, float, float]] = (0.0, 0.0, 0.0)
    threads: ClassVar[dict[str, float]] = {}
    sampler: ClassVar[ThreadCpu | None] = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Meter:
        from scrapy import signals

        ext = cls()
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        Meter.opened = (time.perf_counter(), *crawl_cpu_seconds())
        Meter.sampler = ThreadCpu()

    def spider_closed(self, spider: Any) -> None:
        wall, total, own = time.perf_counter(), *crawl_cpu_seconds()
        if Meter.sampler is not None:
            Meter.threads = Meter.sampler.stop()
            sampled = Meter.threads.pop("sampler", 0.0)  # the measurement's own CPU: not counted
            total, own = total - sampled, own - sampled
        Meter.closed = (wall, total, own)

    @classmethod
    def spans(cls) -> tuple[float, float, float]:
        """Wall time, CPU of all processes, CPU of the crawl process alone."""
        return tuple(b - a for a, b in zip(cls.opened, cls.closed, strict=True))  # type: ignore[return-value]


def common_settings(concurrency: int, per_domain: int, delay: float) -> dict[str, Any]:
    return {
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
        "DOWNLOAD_DELAY": delay,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": True,
    }


def run_bare(urls: list[str], concurrency: int, per_domain: int, delay: float) -> dict[str, Any]:
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response
    from scrapy.utils.sitemap import Sitemap

    class BareSpider(Spider):
        name = "bare"
        pages = 0

        async def start(self) -> Any:
            for url in urls:
                yield Request(f"{url}/sitemap.xml", callback=self.parse_sitemap)

        def parse_sitemap(self, response: Response) -> Iterator[Request]:
            for entry in Sitemap(response.body):
                yield Request(entry["loc"], callback=self.parse_page)

        def parse_page(self, response: Response) -> Iterator[dict[str, Any]]:
            BareSpider.pages += 1
            yield {"url": response.url}

    settings = {
        **common_settings(concurrency, per_domain, delay),
        "USER_AGENT": "claimwatch-bench (bare)",
        "LOG_LEVEL": "WARNING",
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "EXTENSIONS": {Meter: 500},
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return {"pages": BareSpider.pages, "items": int(stats.get("item_scraped_count", 0))}


def claimwatch_config(
    urls: list[str],
    concurrency: int,
    per_domain: int,
    delay: float,
    data_dir: Path,
    extract_processes: int | None = None,
) -> Any:
    """One ``sitemap`` source per site (``aeb`` for one site, ``site-<k>`` for many)."""
    from core.config import Config

    names = ["aeb"] if len(urls) == 1 else [f"site-{k}" for k in range(len(urls))]

    return Config.model_validate(
        {
            "data_dir": str(data_dir),
            "crawl": {
                "concurrent_requests": concurrency,
                "concurrency_per_domain": per_domain,
                "download_delay": delay,
                "autothrottle": False,
                "obey_robots": True,
                "allow_addresses": ["127.0.0.0/8"],
                "extract_processes": extract_processes,
            },
            "sources": [
                {
                    "name": name,
                    "kind": "sitemap",
                    "start_urls": [f"{url}/sitemap.xml"],
                    "max_pages": 1000,
                }
                for name, url in zip(names, urls, strict=True)
            ],
        }
    )


def run_claimwatch(
    urls: list[str],
    concurrency: int,
    per_domain: int,
    delay: float,
    extract_processes: int | None = None,
) -> dict[str, Any]:
    from crawler.runner import run_crawl
    from crawler.scrapy_settings import build_settings

    with tempfile.TemporaryDirectory(prefix="claimwatch-bench-") as tmp:
        config = claimwatch_config(
            urls, concurrency, per_domain, delay, Path(tmp), extract_processes
        )
        extensions = {**build_settings(config)["EXTENSIONS"], Meter: 500}
        summary = run_crawl(
            config, log_level="WARNING", progress=False, extra_settings={"EXTENSIONS": extensions}
        )
    stats = summary.stats
    return {
        "pages": int(stats.get("fetch/pages", 0)),
        "items": int(stats.get("store/inserted", 0)),
        "finish_reason": summary.finish_reason,
        "status": summary.statuses.get("aeb") or ",".join(sorted(set(summary.statuses.values()))),
        "outcomes": {
            key: int(value)
            for key, value in sorted(stats.items())
            if key.startswith(("extract/", "store/", "errors/", "dedup/", "score/articles"))
        },
    }


class ThreadProfiles:
    """cProfile in the main thread and in every thread started while active (the pools).

    The timer is each thread's own CPU time, so waits (epoll, locks, the GIL) do not count and the
    merged profile says where the process's CPU goes. ``dump`` also writes the CPU per thread group
    (``MainThread``, ``extract``, ``store``, ...) next to the profile, as JSON.
    """

    def __init__(self) -> None:
        self.profiles: list[tuple[str, cProfile.Profile]] = []
        self.lock = threading.Lock()

    def _start_in_thread(self, *_: Any) -> None:
        profile = cProfile.Profile(time.thread_time)
        name = re.sub(r"[_-]\d+$", "", threading.current_thread().name)
        with self.lock:
            self.profiles.append((name, profile))
        profile.enable()  # replaces this hook for the rest of the thread's life

    def __enter__(self) -> ThreadProfiles:
        threading.setprofile(self._start_in_thread)
        self._start_in_thread()
        return self

    def __exit__(self, *_: Any) -> None:
        threading.setprofile(None)
        self.profiles[0][1].disable()

    def dump(self, path: Path) -> None:
        """The merged profile at ``path``, each thread group's at ``<path>.<group>.prof``."""
        merged: pstats.Stats | None = None
        groups: dict[str, float] = {}
        by_group: dict[str, pstats.Stats] = {}
        for name, profile in self.profiles:
            spent = pstats.Stats(profile).total_tt  # type: ignore[attr-defined]
            groups[name] = groups.get(name, 0.0) + spent
            if name in by_group:
                by_group[name].add(profile)
            else:
                by_group[name] = pstats.Stats(profile)
            if merged is None:
                merged = pstats.Stats(profile)
            else:
                merged.add(profile)
        assert merged is not None
        merged.dump_stats(str(path))
        for name, stats in by_group.items():
            stats.dump_stats(str(path.with_suffix(f".{re.sub(r'[^A-Za-z0-9]+', '_', name)}.prof")))
        path.with_suffix(".threads.json").write_text(json.dumps(groups), encoding="utf-8")


def run_kind(kind: str, urls: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """``bare``, ``claimwatch`` (a worker per CPU) or ``claimwatch-<n>`` (n extraction processes)."""
    common = (urls, args.concurrency, args.per_domain, args.download_delay)
    if kind == "bare":
        return run_bare(*common)
    processes = None if kind == "claimwatch" else int(kind.removeprefix("claimwatch-"))
    return run_claimwatch(*common, extract_processes=processes)


def worker(args: argparse.Namespace) -> None:
    urls = site_urls(args.sites, args.port) if args.sites else [args.url]
    start = time.perf_counter()
    if args.profile:
        with ThreadProfiles() as profiles:
            result = run_kind(args.worker, urls, args)
        profiles.dump(args.profile)
    else:
        result = run_kind(args.worker, urls, args)
    elapsed, cpu, own_cpu = Meter.spans()
    result.update(
        kind=args.worker,
        elapsed=elapsed,
        cpu=cpu,
        own_cpu=own_cpu,
        threads=Meter.threads,
        process_wall=time.perf_counter() - start,
    )
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# -- orchestration ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    concurrency: int
    per_domain: int

    @property
    def label(self) -> str:
        return f"{self.concurrency}/{self.per_domain}"


def parse_levels(text: str) -> list[Level]:
    levels = []
    for part in text.split(","):
        total, _, per_domain = part.partition(":")
        levels.append(Level(int(total), int(per_domain or total)))
    return levels


CLK_TCK = os.sysconf("SC_CLK_TCK")


def system_busy() -> float:
    """CPU seconds all CPUs have spent busy since boot, from /proc/stat (steal counts as busy)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def process_cpu(pid: int) -> float:
    """CPU seconds of a running process and of its waited-for children, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
        text = stat.read()
    fields = text[text.rindex(")") + 2 :].split()
    return sum(int(x) for x in fields[11:15]) / CLK_TCK  # utime, stime, cutime, cstime


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_rss(pid: int, children: bool = True) -> int:
    """Resident memory of ``pid`` and (``children``) its live descendants, in bytes (from /proc)."""
    total = 0
    for each in [pid, *descendants(pid)] if children else [pid]:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
    return total


class PeakRss:
    """Samples the resident memory of a process tree every ``interval`` seconds; keeps the peak
    of the tree, of the process alone and of its descendants, and the process's own RSS over time
    (``trace``: (seconds since the start, MiB), one reading a second)."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.peak_own = 0
        self.peak_children = 0
        self.trace: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(self.interval):
            own = tree_rss(self.pid, children=False)
            total = tree_rss(self.pid)
            self.peak = max(self.peak, total)
            self.peak_own = max(self.peak_own, own)
            self.peak_children = max(self.peak_children, total - own)
            at = time.monotonic() - start
            if not self.trace or at - self.trace[-1][0] >= 1.0:
                self.trace.append((round(at, 1), round(own / 2**20, 1)))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_worker(
    kind: str,
    target: list[str],
    level: Level,
    delay: float,
    server_pid: int,
    profile: Path | None = None,
    base: Path | None = None,
) -> dict[str, Any]:
    """One crawl in a fresh process, with how much CPU other processes on the machine used.

    ``target`` is ``["--url", url]`` or ``["--sites", n, "--port", port]``. A ``kind`` ending in
    ``@base`` imports claimwatch from the ``base`` checkout (``PYTHONPATH``) instead of this one.
    ``foreign_cpu_share`` is the CPU time used by anything but the worker and the server, as a
    share of all CPUs over the run: on a shared machine, a high value means a disturbed run.
    ``peak_rss`` is the peak resident memory of the worker and its child processes together.
    """
    env = None
    if kind.endswith("@base"):
        if base is None:
            raise SystemExit(f"{kind}: needs --base (the other checkout)")
        env = {**os.environ, "PYTHONPATH": str(base)}
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--worker",
        kind.removesuffix("@base"),
        *target,
        "--concurrency",
        str(level.concurrency),
        "--per-domain",
        str(level.per_domain),
        "--download-delay",
        str(delay),
    ]
    if profile is not None:
        cmd += ["--profile-path", str(profile)]
    busy, server, ours, start = system_busy(), process_cpu(server_pid), children_cpu(), time.time()
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        rss = PeakRss(process.pid)
        stdout, stderr = process.communicate()
        peak = rss.stop()
    wall = time.time() - start
    foreign = (system_busy() - busy) - (process_cpu(server_pid) - server) - (children_cpu() - ours)
    share = max(0.0, foreign) / (wall * (os.cpu_count() or 1))
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            result["foreign_cpu_share"] = share
            result["peak_rss"] = peak
            result["peak_rss_crawl"] = rss.peak_own
            result["peak_rss_workers"] = rss.peak_children
            result["rss_trace"] = rss.trace
            return result
    # A crash (a signal, an exception) is a finding too: report it and let the caller redo.
    last = (stderr.strip().splitlines() or ["(no output)"])[-1]
    print(f"  {kind} worker failed ({process.returncode}): {last}", file=sys.stderr, flush=True)
    return {
        "kind": kind,
        "crashed": f"exit {process.returncode}: {last}",
        "foreign_cpu_share": share,
    }


def pages_per_min(result: dict[str, Any]) -> float:
    return 60 * result["pages"] / result["elapsed"] if result["elapsed"] else 0.0


def start_server(aeb: Path, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, str(SCRIPT), "--serve", "--aeb", str(aeb)]
    cmd += ["--latency-ms", str(latency_ms)]
    server = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    if not url.startswith("http://"):
        server.kill()
        raise RuntimeError("the bench server did not start")
    return server, url


def profile_report(path: Path, top: int) -> str:
    """CPU per thread group, then the top functions by own time and the pipeline's stages."""
    groups: dict[str, float] = json.loads(path.with_suffix(".threads.json").read_text())
    total = sum(groups.values()) or 1.0
    out = io.StringIO()
    out.write("CPU by thread (profiled, so inflated; compare the shares):\n")
    for name, seconds in sorted(groups.items(), key=lambda kv: -kv[1]):
        out.write(f"  {name:<40} {seconds:7.2f} s  {100 * seconds / total:5.1f} %\n")
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(STAGES, 25)
    return out.getvalue()


def machine() -> str:
    import platform

    import scrapy
    import trafilatura

    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import claimwatch

    source = Path(claimwatch.__file__).resolve().parents[1]  # the code the workers will import
    revision = subprocess.run(
        ["git", "log", "-1", "--format=%h %s"],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    revision = f"{source} at {revision or '?'}{' (uncommitted changes)' if dirty else ''}"
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"Scrapy {scrapy.__version__}, trafilatura {trafilatura.__version__}, "
        f"claimwatch {revision or '?'}"
    )


def orchestrate(args: argparse.Namespace) -> None:
    levels = parse_levels(args.levels)
    server, url = start_server(args.aeb, args.latency_ms)
    results: dict[str, Any] = {
        "machine": machine(),
        "latency_ms": args.latency_ms,
        "download_delay": args.download_delay,
        "levels": {},
    }
    try:
        print(
            f"{machine()}\nserver {url}, latency {args.latency_ms} ms/response, "
            f"DOWNLOAD_DELAY {args.download_delay} s\n",
            flush=True,
        )
        for level in levels:
            rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
            crashes: list[str] = []
            for i in range(args.rounds):
                order = ("bare", "claimwatch") if i % 2 == 0 else ("claimwatch", "bare")
                got = {}
                for kind in order:
                    for attempt in range(1 + args.retries):
                        got[kind] = run_worker(
                            kind, ["--url", url], level, args.download_delay, server.pid
                        )
                        got[kind]["attempts"] = attempt + 1
                        if "crashed" in got[kind]:
                            crashes.append(got[kind]["crashed"])
                        elif got[kind]["foreign_cpu_share"] <= args.max_foreign:
                            break
                    if "crashed" in got[kind]:
                        raise RuntimeError(f"{kind} crashed {1 + args.retries} times: {crashes}")
                a, b = got["bare"], got["claimwatch"]
                rounds.append((a, b))
                print(
                    f"  level {level.label} round {i + 1}: bare {a['pages']} pages "
                    f"{a['elapsed']:.2f}s (other CPU use {a['foreign_cpu_share']:.0%}, "
                    f"attempt {a['attempts']}), claimwatch {b['pages']} pages {b['elapsed']:.2f}s "
                    f"(other CPU use {b['foreign_cpu_share']:.0%}, attempt {b['attempts']}; "
                    f"stored {b['items']})",
                    file=sys.stderr,
                    flush=True,
                )
            results["levels"][level.label] = summarise(level, rounds)
            results["levels"][level.label]["crashes"] = crashes
            if args.profile:
                for kind in ("bare", "claimwatch"):
                    path = Path(tempfile.gettempdir()) / f"bench-{kind}-{level.per_domain}.prof"
                    got = run_worker(
                        kind, ["--url", url], level, args.download_delay, server.pid, profile=path
                    )
                    results["levels"][level.label][f"profile_{kind}"] = str(path)
                    print(
                        f"\n### cProfile, {kind}, level {level.label}: {path} "
                        f"({got['elapsed']:.2f} s profiled)\n"
                    )
                    print("```\n" + profile_report(path, args.profile_top) + "```\n", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)

    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def start_sites_server(
    aeb: Path, latency_ms: float, sites: int
) -> tuple[subprocess.Popen[str], int]:
    cmd = [sys.executable, str(SCRIPT), "--serve", "--aeb", str(aeb), "--sites", str(sites)]
    cmd += ["--latency-ms", str(latency_ms)]
    server = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline().strip()
    if not line.startswith("port "):
        server.kill()
        raise RuntimeError("the many-sites bench server did not start")
    return server, int(line.split()[1])


def orchestrate_sites(args: argparse.Namespace) -> None:
    """The many-sites scenario: every kind once per round, the order rotated each round."""
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    for kind in kinds:
        if not re.fullmatch(r"bare|claimwatch(-\d+)?(@base)?", kind):
            raise SystemExit(
                f"--kinds: {kind!r} is not bare, claimwatch or claimwatch-<n> (each with @base)"
            )
    if "bare" not in kinds:
        raise SystemExit("--kinds must include bare (the ratios are to it)")
    level = Level(args.concurrency, args.per_domain)
    server, port = start_sites_server(args.aeb, args.latency_ms, args.sites)
    target = ["--sites", str(args.sites), "--port", str(port)]
    rounds: list[dict[str, dict[str, Any]]] = []
    crashes: list[str] = []
    try:
        print(
            f"{machine()}\n{args.sites} sites on {site_address(0)}-{site_address(args.sites - 1)}"
            f":{port}, {SITE_PAGES} pages each, latency {args.latency_ms} ms/response, "
            f"DOWNLOAD_DELAY {args.download_delay} s, {level.concurrency} requests in all, "
            f"{level.per_domain} per domain; load average {os.getloadavg()}\n",
            flush=True,
        )
        for i in range(args.rounds):
            order = kinds[i % len(kinds) :] + kinds[: i % len(kinds)]
            got: dict[str, dict[str, Any]] = {}
            for kind in order:
                for attempt in range(1 + args.retries):
                    got[kind] = run_worker(
                        kind, target, level, args.download_delay, server.pid, base=args.base
                    )
                    got[kind]["attempts"] = attempt + 1
                    if "crashed" in got[kind]:
                        crashes.append(f"{kind}: {got[kind]['crashed']}")
                    elif got[kind]["foreign_cpu_share"] <= args.max_foreign:
                        break
                if "crashed" in got[kind]:
                    raise RuntimeError(f"{kind} crashed {1 + args.retries} times: {crashes}")
                r = got[kind]
                print(
                    f"  round {i + 1} {kind}: {r['pages']} pages in {r['elapsed']:.1f} s, "
                    f"stored {r['items']}, other CPU use {r['foreign_cpu_share']:.0%} "
                    f"(attempt {r['attempts']}), load average {os.getloadavg()[0]:.2f}",
                    file=sys.stderr,
                    flush=True,
                )
            rounds.append(got)
    finally:
        server.terminate()
        server.wait(timeout=10)
    results = {
        "machine": machine(),
        "sites": args.sites,
        "latency_ms": args.latency_ms,
        "download_delay": args.download_delay,
        "level": level.label,
        "kinds": {kind: summarise_kind(kind, rounds) for kind in kinds},
        "crashes": crashes,
        "load_average_after": os.getloadavg(),
    }
    print_sites_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def summarise_kind(kind: str, rounds: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    runs = [r[kind] for r in rounds]
    rates = [pages_per_min(r) for r in runs]
    bare = [pages_per_min(r["bare"]) for r in rounds]
    return {
        "pages_per_min": statistics.median(rates),
        "ratio_to_bare": statistics.median(
            rate / max(base, 1e-9) for rate, base in zip(rates, bare, strict=True)
        ),
        "cpu_ms_per_page_crawl": statistics.median(
            1000 * r["own_cpu"] / max(r["pages"], 1) for r in runs
        ),
        "cpu_ms_per_page_all": statistics.median(
            1000 * r["cpu"] / max(r["pages"], 1) for r in runs
        ),
        "peak_rss_mib": max(r["peak_rss"] for r in runs) / 2**20,
        "peak_rss_crawl_mib": max(r["peak_rss_crawl"] for r in runs) / 2**20,
        "peak_rss_workers_mib": max(r["peak_rss_workers"] for r in runs) / 2**20,
        "thread_ms_per_page": {
            name: statistics.median(
                1000 * r.get("threads", {}).get(name, 0.0) / max(r["pages"], 1) for r in runs
            )
            for name in sorted({n for r in runs for n in r.get("threads", {})})
        },
        "pages": [r["pages"] for r in runs],
        "stored": [r["items"] for r in runs],
        "max_foreign_cpu_share": max(r["foreign_cpu_share"] for r in runs),
        "redone": sum(r["attempts"] - 1 for r in runs),
        "outcomes": runs[-1].get("outcomes", {}),
        "runs": runs,
    }


def print_sites_table(results: dict[str, Any]) -> None:
    print(
        f"\n{results['sites']} sites, latency {results['latency_ms']} ms, DOWNLOAD_DELAY "
        f"{results['download_delay']} s, {results['level']} (all/per domain); medians of "
        f"{len(next(iter(results['kinds'].values()))['pages'])} rounds\n"
    )
    print(
        "| crawl | pages/min | ÷ bare (median of rounds) | CPU ms/page, crawl process "
        "| CPU ms/page, all processes | peak RSS (MiB, with children) | pages fetched | stored |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for kind, r in results["kinds"].items():
        print(
            f"| {kind} | {r['pages_per_min']:,.0f} | {r['ratio_to_bare']:.3f} "
            f"| {r['cpu_ms_per_page_crawl']:.1f} | {r['cpu_ms_per_page_all']:.1f} "
            f"| {r['peak_rss_mib']:.0f} | {r['pages']} | {r['stored']} |"
        )
    print()
    for kind, r in results["kinds"].items():
        threads = ", ".join(
            f"{name} {ms:.1f}" for name, ms in r["thread_ms_per_page"].items() if ms >= 0.05
        )
        print(
            f"{kind}: crawl process CPU ms/page by thread: {threads or '-'}; peak RSS crawl "
            f"process {r['peak_rss_crawl_mib']:.0f} MiB, its workers "
            f"{r['peak_rss_workers_mib']:.0f} MiB"
        )
    print()
    for kind, r in results["kinds"].items():
        if kind != "bare":
            outcomes = ", ".join(f"{key} {value}" for key, value in r["outcomes"].items())
            print(f"{kind}, last round: {outcomes}")
    print(
        "other processes used at most "
        + ", ".join(f"{k} {r['max_foreign_cpu_share']:.0%}" for k, r in results["kinds"].items())
        + f" of the CPUs; crawls redone: {sum(r['redone'] for r in results['kinds'].values())}; "
        f"worker crashes: {results['crashes'] or 'none'}; load average after "
        f"{results['load_average_after']}"
    )


def summarise(level: Level, rounds: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    a_rates = [pages_per_min(a) for a, _ in rounds]
    b_rates = [pages_per_min(b) for _, b in rounds]
    last = rounds[-1][1]
    return {
        "concurrency": level.concurrency,
        "per_domain": level.per_domain,
        "rounds": len(rounds),
        "bare_ppm": statistics.median(a_rates),
        "claimwatch_ppm": statistics.median(b_rates),
        "ratio_of_medians": statistics.median(b_rates) / max(statistics.median(a_rates), 1e-9),
        "median_ratio": statistics.median(
            b / max(a, 1e-9) for a, b in zip(a_rates, b_rates, strict=True)
        ),
        "bare_elapsed": statistics.median(a["elapsed"] for a, _ in rounds),
        "claimwatch_elapsed": statistics.median(b["elapsed"] for _, b in rounds),
        "bare_cpu_ms_per_page": statistics.median(
            1000 * a["cpu"] / max(a["pages"], 1) for a, _ in rounds
        ),
        "claimwatch_cpu_ms_per_page": statistics.median(
            1000 * b["cpu"] / max(b["pages"], 1) for _, b in rounds
        ),
        "bare_pages": [a["pages"] for a, _ in rounds],
        "claimwatch_pages": [b["pages"] for _, b in rounds],
        "outcomes": last["outcomes"],
        "status": last["status"],
        "max_foreign_cpu_share": max(
            max(a["foreign_cpu_share"], b["foreign_cpu_share"]) for a, b in rounds
        ),
        "redone": sum(a["attempts"] - 1 + b["attempts"] - 1 for a, b in rounds),
        "rounds_raw": [{"bare": a, "claimwatch": b} for a, b in rounds],
    }


def print_table(results: dict[str, Any]) -> None:
    print(
        f"\nServer latency per response: {results['latency_ms']} ms; "
        f"DOWNLOAD_DELAY {results['download_delay']} s\n"
    )
    print(
        "| concurrency (total/per domain) | rounds | bare pages/min | claimwatch pages/min "
        "| b/a (medians) | b/a (median of rounds) | bare s | claimwatch s "
        "| CPU ms/page bare | CPU ms/page claimwatch |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in results["levels"].items():
        print(
            f"| {label} | {r['rounds']} | {r['bare_ppm']:.0f} | {r['claimwatch_ppm']:.0f} "
            f"| {r['ratio_of_medians']:.2f} | {r['median_ratio']:.2f} "
            f"| {r['bare_elapsed']:.2f} | {r['claimwatch_elapsed']:.2f} "
            f"| {r['bare_cpu_ms_per_page']:.1f} | {r['claimwatch_cpu_ms_per_page']:.1f} |"
        )
    print()
    for label, r in results["levels"].items():
        outcomes = ", ".join(f"{key} {value}" for key, value in r["outcomes"].items())
        print(
            f"level {label}: pages fetched per round: bare {r['bare_pages']}, claimwatch "
            f"{r['claimwatch_pages']}; claimwatch's last round: {outcomes} "
            f"(source status {r['status']}); other processes used at most "
            f"{r['max_foreign_cpu_share']:.0%} of the CPUs during a kept crawl "
            f"({r['redone']} crawls redone; {len(r['crashes'])} worker crashes"
            + (f": {'; '.join(r['crashes'])}" if r["crashes"] else "")
            + ")"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aeb", type=Path, default=DEFAULT_AEB, help="AEB data folder")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--levels",
        default="16:8,16:2",
        help="comma-separated CONCURRENT_REQUESTS:CONCURRENT_REQUESTS_PER_DOMAIN pairs",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="server delay per response")
    parser.add_argument(
        "--download-delay",
        type=float,
        default=0.0,
        help="DOWNLOAD_DELAY for both crawls (0.001: see the README on per-domain limits)",
    )
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=0.10,
        help="redo a crawl when other processes used more than this share of all CPUs",
    )
    parser.add_argument("--retries", type=int, default=3, help="redos per crawl at most")
    parser.add_argument(
        "--profile", action="store_true", help="add one profiled crawl of each kind"
    )
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--sites",
        type=int,
        default=0,
        help=f"the many-sites scenario: this many sites on {site_address(0)}..., "
        f"{SITE_PAGES} pages each (then --concurrency/--per-domain set the level)",
    )
    parser.add_argument(
        "--kinds",
        default="bare,claimwatch-0,claimwatch-1,claimwatch-2",
        help="with --sites: the crawls to compare (bare, claimwatch, claimwatch-<n> for n "
        "extraction processes)",
    )
    parser.add_argument(
        "--base",
        type=Path,
        help="with --sites: the checkout that kinds ending in @base import claimwatch from "
        "(e.g. a worktree of main), to compare before and after in one run",
    )
    # internal: the server and worker processes
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--concurrency", type=int, default=16, help="with --sites: CONCURRENT_REQUESTS"
    )
    parser.add_argument(
        "--per-domain", type=int, default=2, help="with --sites: CONCURRENT_REQUESTS_PER_DOMAIN"
    )
    parser.add_argument("--profile-path", dest="profile_path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve and args.sites:
        serve_sites(args.aeb, args.latency_ms, args.sites)
    elif args.serve:
        serve(args.aeb, args.latency_ms)
    elif args.worker:
        args.profile = args.profile_path
        worker(args)
    elif args.sites:
        orchestrate_sites(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
