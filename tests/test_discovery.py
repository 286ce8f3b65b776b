"""crawler/discovery.py: sitemaps, robots.txt, feeds, dates and the re-fetch decision."""

from __future__ import annotations

import gzip
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.discovery import (
    BodyTooLarge,
    Entry,
    FetchDecision,
    Known,
    decide_fetch,
    maybe_gunzip,
    parse_date,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)

SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'

# --- sitemaps ---------------------------------------------------------------------------------


def test_urlset_with_and_without_lastmod() -> None:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset {SITEMAP_NS}>
  <url><loc> https://example.com/a </loc><lastmod>2024-03-05</lastmod></url>
  <url><loc>https://example.com/b</loc><changefreq>weekly</changefreq></url>
  <url><loc>https://example.com/c</loc><lastmod>  </lastmod></url>
  <url><lastmod>2024-01-01</lastmod></url>
  <!-- <url><loc>https://example.com/commented</loc></url> -->
</urlset>""".encode()
    assert parse_sitemap(body) == (
        "urlset",
        [
            Entry("https://example.com/a", "2024-03-05"),
            Entry("https://example.com/b", None),
            Entry("https://example.com/c", None),
        ],
    )


def test_urlset_without_namespace() -> None:
    body = b"<urlset><url><loc>https://example.com/a</loc></url></urlset>"
    assert parse_sitemap(body) == ("urlset", [Entry("https://example.com/a")])


def test_sitemap_index() -> None:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex {SITEMAP_NS}>
  <sitemap><loc>https://example.com/sitemap-posts.xml.gz</loc>
    <lastmod>2024-03-05T10:00:00+00:00</lastmod></sitemap>
  <sitemap><loc>https://example.com/sitemap-pages.xml</loc></sitemap>
</sitemapindex>""".encode()
    assert parse_sitemap(body) == (
        "index",
        [
            Entry("https://example.com/sitemap-posts.xml.gz", "2024-03-05T10:00:00+00:00"),
            Entry("https://example.com/sitemap-pages.xml", None),
        ],
    )


def test_empty_urlset() -> None:
    assert parse_sitemap(f"<urlset {SITEMAP_NS}/>".encode()) == ("urlset", [])


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"this is not xml", id="text"),
        pytest.param(b"\x00\x01\x02\xff", id="binary"),
        pytest.param(b"<html><body><p>Not found</p></body></html>", id="html"),
        pytest.param(b'<rss version="2.0"><channel/></rss>', id="feed"),
        pytest.param(b"<?xml version='1.0'?><note><to>x</to></note>", id="other-xml"),
    ],
)
def test_invalid_or_other_xml_is_invalid(body: bytes) -> None:
    assert parse_sitemap(body) == ("invalid", [])


# --- hostile XML: no entity expansion, no network, no local files ---------------------------


@pytest.fixture
def listener() -> Iterator[tuple[str, socket.socket]]:
    """A loopback socket that records whether the parser tried to connect to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)
    yield f"http://127.0.0.1:{server.getsockname()[1]}", server
    server.close()


def assert_no_connection(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        server.accept()


def test_external_file_entity_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-VALUE")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>
<urlset {SITEMAP_NS}><url><loc>https://example.com/&xxe;</loc><lastmod>&xxe;</lastmod></url>
</urlset>""".encode()
    kind, entries = parse_sitemap(body)
    assert kind == "urlset"
    assert "TOPSECRET" not in repr(entries)
    assert all(e.lastmod is None for e in entries)


def test_external_network_entities_are_not_fetched(
    listener: tuple[str, socket.socket],
) -> None:
    url, server = listener
    body = f"""<?xml version="1.0"?>
<!DOCTYPE urlset SYSTEM "{url}/sitemap.dtd" [
  <!ENTITY % remote SYSTEM "{url}/param.dtd"> %remote;
  <!ENTITY xxe SYSTEM "{url}/entity">
]>
<urlset {SITEMAP_NS}><url><loc>https://example.com/a&xxe;</loc></url></urlset>""".encode()
    kind, entries = parse_sitemap(body)
    feed_entries = parse_feed(body.replace(b"<urlset", b"<rss").replace(b"urlset>", b"rss>"))
    assert kind == "urlset"
    assert len(entries) <= 1
    assert feed_entries == []
    assert_no_connection(server)


def test_billion_laughs_is_not_expanded() -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    body = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [{"".join(entities)}]>
<urlset {SITEMAP_NS}><url><loc>https://example.com/&lol9;</loc><lastmod>&lol9;</lastmod></url>
</urlset>""".encode()
    kind, entries = parse_sitemap(body)
    assert kind in ("urlset", "invalid")
    assert len(entries) <= 1
    assert sum(len(e.url) + len(e.lastmod or "") for e in entries) < 100
    assert "lollol" not in repr(entries)


def test_feed_external_entity_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-VALUE")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>
<rss version="2.0"><channel><item><link>https://example.com/&xxe;</link>
<pubDate>&xxe;</pubDate></item></channel></rss>""".encode()
    assert "TOPSECRET" not in repr(parse_feed(body))


# --- gzip ---------------------------------------------------------------------------------


def test_maybe_gunzip_inflates_gzip() -> None:
    xml = f"<urlset {SITEMAP_NS}><url><loc>https://example.com/a</loc></url></urlset>".encode()
    assert maybe_gunzip(gzip.compress(xml), max_size=10_000) == xml


@pytest.mark.parametrize("body", [b"<urlset/>", b"", b"\x1f", b"plain text"])
def test_maybe_gunzip_passes_plain_bodies(body: bytes) -> None:
    assert maybe_gunzip(body, max_size=10) == body


def test_maybe_gunzip_limit_is_inclusive() -> None:
    data = b"a" * 100_000
    assert maybe_gunzip(gzip.compress(data), max_size=100_000) == data
    with pytest.raises(BodyTooLarge):
        maybe_gunzip(gzip.compress(data + b"a"), max_size=100_000)


def test_maybe_gunzip_refuses_a_gzip_bomb() -> None:
    max_size = 1024 * 1024
    bomb = gzip.compress(b"\0" * (64 * max_size), compresslevel=9)
    assert len(bomb) < max_size // 10  # small on the wire
    with pytest.raises(BodyTooLarge, match=str(max_size)):
        maybe_gunzip(bomb, max_size=max_size)


# --- robots.txt -----------------------------------------------------------------------------


def test_sitemaps_from_robots() -> None:
    robots = """User-agent: *
Disallow: /private/
Sitemap: https://example.com/sitemap.xml
sitemap:https://example.com/news.xml.gz
  SITEMAP :  https://cdn.example.com/s3.xml
Sitemap:
# Sitemap: https://example.com/commented.xml
Disallow: /sitemap-old.xml
"""
    assert sitemaps_from_robots(robots) == [
        "https://example.com/sitemap.xml",
        "https://example.com/news.xml.gz",
        "https://cdn.example.com/s3.xml",
    ]


def test_sitemaps_from_robots_none() -> None:
    assert sitemaps_from_robots("User-agent: *\nDisallow:\n") == []
    assert sitemaps_from_robots("") == []


# --- feeds --------------------------------------------------------------------------------


def test_rss2_link_and_pubdate() -> None:
    body = b"""<?xml version="1.0"?>
<rss version="2.0"><channel>
  <title>Blog</title><link>https://blog.example/</link>
  <item><title>A</title><link>https://blog.example/a</link>
    <pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate></item>
  <item><title>B</title><link>
    https://blog.example/b
  </link></item>
  <item><title>No link</title><description>nothing to fetch</description></item>
</channel></rss>"""
    assert parse_feed(body) == [
        Entry("https://blog.example/a", "Tue, 05 Mar 2024 10:00:00 GMT"),
        Entry("https://blog.example/b", None),
    ]


def test_atom_alternate_link_and_updated() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Blog</title>
  <link rel="alternate" href="https://blog.example/"/>
  <link rel="self" href="https://blog.example/feed.atom"/>
  <entry>
    <title>A</title><id>tag:blog.example,2024:a</id>
    <link rel="self" href="https://blog.example/a.atom"/>
    <link rel="alternate" type="text/html" href="https://blog.example/a"/>
    <updated>2024-03-05T10:00:00Z</updated>
  </entry>
  <entry>
    <title>B</title><link href="https://blog.example/b"/>
    <updated>2024-03-06T10:00:00+01:00</updated>
  </entry>
  <entry>
    <title>Only an edit link</title><link rel="edit" href="https://blog.example/c/edit"/>
  </entry>
</feed>"""
    assert parse_feed(body) == [
        Entry("https://blog.example/a", "2024-03-05T10:00:00Z"),
        Entry("https://blog.example/b", "2024-03-06T10:00:00+01:00"),
    ]


def test_atom_lastmod_is_updated_even_after_published() -> None:
    # Blogger and others list <published> before <updated>; the listing date used to decide
    # whether the article changed must be the update time, not the original publication.
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry>
  <id>tag:a</id>
  <published>2020-01-01T00:00:00Z</published>
  <updated>2024-03-05T10:00:00Z</updated>
  <link rel="alternate" href="https://blog.example/a"/>
</entry></feed>"""
    assert parse_feed(body) == [Entry("https://blog.example/a", "2024-03-05T10:00:00Z")]


def test_rss1_rdf() -> None:
    body = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://blog.example/">
    <title>Blog</title><link>https://blog.example/</link>
    <items><rdf:Seq><rdf:li rdf:resource="https://blog.example/a"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://blog.example/a">
    <title>A</title><link>https://blog.example/a</link>
    <dc:date>2024-03-05T10:00:00+01:00</dc:date>
  </item>
  <item rdf:about="https://blog.example/b"><title>B</title><link>https://blog.example/b</link>
  </item>
</rdf:RDF>"""
    assert parse_feed(body) == [
        Entry("https://blog.example/a", "2024-03-05T10:00:00+01:00"),
        Entry("https://blog.example/b", None),
    ]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param("<guid>https://blog.example/g</guid>", "https://blog.example/g", id="default"),
        pytest.param(
            '<guid isPermaLink="true">https://blog.example/g</guid>',
            "https://blog.example/g",
            id="permalink-true",
        ),
        pytest.param('<guid isPermaLink="false">https://blog.example/g</guid>', None, id="false"),
        pytest.param("<guid>tag:blog.example,2024:1</guid>", None, id="not-a-url"),
        pytest.param(
            "<guid>https://blog.example/g</guid><link>https://blog.example/l</link>",
            "https://blog.example/l",
            id="link-wins-after-guid",
        ),
        pytest.param(
            "<link>https://blog.example/l</link><guid>https://blog.example/g</guid>",
            "https://blog.example/l",
            id="link-wins-before-guid",
        ),
    ],
)
def test_rss_guid_as_permalink(item: str, expected: str | None) -> None:
    body = f'<rss version="2.0"><channel><item><title>x</title>{item}</item></channel></rss>'
    entries = parse_feed(body.encode())
    assert entries == ([Entry(expected)] if expected else [])


@pytest.mark.parametrize("body", [b"", b"not a feed", b"<html><body/></html>"])
def test_feed_without_items(body: bytes) -> None:
    assert parse_feed(body) == []


# --- dates ----------------------------------------------------------------------------------

CET = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        ("2024-03-05T10:00Z", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("2024-03-05T10:00:00Z", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("2024-03-05T10:00:00.5Z", datetime(2024, 3, 5, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2024-03-05T10:00:00+01:00", datetime(2024, 3, 5, 10, 0, tzinfo=CET)),
        ("2024-03-05T10:00+01:00", datetime(2024, 3, 5, 10, 0, tzinfo=CET)),
        ("2024-03-05T10:00:00", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("  2024-03-05T10:00:00Z \n", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 10:00:00 GMT", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("Tue, 05 Mar 2024 10:00:00 +0100", datetime(2024, 3, 5, 10, 0, tzinfo=CET)),
        ("Tue, 05 Mar 2024 10:00:00 -0000", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
        ("05 Mar 2024 10:00:00 UT", datetime(2024, 3, 5, 10, 0, tzinfo=UTC)),
    ],
)
def test_parse_date(value: str, expected: datetime) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("value", [None, "", "   ", "yesterday", "2024-13-45", "Tue, 99 Foo"])
def test_parse_date_junk(value: str | None) -> None:
    assert parse_date(value) is None


# --- the re-fetch decision ------------------------------------------------------------------

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
ETAG = '"abc123"'
LAST_MODIFIED = "Tue, 05 Mar 2024 10:00:00 GMT"
BOTH = {"If-None-Match": ETAG, "If-Modified-Since": LAST_MODIFIED}


def known(
    etag: str | None = None,
    last_modified: str | None = None,
    sitemap_lastmod: str | None = None,
    age: timedelta = timedelta(days=1),
) -> Known:
    return Known(etag, last_modified, sitemap_lastmod, NOW - age)


@pytest.mark.parametrize(
    ("state", "lastmod", "expected"),
    [
        pytest.param(None, None, FetchDecision(True, "new", {}), id="new"),
        pytest.param(None, "2024-03-05", FetchDecision(True, "new", {}), id="new-with-lastmod"),
        pytest.param(
            known(ETAG, LAST_MODIFIED, "2024-03-05", age=timedelta(days=30)),
            "2024-03-05",
            FetchDecision(False, "lastmod_unchanged", {}),
            id="lastmod-equal",
        ),
        pytest.param(
            known(sitemap_lastmod="2024-03-05T10:00:00+01:00"),
            "2024-03-05T09:00:00Z",
            FetchDecision(False, "lastmod_unchanged", {}),
            id="lastmod-same-instant-other-zone",
        ),
        pytest.param(
            known(sitemap_lastmod="2024-03-05"),
            "2024-03-01",
            FetchDecision(False, "lastmod_unchanged", {}),
            id="lastmod-older",
        ),
        pytest.param(
            known(ETAG, LAST_MODIFIED, "2024-03-05"),
            "2024-03-06",
            FetchDecision(True, "lastmod_changed", BOTH),
            id="lastmod-changed-conditional",
        ),
        pytest.param(
            known(sitemap_lastmod="2024-03-05"),
            "2024-03-05T00:00:01Z",
            FetchDecision(True, "lastmod_changed", {}),
            id="lastmod-changed-no-validators",
        ),
        pytest.param(
            known(ETAG, LAST_MODIFIED),
            None,
            FetchDecision(True, "conditional", BOTH),
            id="conditional-both",
        ),
        pytest.param(
            known(etag=ETAG),
            None,
            FetchDecision(True, "conditional", {"If-None-Match": ETAG}),
            id="conditional-etag",
        ),
        pytest.param(
            known(last_modified=LAST_MODIFIED),
            None,
            FetchDecision(True, "conditional", {"If-Modified-Since": LAST_MODIFIED}),
            id="conditional-last-modified",
        ),
        pytest.param(
            known(etag=ETAG),
            "2024-03-06",
            FetchDecision(True, "conditional", {"If-None-Match": ETAG}),
            id="conditional-lastmod-not-stored",
        ),
        pytest.param(
            known(etag=ETAG, sitemap_lastmod="2024-03-05"),
            "not a date",
            FetchDecision(True, "conditional", {"If-None-Match": ETAG}),
            id="conditional-lastmod-junk",
        ),
        pytest.param(
            known(age=timedelta(days=8)),
            None,
            FetchDecision(True, "revisit", {}),
            id="revisit",
        ),
        pytest.param(
            known(age=WEEK),
            None,
            FetchDecision(True, "revisit", {}),
            id="revisit-exactly-at-limit",
        ),
        pytest.param(
            known(age=timedelta(days=30)),
            "2024-03-06",
            FetchDecision(True, "revisit", {}),
            id="revisit-lastmod-not-stored",
        ),
        pytest.param(
            known(age=timedelta(days=1)),
            None,
            FetchDecision(False, "recently_checked", {}),
            id="recently-checked",
        ),
        pytest.param(
            known(age=WEEK - timedelta(seconds=1)),
            None,
            FetchDecision(False, "recently_checked", {}),
            id="recently-checked-just-under-limit",
        ),
    ],
)
def test_decide_fetch(state: Known | None, lastmod: str | None, expected: FetchDecision) -> None:
    assert decide_fetch(state, lastmod, NOW, WEEK) == expected


@pytest.mark.parametrize(("days", "reason"), [(1, "recently_checked"), (8, "revisit")])
def test_decide_fetch_naive_checked_at_is_utc(days: int, reason: str) -> None:
    checked = (NOW - timedelta(days=days)).replace(tzinfo=None)
    decision = decide_fetch(Known(None, None, None, checked), None, NOW, WEEK)
    assert decision.reason == reason


def test_decide_fetch_zero_recrawl_always_revisits() -> None:
    decision = decide_fetch(known(age=timedelta(0)), None, NOW, timedelta(0))
    assert decision == FetchDecision(True, "revisit", {})
