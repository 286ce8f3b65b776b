"""What the spider hands to the pipeline: one fetched page, its fetch metadata, and what each stage
adds to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.document import Document
    from pipeline.claims import ArticleScore
    from pipeline.dedup.engine import DedupResult
    from pipeline.dedup.minhash import Signature


@dataclass(frozen=True, slots=True)
class Capture:
    """What the store keeps of a fetched body, computed once where the page is extracted (a
    worker process, :mod:`pipeline.page_work`; :func:`pipeline.warc.capture`): the body's SHA-256
    (``articles.raw_sha256`` and the WARC record's ``payload_sha256``), the stored raw HTML
    (``core.compression.compress_html``) and the fetch's WARC records
    (:func:`pipeline.warc.fetch_records`; ``None`` when no WARC is kept)."""

    raw_sha256: str
    raw_html: bytes
    records: bytes | None = None


@dataclass(slots=True)
class PageItem:
    source: str
    run_group: str
    url: str
    request_url: str
    status: int
    fetched_at: datetime
    body: bytes = b""
    html: str = ""
    encoding: str | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    sitemap_lastmod: str | None = None
    not_modified: bool = False
    # the source's ``voice`` setting ("auto": the page's own metadata tells; pipeline/page_kind.py)
    voice: str = "auto"
    # the exchange as sent and received, for the WARC records (pipeline/warc.py)
    method: str = "GET"
    protocol: str | None = None  # "HTTP/1.1"
    request_headers: tuple[tuple[str, str], ...] = ()
    response_headers: tuple[tuple[str, str], ...] = ()
    document: Document | None = field(default=None)  # set by extract
    # set with the document by a worker process (pipeline/page_work.py); else dedup signs
    signature: Signature | None = field(default=None)
    dedup: DedupResult | None = field(default=None)  # set by dedup
    score: ArticleScore | None = field(default=None)  # set by score
    # the body's hash, stored HTML and WARC records, built by a worker process with the
    # extraction (pipeline/page_work.py); else the store builds them
    capture: Capture | None = field(default=None)
