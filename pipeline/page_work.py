"""One round trip per page: extraction, the dedup signature and the claim score in one worker call.

:func:`work_page` is pure: HTML in, a :class:`PageWork` out (the :class:`~pipeline.extract.Extraction`,
and for a page with article text its MinHash signature and its :class:`~pipeline.claims.ArticleScore`).
:class:`PageWorkPipeline` is :class:`~pipeline.extract.ExtractPipeline` whose worker processes
run :func:`work_page` instead of the extraction alone; it sets ``item.document``,
``item.signature`` and ``item.score``. The later stages use what is set and do the rest in the
crawl process: :class:`~pipeline.dedup.pipeline.DedupPipeline` matches the signature against its
index (which stays in the crawl process, as it grows with every page) and
:class:`~pipeline.claims.pipeline.ScorePipeline` counts the score. The store, the order of the
items and the stats are those of the stages run one by one.

The worker is sent the page once, as its body bytes (:func:`work_fetch`): it decodes them as the
spider did (:func:`body_text`), and for a page with article text also builds its
:class:`~pipeline.items.Capture` (the body's SHA-256, the zstd of the raw HTML and, with WARC
files kept, the fetch's WARC records), so the store thread only appends and inserts bytes.

Without worker processes (``CLAIMWATCH_EXTRACT_PROCESSES`` 0) it is :class:`ExtractPipeline`:
the later stages sign and score in the crawl process, and the store builds the capture. A score
that fails in a worker is left unset, so the score stage tries it again in the crawl process (and
counts ``score/error`` there).

Stats: those of :class:`ExtractPipeline`, and ``extract/worker_scored`` (pages a worker extracted,
signed and scored) or ``extract/worker_signed`` (its score failed there).

Settings read: those of :class:`ExtractPipeline`, and ``CLAIMWATCH_RULES_PATH``,
``CLAIMWATCH_RULES_EXTRA``, ``CLAIMWATCH_CLAIM_MODEL`` (as :class:`ScorePipeline` reads them),
``CLAIMWATCH_WARC_DIR`` (set: the workers build the WARC records, as :class:`StorePipeline`
keeps them).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from w3lib.encoding import html_to_unicode

from pipeline.claims.article import score_document
from pipeline.claims.pipeline import model_from, rules_from
from pipeline.dedup.engine import NUM_PERM, SHINGLE
from pipeline.dedup.minhash import MinHasher, Signature
from pipeline.extract import WARM_PAGE, Extraction, ExtractPipeline, extract_html
from pipeline.items import Capture, PageItem
from pipeline.page_kind import page_kind
from pipeline.warc import capture

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from pipeline.claims import ArticleScore
    from pipeline.claims.learned import LinearModel
    from pipeline.claims.model import RuleSet

logger = logging.getLogger(__name__)
#: The spider's fallback for an undeclared page that is not UTF-8 (``crawler.encoding.FALLBACK``),
#: decoded plainly; any other encoding is Scrapy's, decoded as ``TextResponse.text`` does.
PLAIN_ENCODING = "cp1252"


@dataclass(frozen=True, slots=True)
class Scoring:
    """What names the rules and the learned decision (plain values: it travels to the workers,
    which load the rules once each)."""

    rules_path: str | None = None
    rules_extra: str = "{}"  # the extra lexicon entries as JSON (hashable)
    model: str | None = None

    @classmethod
    def of(cls, path: str | None, extra: dict[str, Any] | None, model: str | None) -> Scoring:
        return cls(path or None, json.dumps(extra or {}, sort_keys=True), model or None)


@dataclass(frozen=True, slots=True)
class PageWork:
    """A worker's answer for one page."""

    extraction: Extraction
    signature: Signature | None = None
    score: ArticleScore | None = None
    capture: Capture | None = None  # with work_fetch, for a page with article text


@lru_cache(maxsize=1)
def _hasher() -> MinHasher:
    return MinHasher(NUM_PERM, SHINGLE)  # the dedup engine's own (build_deduper's default)


@lru_cache(maxsize=4)
def _scorer(scoring: Scoring) -> tuple[RuleSet, LinearModel]:
    return rules_from(scoring.rules_path, json.loads(scoring.rules_extra)), model_from(
        scoring.model
    )


def work_page(
    html: str | bytes,
    url: str,
    min_chars: int,
    listed: str | None,
    scoring: Scoring,
    voice: str = "auto",
) -> PageWork:
    """Extract ``html``; if it has article text, sign it for dedup and score its claims (with
    the page kind of the source's ``voice``, or of the page's metadata: :mod:`pipeline.page_kind`)."""
    extraction = extract_html(html, url, min_chars=min_chars, listed=listed)
    document = extraction.document
    if document is None:
        return PageWork(extraction)
    signature = _hasher().sign(document.text)
    try:
        rules, model = _scorer(scoring)
        kind = page_kind(voice, html)
        score: ArticleScore | None = score_document(document, rules, model, kind)
    except Exception:  # the score stage tries again in the crawl process and counts the error
        logger.exception("scoring failed in a worker for %s", url)
        score = None
    return PageWork(extraction, signature, score)


def warm_page_work(scoring: Scoring) -> None:
    """In a new worker process: load the rules, the model and the hasher and work one small page
    of our own, so none of it counts against the first real page's time limit."""
    _hasher()
    _scorer(scoring)
    work_page(WARM_PAGE, "https://warm-up.invalid/", 1, None, scoring)


def body_text(body: bytes, encoding: str) -> str:
    """The page's text as the spider decoded it (``item.html``): Scrapy's ``TextResponse.text``
    for the encoding Scrapy found (a byte order mark first), or for the spider's windows-1252
    fallback (:data:`PLAIN_ENCODING`) the bytes read as that, errors replaced."""
    if encoding == PLAIN_ENCODING:  # Scrapy never names it for a body with a byte order mark
        return body.decode(PLAIN_ENCODING, errors="replace")
    return str(html_to_unicode(f"charset={encoding}", body)[1])


def work_fetch(
    item: PageItem, min_chars: int, listed: str | None, scoring: Scoring, warc: bool
) -> PageWork:
    """:func:`work_page` on a fetched page sent as its body (``item.html`` empty, decoded here),
    and for a page with article text its :class:`~pipeline.items.Capture`."""
    assert item.encoding is not None
    html = body_text(item.body, item.encoding)
    work = work_page(html, item.url, min_chars, listed, scoring, item.voice)
    if work.extraction.document is None:
        return work
    return replace(work, capture=capture(item, warc))


class PageWorkPipeline(ExtractPipeline):
    """:class:`ExtractPipeline` whose workers also sign and score (see the module docstring)."""

    def __init__(
        self,
        stats: StatsCollector,
        min_chars: int,
        processes: int = 0,
        scoring: Scoring | None = None,
        timeout_s: float | None = None,
        warc: bool = False,
    ) -> None:
        scoring = scoring or Scoring()
        super().__init__(stats, min_chars, processes, timeout_s, (warm_page_work, (scoring,)))
        self.scoring = scoring
        self.warc = warc

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageWorkPipeline:
        settings = crawler.settings
        scoring = Scoring.of(
            settings.get("CLAIMWATCH_RULES_PATH"),
            settings.getdict("CLAIMWATCH_RULES_EXTRA"),
            settings.get("CLAIMWATCH_CLAIM_MODEL"),
        )
        return cls(
            crawler.stats,
            scoring=scoring,
            warc=bool(settings.get("CLAIMWATCH_WARC_DIR")),
            **cls.pool_settings(settings),
        )

    def worker_call(
        self, item: Any, listed: str | None
    ) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        if item.encoding is None:  # not decoded by the spider: the text as it is
            args = (item.html, item.url, self.min_chars, listed, self.scoring)
            return work_page, (*args, getattr(item, "voice", "auto"))
        sent = replace(item, html="")  # the page once: its bytes
        return work_fetch, (sent, self.min_chars, listed, self.scoring, self.warc)

    def accept(self, item: Any, result: Any) -> Extraction:
        work: PageWork = result
        if work.extraction.document is not None:
            item.signature = work.signature
            item.score = work.score
            item.capture = work.capture
            self.stats.inc_value("extract/worker_scored" if work.score else "extract/worker_signed")
        return work.extraction
