"""The Scrapy adapter around :func:`pipeline.claims.score_document`.

:class:`ScorePipeline` scores each item's document off the reactor thread and sets ``item.score``
to the :class:`~pipeline.claims.scoring.ArticleScore` (the item class gains a ``score`` field when
the pipeline is wired in). Items without a document (a 304 passed through, say) go on untouched;
an item a worker process already scored (:mod:`pipeline.page_work`) is counted as it is.

Stats: ``score/articles``, ``score/claims`` (claims found), ``score/band/<band>``,
``score/rule/<id>`` (claims each rule contributed to), ``score/escalation/<flag>``,
``score/not_modified``, ``score/no_document``, ``score/error``, ``score/page_kind/<kind>`` (the
page kind scoring read: the source's ``voice``, else the page's schema.org type or ``og:type``,
:mod:`pipeline.page_kind`; ``none`` when neither tells; also per source), and the learned
decision's part:
``score/model_only`` (claims the rules alone set aside or never fired on) and
``score/overruled`` (rule claims the learned decision did not keep), ``score/claims_dropped``
(claims past the per-article cap, ``MAX_CLAIMS_PER_ARTICLE``); the band is also counted
under ``source/<name>/score/band/<band>``.

Settings read: ``CLAIMWATCH_RULES_PATH`` (a rule file; absent or empty: the shipped one),
``CLAIMWATCH_RULES_EXTRA`` (extra lexicon entries) and ``CLAIMWATCH_CLAIM_MODEL`` (``shipped``,
``rules-only`` or a weights file), from the config's ``rules`` section.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.claims.article import score_document
from pipeline.claims.learned import LinearModel, default_model, load_model
from pipeline.claims.loader import load_rules
from pipeline.claims.model import RuleSet
from pipeline.page_kind import page_kind

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from pipeline.claims.scoring import ArticleScore

logger = logging.getLogger(__name__)


def rules_from_config(config: Any) -> RuleSet:
    """The rule set a config asks for: ``rules.path`` and ``rules.extra`` if present, else shipped.

    Tolerant of configs without a ``rules`` section (the shipped rules are used).
    """
    section = getattr(config, "rules", None)
    return rules_from(getattr(section, "path", None), getattr(section, "extra", None))


def model_from(name: str | None) -> LinearModel:
    """The learned decision a setting names: ``"shipped"`` (or nothing), ``"rules-only"``, or the
    path of a weights file (a bad file raises :class:`~pipeline.claims.learned.ModelError`)."""
    if not name or name == "shipped":
        return default_model()
    if name == "rules-only":
        return LinearModel.rules_only()
    return load_model(Path(name))


def model_from_config(config: Any) -> LinearModel:
    """The learned decision of a config's ``rules.model`` (tolerant of configs without one)."""
    return model_from(getattr(getattr(config, "rules", None), "model", None))


def rules_from(path: Path | str | None, extra: Mapping[str, Any] | None) -> RuleSet:
    """The rule file at ``path`` (``None``: the shipped one) with ``extra`` lexicon entries."""
    from pipeline.claims import DEFAULT_RULES_PATH, default_rules

    if not path and not extra:
        return default_rules()
    return load_rules(Path(path) if path else DEFAULT_RULES_PATH, extra or None)


class ScorePipeline:
    """Scrapy adapter around :func:`pipeline.claims.score_document`."""

    def __init__(
        self,
        stats: StatsCollector,
        rules: RuleSet,
        workers: int = 2,
        model: LinearModel | None = None,
    ) -> None:
        self.stats = stats
        self.rules = rules
        self.model = model or default_model()
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="score")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScorePipeline:
        settings = crawler.settings
        path = settings.get("CLAIMWATCH_RULES_PATH")
        extra = settings.getdict("CLAIMWATCH_RULES_EXTRA")
        model = model_from(settings.get("CLAIMWATCH_CLAIM_MODEL"))
        return cls(crawler.stats, rules_from(path, extra), model=model)

    def close_spider(self, spider: Any = None) -> None:
        self.executor.shutdown(wait=True)

    def count(self, item: Any, score: ArticleScore) -> None:
        inc = self.stats.inc_value
        inc("score/articles")
        inc("score/claims", len(score.claims))
        inc(f"score/band/{score.risk.band}")
        inc(f"source/{item.source}/score/band/{score.risk.band}")
        inc(f"score/page_kind/{score.page_kind or 'none'}")
        inc(f"source/{item.source}/score/page_kind/{score.page_kind or 'none'}")
        for rule_id, count in score.rule_counts.items():
            inc(f"score/rule/{rule_id}", count)
        for flag in score.risk.escalations:
            inc(f"score/escalation/{flag}")
        for key in ("model_only", "overruled", "claims_dropped"):
            if score.stats.get(key):
                inc(f"score/{key}", score.stats[key])

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        if getattr(item, "not_modified", False):
            self.stats.inc_value("score/not_modified")
            return item
        document = getattr(item, "document", None)
        if document is None:
            self.stats.inc_value("score/no_document")
            return item
        if getattr(item, "score", None) is not None:  # scored in a worker process (page_work)
            self.count(item, item.score)
            return item
        loop = asyncio.get_running_loop()
        voice, html = getattr(item, "voice", "auto"), getattr(item, "html", "")
        try:
            score = await loop.run_in_executor(
                self.executor,
                lambda: score_document(document, self.rules, self.model, page_kind(voice, html)),
            )
        except Exception:  # a scoring bug must not lose the article: store it unscored
            logger.exception("scoring failed for %s", getattr(item, "url", "?"))
            self.stats.inc_value("score/error")
            return item
        self.count(item, score)
        item.score = score  # PageItem gains `score: ArticleScore | None = None` when wired in
        return item
