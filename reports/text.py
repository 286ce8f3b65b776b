"""Making scraped text and URLs safe to show: plain text only, links only for http(s).

Everything here returns plain strings; escaping is the template's job (autoescape). These helpers
remove what escaping cannot: control characters and line breaks (which would break a header or a
plain-text layout), bidirectional overrides (which reorder what the reader sees), URL schemes other
than http and https, credentials in URLs, and Unicode host names (shown as punycode, so a look-alike
host cannot pass for another).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import idna

# C0/C1 controls, bidi embeddings/overrides/isolates, zero-width and line/paragraph separators.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\"'<>\\^`{|}]")
_PLAIN_URL = re.compile(r"https?://[a-z0-9-]+(\.[a-z0-9-]+)*(:[0-9]{1,5})?([/?#]|$)")
ELLIPSIS = "…"


def clean(text: str | None, limit: int = 0) -> str:
    """One line of plain text: controls become spaces, runs of space collapse, cut at ``limit``."""
    if not text:
        return ""
    flat = " ".join(_INVISIBLE.sub(" ", text).split())
    if limit and len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + ELLIPSIS
    return flat


@lru_cache(maxsize=65536)
def punycode_host(host: str) -> str | None:
    """The host in ASCII (IDNA/punycode), lower case; ``None`` when it is not a valid name."""
    host = host.strip().rstrip(".").lower()
    if not host:
        return None
    if host.isascii():
        return host if re.fullmatch(r"[a-z0-9._:\[\]-]+", host) else None
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return None


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for an ``href``: punycode host, no credentials; else ``None``."""
    if not url:
        return None
    url = url.strip()
    if _URL_FORBIDDEN.search(url):
        return None
    if _PLAIN_URL.match(url):  # the common case, already in its safe form
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = punycode_host(parts.hostname)
    if host is None:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def site_of(url: str | None) -> str:
    """The host to show for a URL, in punycode; ``(unknown site)`` when there is none."""
    if url and url.startswith(("https://", "http://")):  # the fast path: no urlsplit
        netloc = url.split("/", 3)[2].rpartition("@")[2]
        if netloc and "[" not in netloc and not _URL_FORBIDDEN.search(netloc):
            host = punycode_host(netloc.rpartition(":")[0] if ":" in netloc else netloc)
            if host:
                return host
    if url:
        try:
            hostname = urlsplit(url.strip()).hostname
        except ValueError:
            hostname = None
        if hostname:
            host = punycode_host(hostname)
            if host:
                return host
    return "(unknown site)"


def claim_context(
    text: str, start: int, end: int, sentence: str, width: int = 120
) -> tuple[str, str, str]:
    """``(before, claim, after)``: the claim sentence and up to ``width`` characters of its
    paragraph on each side, as plain text. ``start``/``end`` are offsets into ``text``; when they
    no longer point at the sentence (the text changed), the sentence is looked up, else shown
    alone."""
    if not (0 <= start < end <= len(text) and text[start:end] == sentence):
        found = text.find(sentence) if sentence else -1
        if found < 0:
            return "", clean(sentence), ""
        start, end = found, found + len(sentence)
    block_start = text.rfind("\n", 0, start) + 1
    block_end = text.find("\n", end)
    block_end = len(text) if block_end < 0 else block_end
    before = text[max(block_start, start - width) : start]
    if start - width > block_start:
        before = ELLIPSIS + before.split(" ", 1)[-1] if " " in before else ELLIPSIS + before
    after = text[end : min(block_end, end + width)]
    if end + width < block_end:
        after = after.rsplit(" ", 1)[0] + ELLIPSIS if " " in after else after + ELLIPSIS
    return _keep_edge_space(before), clean(text[start:end]), _keep_edge_space(after)


def _keep_edge_space(part: str) -> str:
    """Cleaned, but keeping one leading/trailing space so words do not run into the claim."""
    if not part:
        return ""
    body = clean(part)
    lead = " " if part[:1].isspace() else ""
    trail = " " if part[-1:].isspace() else ""
    return f"{lead}{body}{trail}" if body else lead or trail
