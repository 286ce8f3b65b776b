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

Without worker processes (``CLAIMWATCH_EXTRACT_PROCESSES`` 0) it is :class:`ExtractPipeline`:
the later stages sign and score in the crawl process. A score that fails in a worker is left
unset, so the score stage tries it again in the crawl process (and counts ``score/error`` there).

Stats: those of :class:`ExtractPipeline`, and ``extract/worker_scored`` (pages a worker extracted,
signed and scored) or ``extract/worker_signed`` (its score failed there).

Settings read: those of :class:`ExtractPipeline`, and ``CLAIMWATCH_RULES_PATH``,
``CLAIMWATCH_RULES_EXTRA``, ``CLAIMWATCH_CLAIM_MODEL`` (as :class:`ScorePipeline` reads them).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pipeline.claims.article import score_document
from pipeline.claims.pipeline import model_from, rules_from
from pipeline.dedup.engine import NUM_PERM, SHINGLE
from pipeline.dedup.minhash import MinHasher, Signature
from pipeline.extract import Extraction, ExtractPipeline, extract_html
from pipeline.page_kind import page_kind

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from pipeline.claims import ArticleScore
    from pipeline.claims.learned import LinearModel
    from pipeline.claims.model import RuleSet

logger = logging.getLogger(__name__)


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


class PageWorkPipeline(ExtractPipeline):
    """:class:`ExtractPipeline` whose workers also sign and score (see the module docstring)."""

    def __init__(
        self,
        stats: StatsCollector,
        min_chars: int,
        processes: int = 0,
        scoring: Scoring | None = None,
        timeout_s: float | None = None,
    ) -> None:
        super().__init__(stats, min_chars, processes, timeout_s)
        self.scoring = scoring or Scoring()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageWorkPipeline:
        settings = crawler.settings
        scoring = Scoring.of(
            settings.get("CLAIMWATCH_RULES_PATH"),
            settings.getdict("CLAIMWATCH_RULES_EXTRA"),
            settings.get("CLAIMWATCH_CLAIM_MODEL"),
        )
        return cls(crawler.stats, scoring=scoring, **cls.pool_settings(settings))

    def worker_call(
        self, item: Any, listed: str | None
    ) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        args = (item.html, item.url, self.min_chars, listed, self.scoring)
        return work_page, (*args, getattr(item, "voice", "auto"))

    def accept(self, item: Any, result: Any) -> Extraction:
        work: PageWork = result
        if work.extraction.document is not None:
            item.signature = work.signature
            item.score = work.score
            self.stats.inc_value("extract/worker_scored" if work.score else "extract/worker_signed")
        return work.extraction
