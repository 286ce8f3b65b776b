"""Extraction: HTML in, a :class:`~core.document.Document` with its structure kept out.

:func:`extract_html` is pure (trafilatura does the boilerplate removal; we keep its block structure:
headings, paragraphs, list items, quotes). A page that marks up its article body clearly gets its
blocks from the structural fast path first (:mod:`pipeline.fastextract`, on lexbor), and
trafilatura runs only where that is unsure. :class:`ExtractPipeline` is the thin Scrapy adapter: it runs
the extraction off the reactor thread, drops pages without article text with a counted reason, and
passes everything else on.

A per-page budget comes before trafilatura, whose time grows with the square of the inline elements
in one block (20,000 ``<span>`` in one paragraph took 47 s): a page with more than
``MAX_DOM_ELEMENTS`` elements, or a block with more than ``MAX_INLINE_PER_BLOCK`` inline elements
in it, is refused as ``extract/too_complex`` after one linear pass over the parsed tree, and the
crawl goes on. With worker processes, a page whose extraction runs past
``CLAIMWATCH_EXTRACT_TIMEOUT_S`` in its worker has the worker killed and replaced; the page is
dropped as ``extract/timeout`` and the crawl goes on (the other pages in the pool are tried again).

Stats: ``extract/ok``, ``extract/empty``, ``extract/too_short``, ``extract/not_article``,
``extract/error``, ``extract/unparseable``, ``extract/too_complex``, ``extract/timeout``,
``extract/not_modified`` (a 304 passed through untouched), ``extract/worker_restarts``.

Settings read: ``CLAIMWATCH_MIN_ARTICLE_CHARS``, ``CLAIMWATCH_EXTRACT_PROCESSES`` (``None``: one
worker process per CPU; 0: extraction on a thread of the crawl process, without a time limit),
``CLAIMWATCH_EXTRACT_TIMEOUT_S`` (seconds per page in a worker).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trafilatura
from lxml import etree
from trafilatura.settings import Document as TrafilaturaDocument
from trafilatura.utils import decode_file, load_html

from core.document import Block, BlockKind, Document, clean_line
from pipeline.dates import listed_date
from pipeline.fastextract import structural_blocks
from pipeline.metadata import page_metadata
from pipeline.process_pool import (
    ProcessPool,
    Warm,
    WorkerCrashed,
    WorkerTimedOut,
    default_processes,
)
from pipeline.settings import required
from pipeline.urls import canonical_url, same_site

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

_HEADINGS = {"head"}
_PARAGRAPHS = {"p", "code", "table", "row"}
LISTING_MAX_LINK_SHARE = 0.5  # more link text than this: a listing page
PROSE_MIN_WORDS = 15  # a paragraph this long counts as prose
PROSE_MIN_CHARS = 150  # an article has at least this much prose
MAX_DOM_ELEMENTS = 50_000  # a long article page has a few thousand
MAX_INLINE_PER_BLOCK = 1_000  # inline elements under one block (a paragraph with 1,000 links...)
INLINE_TAGS = frozenset(
    "a abbr b bdi bdo br cite code data del dfn em font i img ins kbd mark q s samp small span"
    " strike strong sub sup time tt u var wbr".split()
)
# Scripts written without spaces between words: Han, kana. Two characters count as about one word.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class Extraction:
    """The outcome: a document, or the reason there is none."""

    document: Document | None
    reason: str = "ok"


def _text(element: etree._Element) -> str:
    for br in element.iter("lb"):
        br.text = " "
    return clean_line("".join(element.itertext()))


def word_count(text: str) -> int:
    """Words separated by spaces, plus one per two CJK characters (written without spaces)."""
    cjk = len(_CJK.findall(text))
    if not cjk:
        return len(text.split())
    return len(_CJK.sub(" ", text).split()) + cjk // 2


def _link_chars(element: etree._Element) -> int:
    """Characters of navigation-like link text: a link that is itself a sentence is prose."""
    total = 0
    for ref in element.iter("ref"):
        text = clean_line("".join(ref.itertext()))
        if word_count(text) < PROSE_MIN_WORDS:
            total += len(text)
    return total


def _blocks(body: etree._Element) -> tuple[list[Block], int]:
    """The blocks in reading order, and how many of their characters are link text."""
    blocks: list[Block] = []
    linked = 0

    def add(kind: BlockKind, element: etree._Element) -> None:
        nonlocal linked
        text = _text(element)
        if text:
            blocks.append(Block(kind, text))
            linked += _link_chars(element)

    def add_list(element: etree._Element, kind: BlockKind) -> None:
        for item in element:
            if item.tag != "item":
                continue
            nested = [sub for sub in item if sub.tag == "list"]
            for sub in nested:
                item.remove(sub)
            add(kind, item)
            for sub in nested:
                add_list(sub, kind)

    def walk(element: etree._Element, in_quote: bool = False) -> None:
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _HEADINGS:
                add("heading", child)
            elif tag == "list":
                add_list(child, "quote" if in_quote else "list_item")
            elif tag == "quote":
                if any(
                    isinstance(sub.tag, str) and sub.tag in {"p", "list", "head"} for sub in child
                ):
                    walk(child, in_quote=True)
                else:
                    add("quote", child)
            elif tag == "table":
                for row in child.iter("row"):
                    cells = [_text(cell) for cell in row]
                    line = " | ".join(cell for cell in cells if cell)
                    if line:
                        blocks.append(Block("paragraph", line))
            elif tag in _PARAGRAPHS:
                add("quote" if in_quote else "paragraph", child)
            elif tag in {"div", "main", "section", "body"}:
                walk(child, in_quote)

    walk(body)
    return blocks, linked


def listing_reason(blocks: list[Block], link_chars: int) -> str | None:
    """Why the main text looks like a listing (front page, tag page, shop grid), not an article.

    An article has prose: paragraphs of sentence length. A listing is mostly links and teasers,
    or short labels and prices.
    """
    total = sum(len(b.text) for b in blocks)
    if total and link_chars / total > LISTING_MAX_LINK_SHARE:
        return "not_article"
    prose = sum(
        len(b.text)
        for b in blocks
        if b.kind in ("paragraph", "quote") and word_count(b.text) >= PROSE_MIN_WORDS
    )
    if prose < PROSE_MIN_CHARS:
        return "not_article"
    return None


def _language(tree: etree._Element) -> str | None:
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not lang:
        return None
    primary = lang.strip().split("-")[0].split("_")[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def complexity_problem(
    tree: etree._Element,
    max_elements: int = MAX_DOM_ELEMENTS,
    max_inline: int = MAX_INLINE_PER_BLOCK,
) -> str | None:
    """Why a parsed page is over the extraction budget, or ``None``. One pass over the tree."""
    seen = 0
    inline: dict[etree._Element, int] = {}
    for element in tree.iter():
        seen += 1
        if seen > max_elements:
            return f"too_complex: more than {max_elements} elements"
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag not in INLINE_TAGS:
            continue
        block = element.getparent()
        while block is not None and isinstance(block.tag, str) and block.tag.lower() in INLINE_TAGS:
            block = block.getparent()
        if block is None:
            continue
        count = inline[block] = inline.get(block, 0) + 1
        if count > max_inline:
            return f"too_complex: more than {max_inline} inline elements in one <{block.tag}>"
    return None


def _trafilatura_blocks(
    tree: etree._Element, fast: bool, favor_precision: bool, favor_recall: bool
) -> tuple[list[Block], int, bool] | None:
    """trafilatura's main text as blocks, their link characters and whether a ``<h1>`` led."""
    # No URL: trafilatura would only use it to make link targets absolute, which we never read
    # (about a tenth of its time on link-rich pages); the text is the same.
    result = trafilatura.bare_extraction(
        tree,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        include_links=True,
        deduplicate=False,
        fast=fast,
        favor_precision=favor_precision,
        favor_recall=favor_recall,
    )
    if not isinstance(result, TrafilaturaDocument) or result.body is None:
        return None
    first = next((child for child in result.body if isinstance(child.tag, str)), None)
    leading_h1 = first is not None and first.tag == "head" and first.get("rend") == "h1"
    blocks, link_chars = _blocks(result.body)
    return blocks, link_chars, leading_h1


def extract_html(
    html: str | bytes,
    url: str,
    *,
    min_chars: int = 0,
    listed: str | None = None,
    fast: bool = False,
    extensive_dates: bool = True,
    favor_precision: bool = False,
    favor_recall: bool = False,
    structural: bool = True,
) -> Extraction:
    """Extract title, author, date, language, canonical URL and the structured main text.

    ``listed`` is the date the sitemap or feed gave the page (``YYYY-MM-DD``, see
    :func:`pipeline.dates.listed_date`): the page's date, with no date search. ``fast`` is
    trafilatura's (no fallback extractors); ``extensive_dates=False`` limits htmldate to the page's
    markup and metadata; ``favor_precision`` and ``favor_recall`` are trafilatura's. The pipeline
    uses none of them: each costs quality or CPU (``bench/cpu_per_page.py``).

    With ``structural`` (the default) a page that marks up its article body clearly gets its
    blocks from :func:`pipeline.fastextract.structural_blocks` (lexbor, a few ms) and trafilatura
    runs only on the others (``bench/README.md``, "Structural extractor (issue 12)").
    """
    try:
        tree = load_html(html)
    except Exception as exc:  # lxml raises several unrelated types on hostile markup
        return Extraction(None, f"unparseable: {type(exc).__name__}")
    if tree is None:
        return Extraction(None, "empty")
    problem = complexity_problem(tree)
    if problem:
        return Extraction(None, problem)
    language = _language(tree)
    fast_path = None
    if structural:
        try:
            fast_path = structural_blocks(html if isinstance(html, str) else decode_file(html))
        except Exception as exc:  # unsure: trafilatura decides
            logger.warning("structural extraction failed for %s: %r", url, exc)
    try:
        meta = page_metadata(tree, url, listed=listed, extensive_dates=extensive_dates)
        if fast_path is not None:
            blocks, link_chars = fast_path.blocks, fast_path.link_chars
            leading_h1 = fast_path.leading_h1
        else:
            found = _trafilatura_blocks(tree, fast, favor_precision, favor_recall)
            if found is None:
                return Extraction(None, "empty")
            blocks, link_chars, leading_h1 = found
    except Exception as exc:
        logger.warning("extraction failed for %s: %r", url, exc)
        return Extraction(None, f"error: {type(exc).__name__}")
    title = clean_line(meta.title) if meta.title else None
    # The article's own title heading is metadata, not body text: drop it so the same article
    # under another site's <title> has the same text (and hash).
    if (
        blocks
        and blocks[0].kind == "heading"
        and (leading_h1 or (title and blocks[0].text.casefold() == title.casefold()))
    ):
        title = title or blocks[0].text
        blocks = blocks[1:]
    if not blocks:
        return Extraction(None, "empty")
    canonical = url
    if meta.url and meta.url != url and same_site(meta.url, url):
        canonical = meta.url
    document = Document(
        blocks=tuple(blocks),
        title=title or None,
        author=clean_line(meta.author) if meta.author else None,
        date=meta.date or None,
        language=language,
        url=url,
        canonical_url=canonical_url(canonical),
        meta={"sitename": meta.sitename, "description": meta.description},
    )
    if document.text_chars < min_chars:
        return Extraction(None, "too_short")
    reason = listing_reason(blocks, link_chars)
    if reason:
        return Extraction(None, reason)
    return Extraction(document)


WARM_PAGE = (
    "<html><head><title>Warm-up</title><meta name='author' content='A. Writer'></head><body>"
    "<article><h1>Warm-up</h1>"
    + "<p>A paragraph of plain words to extract, once. </p>" * 8
    + "</article></body></html>"
)


def warm_extraction(min_chars: int) -> None:
    """In a new worker process: one extraction of a small page of our own, so the parsers'
    lazily built tables are in place before the first page's time limit starts."""
    extract_html(WARM_PAGE, "https://warm-up.invalid/", min_chars=min_chars, listed=None)


def _extract_in_worker(html: str, url: str, min_chars: int, listed: str | None) -> Extraction:
    return extract_html(html, url, min_chars=min_chars, listed=listed)


class ExtractPipeline:
    """Scrapy adapter around :func:`extract_html`.

    With ``processes`` > 0 (``CLAIMWATCH_EXTRACT_PROCESSES``, default one per CPU) extraction runs
    in a :class:`~pipeline.process_pool.ProcessPool` of that many spawned workers; a page whose
    worker died twice counts ``extract/error``, and each new pool ``extract/worker_restarts``. A
    page that runs past ``timeout_s`` in its worker counts ``extract/timeout`` (its worker is killed
    and replaced). With 0 it runs on one thread of the crawl process, with no time limit (a thread
    cannot be stopped).
    """

    # One thread: two extraction threads crashed the process with a double free inside lxml
    # (trafilatura copying a tree), about once in 25 crawls; they brought no speed either (GIL).
    def __init__(
        self,
        stats: StatsCollector,
        min_chars: int,
        processes: int = 0,
        timeout_s: float | None = None,
        warm: Warm | None = None,
    ) -> None:
        self.stats = stats
        self.min_chars = min_chars
        warm = warm or (warm_extraction, (min_chars,))
        self.pool = ProcessPool(processes, timeout_s, warm) if processes > 0 else None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler.stats, **cls.pool_settings(crawler.settings))

    @staticmethod
    def pool_settings(settings: Any) -> dict[str, Any]:
        """The constructor's extraction settings (``min_chars``, ``processes``, ``timeout_s``),
        read in this one place for this class and its subclasses."""
        processes = settings.get("CLAIMWATCH_EXTRACT_PROCESSES")
        timeout = settings.get("CLAIMWATCH_EXTRACT_TIMEOUT_S")
        return {
            "min_chars": int(required(settings, "CLAIMWATCH_MIN_ARTICLE_CHARS")),
            "processes": default_processes() if processes is None else int(processes),
            "timeout_s": None if timeout is None else float(timeout),
        }

    def close_spider(self, spider: Any = None) -> None:
        self.executor.shutdown(wait=True)
        if self.pool is not None:
            self.pool.shutdown()

    def worker_call(
        self, item: Any, listed: str | None
    ) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """The module-level function a worker process runs for ``item``, and its arguments (both
        must pickle); a subclass may have the worker do more (:mod:`pipeline.page_work`)."""
        return _extract_in_worker, (item.html, item.url, self.min_chars, listed)

    def accept(self, item: Any, result: Any) -> Extraction:
        """The extraction out of what a worker returned (a subclass also keeps the rest)."""
        extraction: Extraction = result
        return extraction

    async def _extract(self, item: Any) -> Extraction:
        listed = listed_date(item.sitemap_lastmod)
        if self.pool is None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self.executor,
                lambda: extract_html(item.html, item.url, min_chars=self.min_chars, listed=listed),
            )
        restarts = self.pool.restarts
        function, args = self.worker_call(item, listed)
        try:
            return self.accept(item, await self.pool.run(function, *args))
        except WorkerCrashed:
            logger.warning("extraction of %s crashed its worker twice", item.url)
            return Extraction(None, "error: worker_crashed")
        except WorkerTimedOut as exc:
            logger.warning("extraction of %s %s", item.url, exc)
            return Extraction(None, f"timeout: {exc}")
        finally:
            if self.pool.restarts > restarts:
                self.stats.inc_value("extract/worker_restarts", self.pool.restarts - restarts)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        from scrapy.exceptions import DropItem

        if item.not_modified:
            self.stats.inc_value("extract/not_modified")
            return item
        outcome = await self._extract(item)
        if outcome.document is None:
            reason = outcome.reason.split(":")[0]
            self.stats.inc_value(f"extract/{reason}")
            self.stats.inc_value(f"source/{item.source}/extract/{reason}")
            raise DropItem(f"no article text ({outcome.reason}): {item.url}", log_level="INFO")
        self.stats.inc_value("extract/ok")
        item.document = outcome.document
        return item
