"""The digest archive on disk: ``<data dir>/digests/``.

For a period ``2026-W47`` it writes ``2026-W47.html`` (the page), ``.txt`` (the e-mail's text),
``.csv`` and ``.json`` (every flagged article), the stored evidence of the articles shown in full
(``evidence/<article id>-<sha>.html``: the fetched HTML as escaped text, under a CSP that allows
nothing to run or load), and refreshes ``index.html`` from ``index.json``, the list of digests.
Each file is written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.compression import decompress_html
from core.models import Article
from reports import render
from reports.exports import csv_chunks, json_chunks
from reports.model import Digest, Link
from reports.period import parse_period
from reports.text import clean

EVIDENCE_LIMIT = 2 * 1024 * 1024  # characters of source shown on an evidence page
INDEX_DATA = "index.json"


@dataclass(slots=True)
class Written:
    html: Path
    text: Path
    csv: Path
    json: Path
    index: Path
    evidence: list[Path] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        return [self.html, self.text, self.csv, self.json, self.index]


def write_file(path: Path, content: str | Iterable[str]) -> Path:
    """Write atomically (a temporary file in the same folder, then a rename); ``content`` may
    come in pieces, so a large export is never held whole in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            if isinstance(content, str):
                handle.write(content)
            else:
                handle.writelines(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _decode(raw_gz: bytes, encoding: str | None) -> str:
    try:
        raw = decompress_html(raw_gz)
    except ValueError:
        raw = raw_gz
    try:
        return raw.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def write_evidence(session: Session, digest: Digest, out_dir: Path) -> list[Path]:
    """The evidence page of each article shown in full (skipped when already written)."""
    wanted = {a.article_id: a for a in digest.shown}
    missing = [i for i, a in wanted.items() if not (out_dir / a.evidence_path).exists()]
    written = [out_dir / a.evidence_path for i, a in wanted.items() if i not in missing]
    for start in range(0, len(missing), 100):
        query = select(
            Article.id,
            Article.canonical_url,
            Article.title,
            Article.fetched_at,
            Article.http_status,
            Article.content_type,
            Article.encoding,
            Article.raw_sha256,
            Article.raw_html_gz,
        ).where(Article.id.in_(missing[start : start + 100]))
        for row in session.execute(query):
            source = _decode(row.raw_html_gz, row.encoding)
            page = render.evidence_html(
                {
                    "article_id": row.id,
                    "title": clean(row.title, 300) or "(untitled)",
                    "url": clean(row.canonical_url, 2048),
                    "fetched_at": row.fetched_at,
                    "http_status": row.http_status,
                    "content_type": clean(row.content_type, 128),
                    "raw_sha256": row.raw_sha256,
                    "size": len(source),
                    "shown": min(len(source), EVIDENCE_LIMIT),
                    "truncated": len(source) > EVIDENCE_LIMIT,
                    "source": source[:EVIDENCE_LIMIT],
                }
            )
            written.append(write_file(out_dir / wanted[row.id].evidence_path, page))
    return written


def _load_index(out_dir: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((out_dir / INDEX_DATA).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    entries = data.get("digests", {}) if isinstance(data, dict) else {}
    return {k: v for k, v in entries.items() if isinstance(v, dict)}


def update_index(out_dir: Path, digest: Digest | None = None) -> Path:
    """Record ``digest`` in ``index.json`` and rewrite ``index.html``, newest first."""
    entries = _load_index(out_dir)
    for html in out_dir.glob("*.html"):
        if html.stem != "index" and html.stem not in entries:
            entries[html.stem] = {}
    if digest is not None:
        fig = digest.figures
        entries[digest.period.key] = {
            "label": digest.period.label,
            "start": digest.period.start.isoformat(),
            "flagged": fig.flagged,
            "priority": fig.priority,
            "new_articles": fig.new_articles,
        }
    write_file(out_dir / INDEX_DATA, json.dumps({"digests": entries}, indent=1, sort_keys=True))
    rows = []
    for key, entry in entries.items():
        try:
            period = parse_period(key)
        except ValueError:
            continue
        rows.append(
            {
                "key": key,
                "start": period.start,
                "label": entry.get("label") or period.label,
                "flagged": entry.get("flagged", "–"),
                "priority": entry.get("priority", "–"),
                "new_articles": entry.get("new_articles", "–"),
                "html": f"{key}.html",
                "text": f"{key}.txt",
                "csv": f"{key}.csv",
                "json": f"{key}.json",
            }
        )
    rows.sort(key=lambda r: (r["start"], r["key"]), reverse=True)
    return write_file(out_dir / "index.html", render.index_html(rows, datetime.now(UTC)))


def link_pages_to_evidence(digest: Digest) -> Digest:
    """The digest with its links to stored pages going to their stored evidence instead: for pages
    that will be gone when the digest is read (the demo's sites are served only while it runs).
    A link to a page without an evidence page in this digest keeps its text and loses its link."""
    evidence = {a.page.href: a.evidence_path for a in digest.shown if a.page.href}

    def offline(link: Link | None) -> Link | None:
        if link is None or link.href is None:
            return link
        return Link(link.text, evidence.get(link.href))

    shown = {a.article_id for a in digest.shown}
    articles = tuple(
        replace(
            a,
            page=Link(a.page.text, a.evidence_path),
            near=offline(a.near),
            repost_of=offline(a.repost_of),
        )
        if a.article_id in shown
        else a
        for a in digest.articles
    )
    return replace(digest, articles=articles)


def write_archive(session: Session, digest: Digest, out_dir: Path) -> Written:
    """Write the period's page, text, exports and evidence into ``out_dir``; refresh the index."""
    key = digest.period.key
    links = render.Links(index="index.html", csv=f"{key}.csv", json=f"{key}.json")
    evidence = write_evidence(session, digest, out_dir)
    return Written(
        html=write_file(out_dir / f"{key}.html", render.page_html(digest, links)),
        text=write_file(out_dir / f"{key}.txt", render.text(digest)),
        csv=write_file(out_dir / f"{key}.csv", csv_chunks(digest)),
        json=write_file(out_dir / f"{key}.json", json_chunks(digest)),
        index=update_index(out_dir, digest),
        evidence=evidence,
    )
