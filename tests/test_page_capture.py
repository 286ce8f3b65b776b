"""The page sent to a worker once, as bytes: decoded there as the spider decoded it, and its
capture (hash, stored HTML, WARC records) built there the way the store builds it."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse
from warcio.archiveiterator import ArchiveIterator

from core.compression import compress_html, decompress_html
from crawler.encoding import FALLBACK, page_text
from pipeline.items import PageItem
from pipeline.page_work import PLAIN_ENCODING, Scoring, body_text, work_fetch, work_page
from pipeline.warc import WarcArchive, capture, fetch_records

ARTICLE = (
    "<p>Our herbal tonic cures arthritis in two weeks, says the shop that sells it.</p>"
    "<p>Doctors we asked said no study supports this; the shop named none when asked.</p>"
    "<p>The tonic costs forty euros a bottle and is sold without a licence in three towns.</p>"
)


def page(text: str, meta: str = "") -> str:
    head = f"<head>{meta}<title>Tonic</title></head>"
    return f"<html>{head}<body><article>{text}</article></body></html>"


# (body, Content-Type): declared in the header, in a meta tag, undeclared UTF-8, undeclared
# windows-1252 (the spider's fallback), byte order marks, invalid bytes in a declared encoding
BODIES = [
    (page("café crème " + ARTICLE).encode("utf-8"), "text/html; charset=utf-8"),
    (page("café crème", '<meta charset="iso-8859-1">').encode("latin-1"), "text/html"),
    (page("Grüße aus Köln").encode("utf-8"), "text/html"),
    (page("crème brûlée – “quoted”").encode("cp1252"), "text/html"),
    (b"\xef\xbb\xbf" + page("with a UTF-8 BOM é").encode("utf-8"), "text/html"),
    (b"\xff\xfe" + page("with a UTF-16 BOM é").encode("utf-16-le"), "text/html"),
    (page("bad \xff\xfe bytes").encode("latin-1"), "text/html; charset=utf-8"),
    (page("日本語のページ", '<meta charset="shift_jis">').encode("shift_jis"), "text/html"),
    (page("koi8 страница").encode("koi8-r"), "text/html; charset=koi8-r"),
]


@pytest.mark.parametrize(("body", "content_type"), BODIES)
def test_a_worker_decodes_the_body_as_the_spider_did(body: bytes, content_type: str) -> None:
    response = HtmlResponse(
        url="https://a.example/p", body=body, headers={"Content-Type": content_type}
    )
    html, encoding = page_text(body, content_type, response.text, response.encoding)
    assert body_text(body, encoding) == html


def test_the_plain_encoding_is_the_spiders_fallback() -> None:
    assert PLAIN_ENCODING == FALLBACK


def fetched(body: bytes, encoding: str = "utf-8") -> PageItem:
    return PageItem(
        source="s",
        run_group="g",
        url="https://a.example/tonic?id=3",
        request_url="https://a.example/tonic?id=3",
        status=200,
        fetched_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        body=body,
        html="",
        encoding=encoding,
        protocol="HTTP/1.1",
        request_headers=(("User-Agent", "claimwatch-test"),),
        response_headers=(
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", "12"),
        ),
    )


def records_of(data: bytes) -> list[tuple[Any, ...]]:
    """Each record as warcio reads it, without what is new in every build (its id, the
    response's id it refers to)."""
    out: list[tuple[Any, ...]] = []
    for record in ArchiveIterator(io.BytesIO(data)):
        headers = [
            (name, value)
            for name, value in record.rec_headers.headers
            if name not in ("WARC-Record-ID", "WARC-Concurrent-To")
        ]
        http = record.http_headers
        out.append(
            (
                record.rec_type,
                headers,
                http.statusline,
                http.headers,
                record.content_stream().read(),
            )
        )
    return out


def test_a_worker_extracts_the_bytes_and_builds_the_capture_the_store_would() -> None:
    body = page(ARTICLE * 3).encode("utf-8")
    item = fetched(body)
    work = work_fetch(item, 0, None, Scoring(), True)
    alone = work_page(body.decode("utf-8"), item.url, 0, None, Scoring())
    assert work.extraction == alone.extraction and work.score == alone.score
    assert work.extraction.document is not None
    assert work.signature is not None and (work.signature == alone.signature).all()
    kept = work.capture
    assert kept is not None and kept.records is not None
    assert kept.raw_sha256 == hashlib.sha256(body).hexdigest()
    assert kept.raw_html == compress_html(body) and decompress_html(kept.raw_html) == body
    assert records_of(kept.records) == records_of(fetch_records(item))
    kinds = [r[0] for r in records_of(kept.records)]
    assert kinds == ["response", "request"]
    response = records_of(kept.records)[0]
    assert response[4] == body
    assert ("X-Archive-Orig-Content-Encoding", "gzip") in response[3]
    assert ("Content-Length", str(len(body))) in response[3]
    # without WARC files, no records; a page without article text, no capture at all
    assert work_fetch(item, 0, None, Scoring(), False).capture == capture(item, False)
    listing = fetched(b"<html><body><a href='/x'>x</a></body></html>")
    assert work_fetch(listing, 0, None, Scoring(), True).capture is None


def test_the_archive_appends_a_captured_fetch_as_it_is(tmp_path: Path) -> None:
    archive = WarcArchive(tmp_path)
    first = fetched(page(ARTICLE).encode("utf-8"))
    first.capture = capture(first, True)
    second = fetched(page(ARTICLE + "<p>Updated.</p>").encode("utf-8"))  # built by the archive
    refs = [archive.write(first), archive.write(second)]
    archive.close()
    assert first.capture.records is not None
    data = (tmp_path / refs[0].file).read_bytes()
    at, length = refs[0].offset, refs[0].length
    assert data[at : at + length] == first.capture.records
    assert refs[0].payload_sha256 == first.capture.raw_sha256
    assert refs[1].payload_sha256 == hashlib.sha256(second.body).hexdigest()
    assert refs[1].offset == at + length
    # the whole file reads back: its warcinfo, then each fetch's response and request
    kinds = [record.rec_type for record in ArchiveIterator(io.BytesIO(data))]
    assert kinds == ["warcinfo", "response", "request", "response", "request"]
    assert records_of(data[refs[1].offset :]) == records_of(fetch_records(second))
