"""A page's kind (its voice) from what the crawl knows: the source's setting, or the page's own metadata.

A news story or a medical authority *reports* the claims a shop page *makes*. The claim decision
reads the page kind as a feature (:mod:`pipeline.claims.voice`), never as a switch. Where it comes
from, first found wins:

1. the source's ``voice`` setting in the config (``[[sources]] voice = "authority"``), when it is
   not ``"auto"``: the team knows what it watches;
2. the page's schema.org types, from JSON-LD (``@type``, also inside ``@graph``, lists and
   ``mainEntity``) and microdata (``itemtype``), and ``og:type = product``: :data:`SCHEMA_KINDS`,
   in the order of :data:`PRIORITY` when a page declares several (a news page also declares its
   ``Organization`` and ``WebPage``; a shop's article may embed a ``Product``);
3. nothing: the learned page voice (a head over the page's words) stands alone.

Generic types (``Article``, ``WebPage``, ``FAQPage``, ``og:type = article``) say nothing about the
voice and give no kind. The scan is a few regular expressions over the raw HTML and a JSON parse of
each ``application/ld+json`` script (no tree is built), bounded by :data:`MAX_SCRIPTS`,
:data:`MAX_SCRIPT_CHARS`, :data:`MAX_NODES` and :data:`MAX_ITEMTYPES` (hostile pages cost time
linear in their size); broken JSON is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from core.config import Voice

# The page kinds, named as the labelled data's ``article_kind`` (``authority`` for its
# ``medical_authority``); ``auto`` in the config means: read the page's metadata.
AUTO = Voice.auto.value
PAGE_KINDS: tuple[str, ...] = tuple(voice.value for voice in Voice if voice is not Voice.auto)
REPORTIVE = frozenset({"news", "authority"})  # pages that report on claims rather than make them
DATA_KINDS = {"medical_authority": "authority"}  # claims_dev.jsonl's article_kind -> page kind

# schema.org types (lower case, without the vocabulary URL) and the page kind each declares.
SCHEMA_KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "backgroundnewsarticle",
            "opinionnewsarticle", "reviewnewsarticle", "asknewsarticle", "askpublicnewsarticle",
            "claimreview", "newsmediaorganization",
        ),
        "news",
    ),
    **dict.fromkeys(
        (
            "medicalwebpage", "medicalscholarlyarticle", "medicalorganization", "hospital",
            "governmentorganization", "medicalclinic",
        ),
        "authority",
    ),
    **dict.fromkeys(
        (
            "product", "offer", "aggregateoffer", "individualproduct", "productgroup",
            "productmodel", "onlinestore", "store", "drugstore", "healthandbeautybusiness",
        ),
        "vendor",
    ),
    **dict.fromkeys(("blogposting", "blog", "liveblogposting"), "blog"),
}  # fmt: skip
OG_KINDS = {"product": "vendor", "product.item": "vendor", "og:product": "vendor"}
PRIORITY: tuple[str, ...] = ("news", "authority", "vendor", "blog")
MAX_SCRIPTS = 20
MAX_SCRIPT_CHARS = 500_000
MAX_NODES = 2_000  # JSON-LD nodes visited per page
MAX_ITEMTYPES = 500  # microdata itemtype attributes read per page

_LD_OPEN = re.compile(r"<script\b[^>]{0,300}?application/ld\+json[^>]{0,300}>", re.IGNORECASE)
_ITEMTYPE = re.compile(r"itemtype\s*=\s*[\"']?([^\"'>]{1,500})", re.IGNORECASE)
_META = re.compile(r"<meta\b[^>]{0,1000}>\Z", re.IGNORECASE)
_OG_TYPE = re.compile(r"\bproperty\s*=\s*[\"']og:type[\"']", re.IGNORECASE)
_CONTENT = re.compile(r"\bcontent\s*=\s*[\"']([^\"']{0,100})[\"']", re.IGNORECASE)


def data_kind(article_kind: str | None) -> str | None:
    """A labelled unit's ``article_kind`` as a page kind (``None``: unknown or not a kind)."""
    kind = DATA_KINDS.get(article_kind or "", article_kind or "")
    return kind if kind in PAGE_KINDS else None


def _bare(name: str) -> str:
    """``https://schema.org/NewsArticle`` or ``schema:NewsArticle`` as ``newsarticle``."""
    name = name.strip()
    for sep in ("/", "#", ":"):
        name = name.rsplit(sep, 1)[-1]
    return name.lower()


def _ld_types(node: Any, budget: list[int]) -> Iterator[str]:
    """Every ``@type`` in a JSON-LD value, depth first (lists, ``@graph``, nested entities)."""
    stack = [node]
    while stack and budget[0] > 0:
        budget[0] -= 1
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, dict):
            kind = value.get("@type")
            for name in kind if isinstance(kind, list) else [kind]:
                if isinstance(name, str):
                    yield _bare(name)
            stack.extend(v for v in reversed(value.values()) if isinstance(v, list | dict))


def schema_types(html: str) -> list[str]:
    """The schema.org types a page declares (JSON-LD ``@type`` and microdata ``itemtype``), lower
    case, in page order, each once."""
    seen: dict[str, None] = {}
    budget = [MAX_NODES]
    for text in _ld_scripts(html):
        if not text or len(text) > MAX_SCRIPT_CHARS:
            continue
        if text.startswith("<!--"):
            text = text.removeprefix("<!--").removesuffix("-->").strip()
        try:
            data = json.loads(text, strict=False)
        except ValueError:
            continue
        seen.update(dict.fromkeys(_ld_types(data, budget)))
    for name in _itemtypes(html):
        seen.update(dict.fromkeys(_bare(part) for part in name.split() if part))
    return list(seen)


def _ld_scripts(html: str) -> Iterator[str]:
    """The texts of the first :data:`MAX_SCRIPTS` ``application/ld+json`` scripts. Each script
    ends at the next ``</script`` (found by ``str.find``; a page with none left ends the scan), so
    the cost stays linear in the page however many openings it holds."""
    position = 0
    for _ in range(MAX_SCRIPTS):
        match = _LD_OPEN.search(html, position)
        if match is None:
            return
        end = html.find("</script", match.end())
        if end < 0:
            end = html.find("</SCRIPT", match.end())
            if end < 0:
                return
        yield html[match.end() : end].strip()
        position = end


def _itemtypes(html: str) -> Iterator[str]:
    """Microdata ``itemtype`` values (the attribute name found by ``str.find``: a case-insensitive
    regular expression over a whole page of non-ASCII text is ten times slower)."""
    budget = MAX_ITEMTYPES
    for spelling in ("itemtype", "ITEMTYPE", "itemType", "ItemType"):
        position = html.find(spelling)
        while position >= 0 and budget > 0:
            budget -= 1
            match = _ITEMTYPE.match(html, position)
            if match:
                yield match.group(1)
            position = html.find(spelling, position + len(spelling))


def og_type(html: str) -> str | None:
    """The page's ``og:type`` (lower case), if it has one."""
    position = html.find("og:type")
    for _ in range(MAX_SCRIPTS):
        if position < 0:
            return None
        start, end = html.rfind("<", 0, position), html.find(">", position)
        tag = html[start : end + 1] if start >= 0 and end >= 0 else ""
        if _META.match(tag) and _OG_TYPE.search(tag):
            content = _CONTENT.search(tag)
            return content.group(1).strip().lower() if content else None
        position = html.find("og:type", position + 7)
    return None


def detect_kind(html: str | bytes) -> str | None:
    """The page kind the page's own metadata declares (see the module docstring), or ``None``."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    kinds = {SCHEMA_KINDS[name] for name in schema_types(html) if name in SCHEMA_KINDS}
    og = og_type(html)
    if og in OG_KINDS:
        kinds.add(OG_KINDS[og])
    return next((kind for kind in PRIORITY if kind in kinds), None)


def page_kind(voice: str | None, html: str | bytes) -> str | None:
    """The kind scoring reads: the source's declared ``voice`` unless it is ``auto`` (or unset),
    else what the page's metadata declares."""
    if voice and voice != AUTO:
        return voice
    return detect_kind(html) if html else None
