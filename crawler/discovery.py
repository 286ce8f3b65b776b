"""Pure functions for finding article URLs: sitemaps, robots.txt sitemaps, RSS/Atom feeds, and the
decision whether a known URL needs fetching again."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree

from pipeline.dates import parse_date
from pipeline.known import Known

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, recover=True, huge_tree=False, remove_comments=True
)


@dataclass(frozen=True, slots=True)
class Entry:
    """A discovered URL and the date its listing gives for its last change, if any."""

    url: str
    lastmod: str | None = None


@dataclass(frozen=True, slots=True)
class FetchDecision:
    fetch: bool
    reason: str
    headers: dict[str, str]


class BodyTooLarge(ValueError):
    pass


def maybe_gunzip(body: bytes, max_size: int) -> bytes:
    """Decompress a gzipped sitemap, refusing to inflate beyond ``max_size`` bytes."""
    if body[:2] != b"\x1f\x8b":
        return body
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
        while chunk := stream.read(65536):
            out.write(chunk)
            if out.tell() > max_size:
                raise BodyTooLarge(f"decompressed body exceeds {max_size} bytes")
    return out.getvalue()


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _root(body: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(body, parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None


def parse_sitemap(body: bytes) -> tuple[str, list[Entry]]:
    """Return (``"index"`` | ``"urlset"`` | ``"invalid"``, entries)."""
    root = _root(body)
    if root is None:
        return "invalid", []
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        return "invalid", []
    entries: list[Entry] = []
    for node in root:
        loc = lastmod = None
        for child in node:
            name = _local(child.tag)
            if name == "loc":
                loc = (child.text or "").strip()
            elif name == "lastmod":
                lastmod = (child.text or "").strip() or None
        if loc:
            entries.append(Entry(loc, lastmod))
    return ("index" if kind == "sitemapindex" else "urlset"), entries


def sitemaps_from_robots(text: str) -> list[str]:
    urls = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            urls.append(value.strip())
    return urls


# The most specific "last changed" date first: an entry's update time beats its publication time.
_DATE_PRIORITY = ("updated", "modified", "date", "pubdate", "published")


def parse_feed(body: bytes) -> list[Entry]:
    """Entries of an RSS 2.0, RSS 1.0 (RDF) or Atom feed: link and updated/published date."""
    root = _root(body)
    if root is None:
        return []
    entries: list[Entry] = []
    for node in root.iter():
        if _local(node.tag) not in ("item", "entry"):
            continue
        link = None
        dates: dict[str, str] = {}
        for child in node:
            name = _local(child.tag)
            if name == "link":
                href = child.get("href")
                rel = child.get("rel", "alternate")
                if href and rel == "alternate":
                    link = href.strip()
                elif child.text and child.text.strip() and not href:
                    link = child.text.strip()
            elif name == "guid" and link is None and child.get("isPermaLink", "true") == "true":
                text = (child.text or "").strip()
                if text.startswith(("http://", "https://")):
                    link = text
            elif name in _DATE_PRIORITY and (child.text or "").strip():
                dates.setdefault(name, (child.text or "").strip())
        if link:
            date = next((dates[n] for n in _DATE_PRIORITY if n in dates), None)
            entries.append(Entry(link, date))
    return entries


def decide_fetch(
    known: Known | None, lastmod: str | None, now: datetime, recrawl_after: timedelta
) -> FetchDecision:
    """Whether to fetch a URL again, and with which conditional headers.

    New URLs are fetched. A listing date newer than the stored one means changed; one not newer means
    unchanged. Without a usable date, a URL with validators gets a conditional GET (the server answers
    304 when nothing changed); one without is fetched again only after ``recrawl_after``.
    """
    if known is None:
        return FetchDecision(True, "new", {})
    headers: dict[str, str] = {}
    if known.etag:
        headers["If-None-Match"] = known.etag
    if known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    listed, stored = parse_date(lastmod), parse_date(known.sitemap_lastmod)
    if listed is not None and stored is not None:
        if listed <= stored:
            return FetchDecision(False, "lastmod_unchanged", {})
        return FetchDecision(True, "lastmod_changed", headers)
    if headers:
        return FetchDecision(True, "conditional", headers)
    checked = known.checked_at if known.checked_at.tzinfo else known.checked_at.replace(tzinfo=UTC)
    if now - checked >= recrawl_after:
        return FetchDecision(True, "revisit", {})
    return FetchDecision(False, "recently_checked", {})
