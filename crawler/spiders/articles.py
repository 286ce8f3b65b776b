"""The one generic spider, driven by the sources in the configuration.

``scrapy crawl articles`` crawls every enabled source; ``-a sources=a,b`` picks some. For each source
it discovers article URLs (sitemaps and sitemap indexes, robots.txt ``Sitemap:`` lines, RSS/Atom feeds,
or links within the source's domains), skips what has not changed since the last run, and yields a
:class:`~pipeline.items.PageItem` per fetched page. Every outcome is counted in the stats, globally and
under ``source/<name>/``; failures keep a few samples for the crawl-run record.

A sitemap index is read once per source and run: an index that lists itself or one of the indexes
that led to it counts ``sitemap/loop``, one that lists a sitemap already read in this run counts
``sitemap/repeated``; either is recorded as an error of the source (``errors/sitemap_loop``,
``errors/sitemap_repeated``, with the URLs) instead of vanishing in the duplicate filter.

Settings read: ``CLAIMWATCH_SOURCES`` (the configured sources), ``CLAIMWATCH_RECRAWL_AFTER_DAYS``,
``DOWNLOAD_MAXSIZE`` (also the cap for an unzipped sitemap or feed), and ``CLAIMWATCH_DB_URL`` for
the pages stored by earlier runs (absent: every page is new).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from core.config import Source, SourceKind
from core.db import sessions_for
from crawler.discovery import (
    BodyTooLarge,
    Entry,
    decide_fetch,
    maybe_gunzip,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)
from crawler.encoding import page_text
from crawler.middlewares import RefusedRequest
from pipeline.items import PageItem
from pipeline.known import Known, known_pages
from pipeline.settings import required
from pipeline.urls import canonical_url, host_in_domains

ERROR_SAMPLES = 20
HTML_TYPES = ("text/html", "application/xhtml+xml")


def header_pairs(headers: Any) -> tuple[tuple[str, str], ...]:
    """Scrapy headers as (name, value) text pairs, one per value, for the WARC records."""
    if not headers:
        return ()
    return tuple(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    )


def failure_reason(failure: Failure) -> str:
    """A short, stable stats key for why a request failed."""
    exc = failure.value
    if isinstance(exc, RefusedRequest):
        return exc.reason
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    message = str(exc)
    if "robots.txt" in message:
        return "robots_forbidden"
    if "during decompression" in message:
        return "decompression_bomb"
    if "max size" in message or "larger than" in message:
        return "too_large"
    name = type(exc).__name__
    if "Cancelled" in name:
        return "too_large" if "max size" in message or not message else "cancelled"
    if "DNSLookup" in name or name == "CannotResolveHostError":  # Twisted's, Scrapy's (2.13+)
        return "dns_error"
    if "Timeout" in name or "TimedOut" in name:
        return "timeout"
    if "ConnectionRefused" in name:
        return "connection_refused"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class ArticleSpider(Spider):
    name = "articles"

    def __init__(
        self,
        configured: Sequence[Source],
        sources: str | list[str] | None = None,
        run_group: str | None = None,
        *,
        recrawl_after_days: float,
        max_bytes: int,
        db_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        wanted = sources.split(",") if isinstance(sources, str) else sources
        if wanted:
            unknown = set(wanted) - {s.name for s in configured}
            if unknown:
                raise ValueError(f"unknown source(s): {', '.join(sorted(unknown))}")
            selected = [s for s in configured if s.name in wanted]
        else:
            selected = [s for s in configured if s.enabled]
        self.sources: list[Source] = selected
        self.by_name = {s.name: s for s in selected}
        self.db_url = db_url
        self.run_group = run_group or str(uuid.uuid4())
        self.known: dict[str, dict[str, Known]] = {}
        self.budget_used: dict[str, int] = defaultdict(int)
        self.error_samples: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.discovery_seen: dict[str, set[str]] = defaultdict(set)
        self.recrawl_after = timedelta(days=recrawl_after_days)
        self.max_bytes = max_bytes
        self._allow = {s.name: [re.compile(p) for p in s.allow] for s in selected}
        self._deny = {s.name: [re.compile(p) for p in s.deny] for s in selected}
        self._links = {
            s.name: LinkExtractor(deny=s.deny, deny_extensions=None, unique=True) for s in selected
        }

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ArticleSpider:
        settings = crawler.settings
        configured = [Source.model_validate(s) for s in required(settings, "CLAIMWATCH_SOURCES")]
        spider = cls(
            configured,
            *args,
            recrawl_after_days=float(required(settings, "CLAIMWATCH_RECRAWL_AFTER_DAYS")),
            max_bytes=settings.getint("DOWNLOAD_MAXSIZE"),
            db_url=settings.get("CLAIMWATCH_DB_URL"),
            **kwargs,
        )
        spider._set_crawler(crawler)
        return spider

    # -- helpers -----------------------------------------------------------------------------------

    def inc(self, source: str, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, count)
        self.crawler.stats.inc_value(f"source/{source}/{key}", count)

    def load_known(self) -> None:
        if self.db_url is None:
            return
        with sessions_for(self.db_url)() as session:
            for source in self.sources:
                self.known[source.name] = known_pages(session, source.name)

    def allowed(self, source: Source, url: str) -> bool:
        if any(p.search(url) for p in self._deny[source.name]):
            return False
        allow = self._allow[source.name]
        return not allow or any(p.search(url) for p in allow)

    def in_scope(self, source: Source, url: str) -> bool:
        if source.allowed_domains:
            return host_in_domains(url, source.domains)
        netloc = urlsplit(url).netloc.lower()
        return any(urlsplit(u).netloc.lower() == netloc for u in source.start_urls)

    def page_request(
        self, source: Source, url: str, lastmod: str | None = None, depth: int = 0
    ) -> Request | None:
        """A request for a candidate article page, or ``None`` when it is skipped (counted)."""
        url = canonical_url(url)
        if self.budget_used[source.name] >= source.max_pages:
            self.inc(source.name, "discovery/over_budget")
            return None
        decision = decide_fetch(
            self.known.get(source.name, {}).get(url), lastmod, datetime.now(UTC), self.recrawl_after
        )
        self.inc(source.name, f"discovery/{decision.reason}")
        if not decision.fetch:
            return None
        self.budget_used[source.name] += 1
        meta = {
            "source": source.name,
            "lastmod": lastmod,
            "depth_left": depth,
            "handle_httpstatus_list": [304],
        }
        if source.politeness.download_delay is not None or source.politeness.concurrency:
            meta["download_slot"] = f"{source.name}:{urlsplit(url).netloc}"
        return Request(
            url,
            callback=self.parse_page,
            errback=self.on_error,
            headers=decision.headers,
            meta=meta,
        )

    def discovery_request(
        self,
        source: Source,
        url: str,
        kind: str,
        start: bool,
        trail: tuple[tuple[str, ...], ...] = (),
    ) -> Request:
        """A request for a sitemap, feed or robots.txt. ``trail``: the listings that led to it,
        each as its URLs (as requested, and where a redirect ended), canonical."""
        self.discovery_seen[source.name].add(canonical_url(url))
        return Request(
            url,
            callback=self.parse_discovery,
            errback=self.on_error,
            meta={"source": source.name, "discovery": kind, "start": start, "trail": trail},
            dont_filter=start,
            priority=10,
        )

    def listed_sitemap(self, source: Source, url: str, response: Response) -> Iterator[Request]:
        """The request for a sitemap an index or robots.txt lists, unless it loops or repeats."""
        here = [canonical_url(response.url)]
        if response.request is not None and canonical_url(response.request.url) not in here:
            here.insert(0, canonical_url(response.request.url))
        trail = (*response.meta.get("trail", ()), tuple(here))
        target = canonical_url(url)
        if any(target in urls for urls in trail):
            self.inc(source.name, "sitemap/loop")
            path = " -> ".join([*(urls[0] for urls in trail), target])
            self.record_error(
                source.name, response.url, "sitemap_loop", f"sitemap loop, not followed: {path}"
            )
        elif target in self.discovery_seen[source.name]:
            self.inc(source.name, "sitemap/repeated")
            self.record_error(
                source.name,
                response.url,
                "sitemap_repeated",
                f"lists {target} again, already read in this run: not read twice",
            )
        else:
            yield self.discovery_request(source, url, "sitemap", False, trail)

    # -- crawl -------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        self.load_known()
        for source in self.sources:
            for url in source.start_urls:
                if source.kind is SourceKind.site:
                    request = self.page_request(source, url, depth=source.max_depth)
                    if request is not None:
                        request.meta["start"] = True
                        request.dont_filter = True
                        yield request
                else:
                    kind = (
                        "robots" if urlsplit(url).path.endswith("robots.txt") else source.kind.value
                    )
                    yield self.discovery_request(source, url, kind, start=True)

    def parse_discovery(self, response: Response) -> Iterator[Request]:
        source = self.by_name[response.meta["source"]]
        kind = response.meta["discovery"]
        self.inc(source.name, f"discovery/{kind}_fetched")
        if kind == "robots":
            text = response.text if isinstance(response, TextResponse) else ""
            for url in sitemaps_from_robots(text):
                yield from self.listed_sitemap(source, response.urljoin(url), response)
            return
        try:
            body = maybe_gunzip(response.body, self.max_bytes)
        except (BodyTooLarge, OSError, EOFError) as exc:
            self.record_error(source.name, response.url, f"bad_{kind}", str(exc))
            return
        if kind == "feed":
            entries = parse_feed(body)
        else:
            shape, entries = parse_sitemap(body)
            if shape == "index":
                for entry in entries:
                    yield from self.listed_sitemap(source, response.urljoin(entry.url), response)
                return
        if not entries and response.meta.get("start"):
            self.record_error(source.name, response.url, f"bad_{kind}", f"no entries in {kind}")
        yield from self.requests_for(source, entries, response)

    def requests_for(
        self, source: Source, entries: list[Entry], response: Response
    ) -> Iterator[Request]:
        for entry in entries:
            url = response.urljoin(entry.url)
            if not self.allowed(source, url):
                self.inc(source.name, "discovery/filtered")
                continue
            request = self.page_request(source, url, entry.lastmod)
            if request is not None:
                yield request

    def parse_page(self, response: Response) -> Iterator[PageItem | Request]:
        source = self.by_name[response.meta["source"]]
        self.inc(source.name, "fetch/pages")
        now = datetime.now(UTC)
        if response.status == 304:
            self.inc(source.name, "fetch/not_modified")
            yield PageItem(
                source=source.name,
                run_group=self.run_group,
                url=response.url,
                request_url=response.request.url if response.request else response.url,
                status=304,
                fetched_at=now,
                sitemap_lastmod=response.meta.get("lastmod"),
                not_modified=True,
            )
            return
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if not isinstance(response, TextResponse) or (
            content_type and not content_type.startswith(HTML_TYPES)
        ):
            self.inc(source.name, "fetch/skipped_not_html")
            return
        if source.kind is SourceKind.site and response.meta.get("depth_left", 0) > 0:
            yield from self.follow_links(source, response)
        if not self.allowed(source, response.url):
            self.inc(source.name, "fetch/not_an_article_url")
            return
        header = response.headers.get
        html, encoding = page_text(response.body, content_type, response.text, response.encoding)
        yield PageItem(
            source=source.name,
            run_group=self.run_group,
            url=response.url,
            request_url=response.request.url if response.request else response.url,
            status=response.status,
            fetched_at=now,
            body=response.body,
            html=html,
            encoding=encoding,
            content_type=content_type or None,
            etag=(header(b"ETag") or b"").decode("latin-1") or None,
            last_modified=(header(b"Last-Modified") or b"").decode("latin-1") or None,
            sitemap_lastmod=response.meta.get("lastmod"),
            voice=source.voice.value,
            method=response.request.method if response.request else "GET",
            protocol=response.protocol,
            request_headers=header_pairs(response.request.headers if response.request else None),
            response_headers=header_pairs(response.headers),
        )

    def follow_links(self, source: Source, response: TextResponse) -> Iterator[Request]:
        depth = response.meta["depth_left"] - 1
        for link in self._links[source.name].extract_links(response):
            if link.nofollow:
                continue
            if not self.in_scope(source, link.url):
                self.inc(source.name, "discovery/offsite")
                continue
            request = self.page_request(source, link.url, depth=depth)
            if request is not None:
                yield request

    # -- failures ----------------------------------------------------------------------------------

    def record_error(self, source: str, url: str, reason: str, detail: str) -> None:
        self.inc(source, f"errors/{reason}")
        self.inc(source, "errors/total")
        samples = self.error_samples[source]
        if len(samples) < ERROR_SAMPLES:
            samples.append({"url": url, "reason": reason, "detail": detail[:300]})

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        meta = request.meta if request is not None else {}
        source = meta.get("source")
        if source is None:
            return
        reason = failure_reason(failure)
        self.record_error(source, request.url if request else "", reason, str(failure.value))
        if meta.get("start"):
            self.inc(source, "errors/start_failed")
