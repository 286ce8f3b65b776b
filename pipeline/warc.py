"""WARC archiving of fetched pages (warcio): a response and a request record per fetch, gzip'd.

:class:`WarcArchive` appends to ``claimwatch-<UTC time>-<pid>-<serial>.warc.gz`` files in one
folder, each file opened with a ``warcinfo`` record and closed for a new one once it holds
``max_bytes``. A fetch is written as its ``response`` record followed by its ``request`` record
(``WARC-Concurrent-To`` the response), each its own gzip member, so the two together are the bytes
from :attr:`WarcRef.offset` for :attr:`WarcRef.length`: a valid ``.warc.gz`` on their own. A name
is never reused (a second process writes files of its own), and :meth:`WarcArchive.sync` makes
the records durable before the database refers to them.

The payload is the body as the crawler handed it on: after Scrapy undid any ``Content-Encoding``,
so the stored headers say ``Content-Length`` of that body and carry no ``Content-Encoding`` or
``Transfer-Encoding`` (the originals are kept as ``X-Archive-Orig-...``). ``payload_sha256`` is
the SHA-256 of that body; the records also carry warcio's usual SHA-1 digests.

:func:`fetch_records` builds a fetch's two records (the gzip members, as bytes) from the item
alone, so a worker process can build them with the page's extraction (:func:`capture`, kept as
``item.capture``); :meth:`WarcArchive.write` then only appends those bytes, and builds them itself
for an item that has none.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from core.compression import compress_html
from pipeline.items import Capture, PageItem

PREFIX = "claimwatch"
SUFFIX = ".warc.gz"
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024  # 1 GiB, the usual size of a WARC file
DROPPED = ("content-encoding", "transfer-encoding", "content-length")
GZIP_LEVEL = 6  # warcio writes level 9: 1.6x the CPU for files 0.6% smaller (bench/README.md)


def capture(item: PageItem, warc: bool) -> Capture:
    """The :class:`Capture` of ``item``'s body (with its WARC records if ``warc``)."""
    return Capture(
        hashlib.sha256(item.body).hexdigest(),
        compress_html(item.body),
        fetch_records(item) if warc else None,
    )


@dataclass(frozen=True, slots=True)
class WarcRef:
    file: str  # a name inside the archive's folder
    offset: int
    length: int
    payload_sha256: str


def is_warc_name(name: str) -> bool:
    """A file name this archive writes (no folder, no ``..``): the only names ever opened."""
    return (
        name.startswith(PREFIX + "-")
        and name.endswith(SUFFIX)
        and all(ch.isalnum() or ch in "-." for ch in name)
        and ".." not in name
    )


def _response_headers(item: PageItem) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for name, value in item.response_headers:
        if name.lower() in DROPPED:
            if name.lower() != "content-length":
                headers.append((f"X-Archive-Orig-{name}", value))
            continue
        headers.append((name, value))
    headers.append(("Content-Length", str(len(item.body))))
    return headers


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _request_headers(item: PageItem) -> list[tuple[str, str]]:
    headers = list(item.request_headers)
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", urlsplit(item.url).netloc))
    return headers


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _warc_date(when: datetime) -> str:
    return str(datetime_to_iso_date(when.astimezone(UTC).replace(tzinfo=None), use_micros=True))


class _Members:
    """Serialises warcio records, each into its own gzip member."""

    def __init__(self, level: int = GZIP_LEVEL) -> None:
        self.level = level
        self.buffer = io.BytesIO()
        # records are serialised plain into ``buffer``, then each compressed on its own
        self.writer: Any = WARCWriter(self.buffer, gzip=False, warc_version="1.1")

    def member(self, record: Any) -> bytes:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.write_record(record)
        packer = zlib.compressobj(self.level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return packer.compress(self.buffer.getvalue()) + packer.flush()


def fetch_records(item: PageItem, level: int = GZIP_LEVEL) -> bytes:
    """A fetch's ``response`` record, then its ``request`` record (``WARC-Concurrent-To`` the
    response), each a gzip member (at ``level``): a valid ``.warc.gz`` on their own. Pure: it
    reads only the item, so a worker process can build them."""
    members = _Members(level)
    writer = members.writer
    status = _phrase(item.status)
    protocol = item.protocol or "HTTP/1.1"
    date = {"WARC-Date": _warc_date(item.fetched_at)}
    response = writer.create_warc_record(
        item.url,
        "response",
        payload=io.BytesIO(item.body),
        length=len(item.body),
        http_headers=StatusAndHeaders(
            f"{item.status} {status}".strip(), _response_headers(item), protocol=protocol
        ),
        warc_headers_dict=dict(date),
    )
    request = writer.create_warc_record(
        item.url,
        "request",
        http_headers=StatusAndHeaders(
            f"{item.method} {_request_target(item.url)} {protocol}",
            _request_headers(item),
            is_http_request=True,
        ),
        warc_headers_dict=dict(date),
    )
    request.rec_headers.add_header(
        "WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID")
    )
    return members.member(response) + members.member(request)


class WarcArchive:
    """Appends fetches to rotating ``.warc.gz`` files in ``folder``. Not thread-safe: one writer."""

    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 1024:
            raise ValueError("max_bytes must be at least 1024")
        self.folder = folder
        self.max_bytes = max_bytes
        self.serial = 0
        self.stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.token = secrets.token_hex(3)
        self.name: str | None = None
        self.out: IO[bytes] | None = None
        self.members = _Members()

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.serial += 1
        name = f"{PREFIX}-{self.stamp}-{os.getpid()}-{self.token}-{self.serial:05d}{SUFFIX}"
        self.out = open(self.folder / name, "xb")  # noqa: SIM115 - kept open across writes
        self.name = name
        info = self.members.writer.create_warcinfo_record(
            name, {"software": "claimwatch", "format": "WARC File Format 1.1"}
        )
        self.out.write(self.members.member(info))

    def write(self, item: PageItem) -> WarcRef:
        """Archive one fetched page (the records of its :class:`Capture` if it has them, else
        built here); return where its records are."""
        if self.out is None:
            self._open()
        assert self.out is not None and self.name is not None
        kept = item.capture
        records = kept.records if kept is not None and kept.records is not None else None
        if records is None:
            records = fetch_records(item)
        sha = kept.raw_sha256 if kept is not None else hashlib.sha256(item.body).hexdigest()
        offset = self.out.tell()
        self.out.write(records)
        ref = WarcRef(self.name, offset, len(records), sha)
        if self.out.tell() >= self.max_bytes:
            self.close()
        return ref

    def write_all(self, items: Sequence[PageItem]) -> list[WarcRef | None]:
        """Archive the fetched pages of a batch (``None`` for 304s and pages without text), then
        make them durable."""
        refs = [
            self.write(item) if not item.not_modified and item.document is not None else None
            for item in items
        ]
        self.sync()
        return refs

    def sync(self) -> None:
        if self.out is not None:
            self.out.flush()
            os.fsync(self.out.fileno())

    def close(self) -> None:
        if self.out is not None:
            self.sync()
            self.out.close()
        self.out = None
        self.name = None


def read_records(folder: Path, name: str, offset: int, length: int) -> bytes:
    """The bytes of a fetch's records, as stored (gzip members: a ``.warc.gz`` of their own)."""
    if not is_warc_name(name):
        raise ValueError(f"not a WARC file name of this archive: {name!r}")
    with open(folder / name, "rb") as stream:
        stream.seek(offset)
        data = stream.read(length)
    if len(data) != length:
        raise ValueError(f"{name}: {length} bytes expected at {offset}, found {len(data)}")
    return data


def payload_of(records: bytes) -> bytes:
    """The response payload in a fetch's records (as written by :meth:`WarcArchive.write`)."""
    from warcio.archiveiterator import ArchiveIterator

    for record in ArchiveIterator(io.BytesIO(records)):
        if record.rec_type == "response":
            return bytes(record.content_stream().read())
    raise ValueError("no response record")
