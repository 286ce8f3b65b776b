"""Rendering with one Jinja2 Environment: the archive page, the e-mail's two parts, the index and
the stored-evidence pages.

The Environment autoescapes ``.html`` templates and uses ``StrictUndefined`` (a missing value is an
error, not an empty string). Scraped text reaches the templates only as data, never as template
source, so ``{{ 7*7 }}`` in a title stays text. Archive pages carry a Content-Security-Policy that
allows no script and no remote resource at all; the one stylesheet is allowed by its hash. The
e-mail's HTML part has its CSS inlined (css-inline, remote loading off) for mail clients that drop
``<style>``.
"""

from __future__ import annotations

import base64
import hashlib
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports.chart import layout
from reports.model import Digest, SiteMark

TEMPLATES = Path(__file__).with_name("templates")
TEXT_WIDTH = 76


@dataclass(frozen=True, slots=True)
class Links:
    """Where the archive page links to, relative to it (``None``: no link)."""

    index: str | None = None
    csv: str | None = None
    json: str | None = None


def _num(value: int | float) -> str:
    return f"{value:,}"


def _num1(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _day(value: datetime) -> str:
    return f"{value.day} {value:%b %Y}"


def _moment(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value.utcoffset() is not None else str(value)


def _words(value: str) -> str:
    return value.replace("_", " ")


def _short(sha: str) -> str:
    return sha[:12] + "…"


def _site_text(site: SiteMark) -> str:
    return f"{site.host} (new)" if site.new else site.host


def _para(text: str, first: str, rest: str) -> str:
    """Plain text wrapped at TEXT_WIDTH, the first line indented with ``first``."""
    return textwrap.fill(
        text,
        width=TEXT_WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=True,
        break_on_hyphens=False,
    )


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The process's one Environment (templates are compiled once and cached in it)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(
        num=_num,
        num1=_num1,
        pct=_pct,
        plural=_plural,
        day=_day,
        moment=_moment,
        words=_words,
        short=_short,
        site_text=_site_text,
        para=_para,
    )
    return env


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return (TEMPLATES / "style.css").read_text(encoding="utf-8")


def csp() -> str:
    """No script, no remote anything; only our own stylesheet, allowed by its hash."""
    digest = base64.b64encode(hashlib.sha256(stylesheet().encode("utf-8")).digest()).decode()
    return (
        "default-src 'none'; script-src 'none'; object-src 'none'; "
        f"style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; form-action 'none'"
    )


def _context(digest: Digest, **extra: Any) -> dict[str, Any]:
    return {
        "d": digest,
        "f": digest.figures,
        "p": digest.previous,
        "charts": {
            "substances": layout(digest.substances),
            "categories": layout(digest.categories),
        },
        "css": Markup(stylesheet()),  # our own file, not data
        **extra,
    }


def page_html(digest: Digest, links: Links = Links()) -> str:
    """The archive page: evidence and exports linked relative to it."""
    return (
        environment()
        .get_template("digest.html")
        .render(_context(digest, csp=csp(), links=links, archive_url=None, evidence_base=""))
    )


def mail_html(digest: Digest, base_url: str | None = None) -> str:
    """The e-mail's HTML part, CSS inlined; links to the archive only when it is published."""
    html = (
        environment()
        .get_template("digest.html")
        .render(
            _context(
                digest,
                csp=None,
                links=Links(),
                archive_url=archive_url(digest, base_url),
                evidence_base=f"{base_url}/" if base_url else None,
            )
        )
    )
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)
    return inliner.inline(html)


def text(digest: Digest, base_url: str | None = None) -> str:
    """The plain-text part (also written to the archive as ``<period>.txt``)."""
    return (
        environment()
        .get_template("digest.txt")
        .render(
            _context(
                digest,
                archive_url=archive_url(digest, base_url),
                evidence_base=f"{base_url}/" if base_url else None,
            )
        )
    )


def archive_url(digest: Digest, base_url: str | None) -> str | None:
    return f"{base_url}/{digest.period.key}.html" if base_url else None


def index_html(entries: Sequence[Mapping[str, Any]], updated: datetime) -> str:
    return (
        environment()
        .get_template("index.html")
        .render(entries=entries, updated=updated, csp=csp(), css=Markup(stylesheet()))
    )


def evidence_html(evidence: Mapping[str, Any]) -> str:
    return (
        environment()
        .get_template("evidence.html")
        .render(e=evidence, csp=csp(), css=Markup(stylesheet()))
    )
