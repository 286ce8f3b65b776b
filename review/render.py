"""The workspace's one Jinja2 Environment and its Content-Security-Policy.

Every template autoescapes (scraped text is data, never markup) and ``StrictUndefined`` makes a
missing value an error. Pages carry no script at all: the CSP allows none, no remote resource, no
frame, and forms posting only to this origin; the one stylesheet is inline and allowed by its hash.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

TEMPLATES = Path(__file__).with_name("templates")


def safe_href(url: str | None) -> str | None:
    """An http(s) URL fit for an ``href`` (no ``javascript:``, no credentials), else ``None``."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    if any(ord(ch) < 33 or ch in "<>\"'`\\" for ch in url):
        return None
    return url


def _words(value: str) -> str:
    return value.replace("_", " ")


def _moment(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(words=_words, moment=_moment, href=safe_href)
    return env


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return (TEMPLATES / "style.css").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def csp() -> str:
    digest = base64.b64encode(hashlib.sha256(stylesheet().encode("utf-8")).digest()).decode()
    return (
        "default-src 'none'; script-src 'none'; object-src 'none'; "
        f"style-src 'sha256-{digest}'; img-src 'self' data:; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(css=Markup(stylesheet()), **context)
