"""The digest archive as the workspace shows it: the digests written and sent, and their files.

The digests are known from the archive folder (``<data dir>/digests/``, written by
``claimwatch digest``: ``index.json`` with each period's counts, and the files themselves) and from
the send ledger (``digest_sends``: per period and recipient list, its status). Only the archive's
own file names are served (``2026-W47.html``, ``.txt``, ``.csv``, ``.json`` and
``evidence/<article id>-<sha>.html``), never a path outside the folder.

An archived page is our own rendered and escaped HTML; it is still served under a CSP that runs no
script, loads nothing and sandboxes the page: its inline stylesheets are allowed by their hashes,
computed from the file served.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import DigestSend
from review.weeks import parse_week

PERIOD = r"\d{4}-W\d{2}|\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}"
PERIOD_KEY = re.compile(rf"^(?:{PERIOD})$")
ARCHIVE_FILE = re.compile(
    rf"^(?:{PERIOD})\.(?:html|txt|csv|json)$|^evidence/\d+-[0-9a-f]{{6,64}}\.html$"
)
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
}
EXPORTS = (".csv", ".json", ".txt")
STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Send:
    list_name: str
    status: str
    recipients: int
    attempts: int
    sent_at: datetime | None
    last_error: str | None


@dataclass(slots=True)
class Archived:
    key: str
    label: str
    start: str  # ISO, for ordering
    flagged: int | None = None
    priority: int | None = None
    new_articles: int | None = None
    page: bool = False  # the archived HTML page exists
    exports: list[str] = field(default_factory=list)  # file names of the exports present
    sends: list[Send] = field(default_factory=list)


def _index(folder: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = data.get("digests", {}) if isinstance(data, dict) else {}
    return {k: v for k, v in entries.items() if isinstance(v, dict) and PERIOD_KEY.match(k)}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _entry(key: str, timezone: str) -> Archived:
    week = parse_week(key, timezone)
    if week is not None:
        return Archived(key, week.label, week.start.isoformat())
    first, last = key.split("_")
    return Archived(key, f"{first} to {last}", first)


def archive(session: Session, folder: Path | None, timezone: str) -> list[Archived]:
    """Every digest the folder or the ledger knows, newest period first."""
    entries: dict[str, Archived] = {}
    if folder is not None and folder.is_dir():
        for key, data in _index(folder).items():
            entry = entries.setdefault(key, _entry(key, timezone))
            if isinstance(data.get("label"), str):
                entry.label = data["label"]
            entry.flagged = _count(data.get("flagged"))
            entry.priority = _count(data.get("priority"))
            entry.new_articles = _count(data.get("new_articles"))
        for path in folder.iterdir():
            if not PERIOD_KEY.match(path.stem) or not path.is_file():
                continue
            entry = entries.setdefault(path.stem, _entry(path.stem, timezone))
            if path.suffix == ".html":
                entry.page = True
            elif path.suffix in EXPORTS:
                entry.exports.append(path.name)
    for row in session.scalars(select(DigestSend).order_by(DigestSend.list_name)):
        if not PERIOD_KEY.match(row.period):
            continue
        entry = entries.setdefault(row.period, _entry(row.period, timezone))
        entry.start = row.period_start.isoformat()
        entry.sends.append(
            Send(
                row.list_name,
                row.status,
                len(row.recipients or ()),
                row.attempts,
                row.sent_at,
                row.last_error,
            )
        )
    for entry in entries.values():
        entry.exports.sort(key=lambda name: EXPORTS.index(Path(name).suffix))
    return sorted(entries.values(), key=lambda e: (e.start, e.key), reverse=True)


def archived_file(folder: Path | None, name: str) -> Path | None:
    """The archive's file called ``name``, or ``None`` when it is not one (or is missing)."""
    if folder is None or not ARCHIVE_FILE.match(name):
        return None
    root = folder.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def media_type(path: Path) -> str:
    return MEDIA_TYPES[path.suffix]


def page_csp(html: str) -> str:
    """The CSP of an archived page: nothing runs or loads; its own stylesheets, by hash."""
    hashes = sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"
            for css in STYLE.findall(html)
        }
    )
    styles = " ".join(hashes) or "'none'"
    return (
        "default-src 'none'; script-src 'none'; object-src 'none'; "
        f"style-src {styles}; img-src data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'; sandbox"
    )
