"""A structural fast path for extraction: the page's article body, found on the lexbor parser.

Most article pages say where their text is. :func:`structural_blocks` looks, on selectolax's
lexbor tree (an HTML5 parser in C, about 4× faster than lxml here), for one container: the page's
``[itemprop=articleBody]`` or outermost ``<article>`` when it holds at least ``MIN_SHARE`` of the
page's ``<p>`` text, else the deepest element that does. It walks that container into blocks
(headings, paragraphs, list items, quotes, table rows), leaving out what trafilatura leaves out
too (scripts, forms, figures, navigation, headers and footers, hidden elements, elements whose
class or id names boilerplate, link-dense containers, paragraphs that are one link), and answers
``None`` when it is unsure, so that :func:`pipeline.extract.extract_html` falls back to
trafilatura. Unsure: no such container, two ``<article>`` of similar size, too little text, too
few paragraphs of prose, too much of the text outside them, or too many links.

Hostile pages: the walk is iterative (an explicit stack) and linear in the container's nodes;
pages over ``MAX_TAGS`` tags or ``MAX_HTML_CHARS`` characters, or nested deeper than
``MAX_DEPTH``, are left to trafilatura (lexbor's parse time grows with the square of the nesting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from core.document import Block, BlockKind, clean_line

# Elements left out with their content (trafilatura's MANUALLY_CLEANED, less "time" whose text is
# often part of a sentence, plus figure captions, templates and headers).
SKIPPED = frozenset(
    "aside embed fencedframe footer form head iframe menu object script applet audio canvas figure"
    " figcaption map picture svg video area blink button datalist dialog frame frameset fieldset"
    " link input label legend marquee math menuitem nav noindex noscript optgroup option output"
    " param progress rp rt rtc select source style track textarea template use header".split()
)
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
PARAGRAPHS = frozenset("p pre address dt dd summary".split())
LISTS = frozenset("ul ol dl".split())
# Class or id words of boilerplate inside an article body (share bars, bylines, related links,
# newsletter boxes, ads, comments, tags, breadcrumbs, author boxes).
BOILERPLATE = re.compile(
    r"(?:^|[-_ ])(?:share|sharing|social|related|recommend\w*|newsletter|subscri\w*|promo\w*|ad|ads"
    r"|advert\w*|sponsor\w*|comments?|tags?|breadcrumbs?|byline|author|bio|meta|caption|credit"
    r"|cookie\w*|popup|modal|signup|disclaimer|toolbar|widget|more|read-more|next|prev|gallery"
    r"|slideshow|carousel|date|time|timestamp|dateline|published|updated|copyright|headline|title"
    r"|sr-only|visually-hidden|print|photo|image|img|media|video)(?:$|[-_ ])",
    re.IGNORECASE,
)
AD_LABELS = frozenset(
    {"advertisement", "advertisements", "sponsored", "ad", "anzeige", "publicité"}
)
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
PROSE_LINK_WORDS = 15  # a link of this many words is prose, not navigation (as in extract.py)

# When the fast path is sure enough (each measured on the AEB pages, see bench/README.md).
MIN_CHARS = 500  # text in the container
MIN_PARAGRAPHS = 3  # paragraphs of 15 words or more
MIN_SHARE = 0.8  # of the page's <p> text inside the container
MAX_LINK_SHARE = 0.2  # link text in the container's text
RIVAL_SHARE = 0.3  # a second <article> with this share of the first's text: unsure
# Limits: a page beyond them goes to trafilatura (the fast path stays linear and quick).
MAX_HTML_CHARS = 3_000_000
# "<" in the page, before parsing: lexbor's time grows with the square of the nesting depth
# (20,000 nested <div> took 1 s), so the count bounds it; the AEB pages have at most 3,300.
MAX_TAGS = 15_000
MAX_DEPTH = (
    150  # elements between the container and a block; the AEB pages nest <p> 38 deep at most
)
MAX_CANDIDATES = 200  # <article> elements
MAX_PARAGRAPHS = 3_000
LINK_DENSE_SHARE = 0.5  # a container with more link text than this is left out
ALL_LINK_SHARE = 0.9  # a paragraph with this share of link text is a teaser, left out
MIN_PROSE_SHARE = 0.8  # of the text in paragraphs of 15 words or more  # a second container with this share of the first's text: unsure


@dataclass(frozen=True, slots=True)
class Structural:
    """The fast path's answer: the blocks, their link characters, and whether a ``<h1>`` led."""

    blocks: list[Block]
    link_chars: int
    leading_h1: bool


def _skipped(node: LexborNode) -> bool:
    if node.tag in SKIPPED:
        return True
    attrs = node.attributes
    if not attrs:
        return False
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    if style and HIDDEN_STYLE.search(style):
        return True
    names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".strip()
    if "hidden" in names.split():  # the class itself; "hidden-xs" only hides on small screens
        return True
    return bool(names) and BOILERPLATE.search(names) is not None


def _words(text: str) -> int:
    return len(text.split())


class _Unsure(Exception):
    """The page is beyond the fast path's limits: trafilatura decides."""


class _Walker:
    """Blocks out of one container, in reading order; iterative over an explicit stack."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.link_chars = 0
        self.leading_h1 = False
        self.loose: list[str] = []  # text directly in a container, between its blocks
        self.loose_links = 0  # of which navigation-like link text (links under 15 words)
        self.loose_all_links = 0  # and all link text

    def add(self, kind: BlockKind, node: LexborNode, tag: str, in_link: bool = False) -> None:
        text, links, all_links = _inline_text(node)
        self.keep(kind, text, links, len(text) if in_link else all_links, tag == "h1")

    def keep(
        self, kind: BlockKind, text: str, links: int, all_links: int, h1: bool = False
    ) -> None:
        if not text:
            return
        if kind != "heading" and all_links >= ALL_LINK_SHARE * len(text):
            return  # a paragraph that is one link: a teaser for another page
        if text.startswith(("©", "Copyright")) or text.casefold() in AD_LABELS:
            return
        if not self.blocks and h1:
            self.leading_h1 = True
        self.blocks.append(Block(kind, text))
        self.link_chars += links

    def flush(self, in_quote: bool) -> None:
        if self.loose:
            text = clean_line("".join(self.loose))
            self.keep(
                "quote" if in_quote else "paragraph", text, self.loose_links, self.loose_links
            )
            self.loose.clear()
            self.loose_links = 0

    def walk(self, root: LexborNode) -> None:
        # Stack items: (node, in a quote, inside a link, depth below the root).
        stack: list[tuple[LexborNode, bool, bool, int]] = [(root, False, False, 0)]
        link_sizes: dict[int, int] = {}
        while stack:
            node, in_quote, in_link, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise _Unsure
            tag = node.tag
            if tag == "-text":
                text = node.text_content or ""
                self.loose.append(text)
                if in_link:
                    self.loose_all_links += len(text.strip())
                continue
            if tag is None or tag.startswith("-") or _skipped(node):
                continue
            if tag in _INLINE and not _has_blocks(node):
                # Inline markup between a container's blocks: its text joins the loose text.
                if tag == "br":
                    self.loose.append(" ")
                    continue
                if tag == "a" and not in_link:
                    text = clean_line(node.text(deep=True, separator=""))
                    if _words(text) < PROSE_LINK_WORDS:
                        self.loose_links += len(text)
                away = in_link or (tag == "a" and _elsewhere(node))
                self._push_children(stack, node, in_quote, away, depth)
                continue
            self.flush(in_quote)
            if tag in HEADINGS:
                self.add("heading", node, tag, in_link)
            elif tag in PARAGRAPHS:
                self.add("quote" if in_quote else "paragraph", node, tag, in_link)
            elif tag == "li":
                nested = [c for c in _children(node) if c.tag in LISTS]
                if nested:
                    self._li_without(node, in_quote)
                    stack.extend((sub, in_quote, in_link, depth + 1) for sub in reversed(nested))
                else:
                    self.add("quote" if in_quote else "list_item", node, tag, in_link)
            elif tag == "blockquote":
                if any(c.tag in _BLOCKS for c in _children(node)):
                    self._push_children(stack, node, True, in_link, depth)
                else:
                    self.add("quote", node, tag, in_link)
            elif tag == "tr" and not node.css_first("table"):
                cells = [_inline_text(c) for c in _children(node) if c.tag in ("td", "th")]
                line = " | ".join(cell[0] for cell in cells if cell[0])
                self.keep("paragraph", line, sum(c[1] for c in cells), sum(c[2] for c in cells))
            elif node is root or not _link_dense(node, link_sizes):
                # A container (div, section, ul, table, a layout cell, a link around blocks...).
                away = in_link or (tag == "a" and _elsewhere(node))
                self._push_children(stack, node, in_quote, away, depth)
        self.flush(False)

    def _li_without(self, node: LexborNode, in_quote: bool) -> None:
        parts = []
        for child in _children_and_text(node):
            if child.tag in LISTS:
                continue
            if child.tag == "-text":
                parts.append(child.text_content or "")
            elif child.tag and not child.tag.startswith("-") and not _skipped(child):
                parts.append(_inline_text(child)[0])
        text = clean_line(" ".join(parts))
        self.keep("quote" if in_quote else "list_item", text, 0, 0)

    @staticmethod
    def _push_children(
        stack: list[tuple[LexborNode, bool, bool, int]],
        node: LexborNode,
        q: bool,
        link: bool,
        depth: int,
    ) -> None:
        stack.extend((child, q, link, depth + 1) for child in reversed(_children_and_text(node)))


_INLINE = frozenset(
    "a abbr b bdi bdo br cite code data del dfn em font i img ins kbd mark q s samp small span"
    " strike strong sub sup time tt u var wbr".split()
)


_BLOCKS = HEADINGS | PARAGRAPHS | LISTS | {"li", "blockquote", "div", "table", "section"}


def _has_blocks(node: LexborNode) -> bool:
    """Whether an inline element holds block elements (a link around a teaser's paragraphs)."""
    return any(child.tag in _BLOCKS for child in node.traverse(include_text=False))


def _children(node: LexborNode) -> list[LexborNode]:
    return [c for c in node.iter(include_text=False)]


def _children_and_text(node: LexborNode) -> list[LexborNode]:
    return [c for c in node.iter(include_text=True)]


def _inline_text(node: LexborNode) -> tuple[str, int, int]:
    """The text of a block (skipped descendants left out, ``<br>`` as a space) and its
    navigation-like link characters."""
    parts: list[str] = []
    links = 0
    all_links = 0
    stack = [node]
    while stack:
        current = stack.pop()
        tag = current.tag
        if tag == "-text":
            parts.append(current.text_content or "")
            continue
        if tag is None or tag.startswith("-"):
            continue
        if current is not node and _skipped(current):
            continue
        if tag == "br":
            parts.append(" ")
            continue
        if tag == "a":
            text = clean_line(current.text(deep=True, separator=""))
            if _elsewhere(current):
                all_links += len(text)
            if _words(text) < PROSE_LINK_WORDS:
                links += len(text)
        if current is not node and tag not in _INLINE:
            parts.append(" ")
        stack.extend(reversed(_children_and_text(current)))
    return clean_line("".join(parts)), links, all_links


def _elsewhere(link: LexborNode) -> bool:
    """A link to another page; a link within the page (a contents list's ``#section``) is not
    navigation away, and a contents list is part of the article."""
    href = (link.attributes.get("href") or "").strip()
    return not href.startswith("#")


def _link_dense(node: LexborNode, cache: dict[int, int]) -> bool:
    """A container whose text is mostly short links (a list of related stories, a menu).
    ``cache``: each link's navigation-like characters by node, so nested containers count them
    once."""
    total = _text_len(node)
    if not total:
        return False
    linked = 0
    for link in node.css("a"):
        key = link.mem_id
        size = cache.get(key)
        if size is None:
            text = link.text(deep=True, separator=" ", strip=True)
            short = _words(text) < PROSE_LINK_WORDS and _elsewhere(link)
            size = cache[key] = len(text) if short else 0
        linked += size
    return linked > LINK_DENSE_SHARE * total


def _text_len(node: LexborNode) -> int:
    return len(node.text(deep=True, separator=" ", strip=True))


def _candidate(tree: LexborHTMLParser) -> LexborNode | None:
    found = tree.css('[itemprop="articleBody"]') or tree.css("article")
    if not found or len(found) > MAX_CANDIDATES:
        return None
    # Outermost candidates only (an <article> in an <article> is a teaser or a comment).
    ids = {node.mem_id for node in found}
    outer = []
    for node in found:
        parent = node.parent
        for _ in range(MAX_DEPTH):
            if parent is None or parent.mem_id in ids:
                break
            parent = parent.parent
        else:
            raise _Unsure
        if parent is None:
            outer.append(node)
    sized = sorted(((_text_len(node), i) for i, node in enumerate(outer)), reverse=True)
    if len(sized) > 1 and sized[1][0] > RIVAL_SHARE * sized[0][0]:
        return None
    return outer[sized[0][1]]


def _densest(tree: LexborHTMLParser, paragraphs: list[tuple[LexborNode, int]]) -> LexborNode | None:
    """The deepest element holding ``MIN_SHARE`` of the page's ``<p>`` text, or ``None``."""
    total = sum(size for _, size in paragraphs)
    if not total:
        return None
    held: dict[int, int] = {}
    nodes: dict[int, LexborNode] = {}
    depth: dict[int, int] = {}
    for p, size in paragraphs:
        chain = []
        parent = p.parent
        while parent is not None and parent.tag not in ("html", "-document", "-undef"):
            chain.append(parent)
            parent = parent.parent
            if len(chain) > MAX_DEPTH:
                raise _Unsure
        for level, node in enumerate(reversed(chain)):
            key = node.mem_id
            held[key] = held.get(key, 0) + size
            nodes[key] = node
            depth[key] = level
    enough = [key for key, size in held.items() if size >= MIN_SHARE * total]
    if not enough:
        return None
    best = max(enough, key=lambda key: depth[key])
    node = nodes[best]
    return None if node.tag == "body" else node


def structural_blocks(html: str | bytes) -> Structural | None:
    """The article body's blocks when the page marks it up clearly, else ``None`` (unsure)."""
    if len(html) > MAX_HTML_CHARS:
        return None
    if (html.count("<") if isinstance(html, str) else html.count(b"<")) > MAX_TAGS:
        return None
    tree = LexborHTMLParser(html)
    if tree.body is None:
        return None
    try:
        return _structural(tree)
    except _Unsure:
        return None


def _structural(tree: LexborHTMLParser) -> Structural | None:
    found = tree.css("p")
    if len(found) > MAX_PARAGRAPHS:
        return None
    paragraphs = [(p, len(p.text(deep=True, strip=True))) for p in found]
    page_p = sum(size for _, size in paragraphs)
    container = _candidate(tree)
    if container is not None:
        inside_p = sum(len(p.text(deep=True, strip=True)) for p in container.css("p"))
        if page_p and inside_p < MIN_SHARE * page_p:
            container = None
    if container is None:
        container = _densest(tree, paragraphs)
    if container is None:
        return None
    walker = _Walker()
    walker.walk(container)
    blocks = walker.blocks
    total = sum(len(b.text) for b in blocks)
    prose = sum(1 for b in blocks if b.kind == "paragraph" and _words(b.text) >= PROSE_LINK_WORDS)
    prose_chars = sum(
        len(b.text) for b in blocks if b.kind == "paragraph" and _words(b.text) >= PROSE_LINK_WORDS
    )
    if total < MIN_CHARS or prose < MIN_PARAGRAPHS or walker.link_chars > MAX_LINK_SHARE * total:
        return None
    if prose_chars < MIN_PROSE_SHARE * total:
        return None
    return Structural(blocks, walker.link_chars, walker.leading_h1)
