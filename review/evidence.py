"""The stored page as evidence: rendered in a sandboxed frame, and its WARC records for download.

:func:`inert_html` is pure: the stored HTML with every ``<script>``, ``<base>``, ``<meta
http-equiv>``, frame, plugin and ``<link>`` element removed, event-handler attributes dropped and
``javascript:``-like URLs cleared. Nothing remote is rewritten: the response's CSP
(:data:`RENDERED_CSP`) loads nothing but inline styles and ``data:`` images, and runs no script, in
a sandbox, framed only by the workspace; the article page frames it with ``sandbox`` and no
``allow-scripts``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, Response

from core.compression import decompress_html
from core.models import Article, WarcRecord
from pipeline.warc import payload_of, read_records
from review.versions import records_of

RENDERED_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox"
)
REMOVED = (
    "script",
    "base",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "link",
    "portal",
    "noscript",
)
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "poster", "background")
_UNSAFE_URL = re.compile(r"^\s*(javascript|vbscript|data):", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20]+")


def _unsafe(value: str) -> bool:
    return bool(_UNSAFE_URL.match(_CONTROL.sub("", value)))


def _data_image(element: Any, name: str) -> bool:
    """An ``<img src="data:image/...">``: an image the CSP allows, nothing that runs."""
    value = str(element.get(name, "")).strip().lower()
    return bool(element.tag == "img" and name.lower() == "src" and value.startswith("data:image/"))


def _runs(element: Any, name: str) -> bool:
    """An attribute that could run something: an event handler, ``srcdoc``, or a
    ``javascript:``-like URL (a ``data:`` image aside)."""
    lowered = name.lower()
    if lowered.startswith("on") or lowered == "srcdoc":
        return True
    unsafe = lowered in URL_ATTRIBUTES and _unsafe(str(element.get(name, "")))
    return unsafe and not _data_image(element, name)


def inert_html(html: str) -> str:
    """The page without anything that runs, redirects or re-bases (see the module's text)."""
    if not html.strip():
        return "<!doctype html><p>(no HTML stored)</p>"
    try:
        # as bytes with a declared parser encoding: a page opening with an XML declaration
        # (``<?xml ... encoding=...?>``) parses too
        parser = lxml.html.HTMLParser(encoding="utf-8")
        root = lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return "<!doctype html><p>(the stored HTML could not be parsed)</p>"
    for element in list(root.iter(*REMOVED)):
        element.drop_tree()
    for meta in list(root.iter("meta")):
        if meta.get("http-equiv") is not None:
            meta.drop_tree()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name in list(element.attrib):
            if _runs(element, name):
                del element.attrib[name]
    body = str(lxml.html.tostring(root, encoding="unicode", method="html"))
    return "<!doctype html>\n" + body


def _decode(raw: bytes, encoding: str | None) -> str:
    try:
        return raw.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def stored_html(article: Article) -> str:
    """The article's current stored HTML as text ("" when only a link was stored)."""
    if not article.raw_html_gz:
        return ""
    return _decode(decompress_html(article.raw_html_gz), article.encoding)


def archived_html(folder: Path, record: WarcRecord, encoding: str | None) -> str:
    """The HTML of one WARC capture."""
    data = read_records(folder, record.warc_file, record.warc_offset, record.warc_length)
    return _decode(payload_of(data), encoding)


def warc_bytes(folder: Path, records: list[WarcRecord]) -> bytes:
    """The captures' records back to back: a ``.warc.gz`` of their own."""
    return b"".join(
        read_records(folder, r.warc_file, r.warc_offset, r.warc_length) for r in records
    )


class Missing(Exception):
    """What a page of evidence cannot show: a 404 with a title and a reason."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail


EvidenceView = Callable[[Session, Path | None, int, str | None], Response]


def _article_version(session: Session, article_id: int, version: str | None) -> tuple[Article, int]:
    article = session.get(Article, article_id)
    if article is None:
        raise Missing("Not found", "There is no such article.")
    if version is None:
        return article, article.version
    try:
        return article, int(version)
    except ValueError:
        raise Missing("Not found", f"There is no version {version!r}.") from None


def warc_response(
    session: Session, folder: Path | None, article_id: int, version: str | None
) -> Response:
    """The WARC records (response and request) of every capture of one version, as a
    ``.warc.gz`` attachment."""
    article, number = _article_version(session, article_id, version)
    records = records_of(session, article.id, number)
    if not records or folder is None:
        raise Missing("Not found", f"No WARC records of version {number}.")
    try:
        data = warc_bytes(folder, records)
    except (OSError, ValueError) as exc:
        raise Missing("WARC file missing", str(exc)) from None
    name = f"article-{article.id}-v{number}.warc.gz"
    return Response(
        data,
        media_type="application/warc",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def rendered_response(
    session: Session, folder: Path | None, article_id: int, version: str | None
) -> Response:
    """The stored page of one version, inert, under :data:`RENDERED_CSP` (the current version
    from the database, an older one from its first WARC capture)."""
    article, number = _article_version(session, article_id, version)
    html = stored_html(article) if number == article.version else ""
    if not html:
        records = records_of(session, article.id, number)
        if records and folder is not None:
            try:
                html = archived_html(folder, records[0], article.encoding)
            except (OSError, ValueError):
                html = ""
    return HTMLResponse(
        inert_html(html),
        headers={"content-security-policy": RENDERED_CSP, "x-frame-options": "SAMEORIGIN"},
    )
