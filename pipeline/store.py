"""Storage: idempotent, batched upserts of articles, keyed by canonical URL.

:func:`store_batch` is the pure part (a session and a batch in, the outcome of each item out; one
transaction per batch, so a killed crawl leaves only whole, committed batches). :class:`StorePipeline`
is the Scrapy adapter: it buffers items and writes each batch on one writer thread, off the reactor,
when the batch is full or its oldest item has waited a few seconds.

A batch that fails (a database locked past its busy timeout, a full disk, a server gone) is retried
``STORE_ATTEMPTS`` times in all, ``STORE_BACKOFF_S`` seconds apart and doubling, on the writer
thread. A batch that fails every time is counted as ``store/error`` (and
``source/<name>/store/error``), its reason kept as ``source/<name>/store/failure``: the source's run
then fails (:func:`pipeline.runs.source_status`) and ``claimwatch crawl`` exits 1.

Each fetched page of a batch is first archived to WARC (:mod:`pipeline.warc`, on the same writer
thread, made durable before the batch's transaction refers to it); a batch that is tried again
reuses those records. A page whose worker process built its :class:`~pipeline.items.Capture`
(hash, compressed HTML, WARC records) has those bytes stored as they are; the others' are built
here, the same way. A WARC write that fails is counted (``warc/error``) and the batch is stored
without its records.

Stats: ``store/inserted``, ``store/updated``, ``store/unchanged``, ``store/not_modified``,
``store/error``, ``store/retried``, ``warc/records``, ``warc/error``, and
``source/<name>/items`` for every article stored or confirmed.

Settings read: ``CLAIMWATCH_DB_URL`` (absent: the pipeline is off, ``NotConfigured``),
``CLAIMWATCH_BATCH_SIZE``, ``CLAIMWATCH_EXACT_DUPLICATES``; ``CLAIMWATCH_STORE_ATTEMPTS`` and
``CLAIMWATCH_STORE_BACKOFF_S`` if set (default: the constants below); ``CLAIMWATCH_WARC_DIR``
(unset or empty: no WARC files) and ``CLAIMWATCH_WARC_MAX_BYTES``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import Table, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.compression import compress_html
from core.db import sessions_for
from core.models import Article, Claim, CrawlRun, Source
from pipeline.dedup.minhash import to_bytes
from pipeline.history import add_version, add_warc_record, keep_old_version
from pipeline.items import PageItem
from pipeline.settings import required
from pipeline.versions import CLAIM_COLUMNS
from pipeline.warc import DEFAULT_MAX_BYTES, WarcArchive, WarcRef

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from pipeline.claims import ArticleScore

logger = logging.getLogger(__name__)
MAX_BUFFER_SECONDS = 5.0  # a slow, polite crawl still commits what it has every few seconds
STORE_ATTEMPTS = 4  # a batch is tried this many times before its items count as store/error
STORE_BACKOFF_S = 1.0  # first wait between two tries; it doubles (1 s, 2 s, 4 s)
ARTICLES = cast(Table, Article.__table__)


KEEP_ON_UPDATE = frozenset({"canonical_url", "first_seen_at", "version", "changed_at", "source_id"})


@lru_cache(maxsize=16)
def _upsert(dialect: str, columns: tuple[str, ...]) -> Any:
    """The article upsert for rows of these columns, built once per dialect and set of columns
    (building and keying it per item cost ~4 ms of CPU on a loaded machine) and executed with each
    row as its parameters: the new row inserted, or the stored one updated, with its version and
    ``changed_at`` moved on only when the text changed; it returns the id and version."""
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(ARTICLES)
    elif dialect == "sqlite":
        stmt = sqlite.insert(ARTICLES)
    else:
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    stored, excluded = ARTICLES.c, stmt.excluded
    changed = stored.text_sha256 != excluded.text_sha256
    set_: dict[str, Any] = {key: excluded[key] for key in columns if key not in KEEP_ON_UPDATE}
    # an article stored without its source (before runs were always recorded) gets it now
    set_["source_id"] = func.coalesce(stored.source_id, excluded.source_id)
    set_["version"] = case((changed, stored.version + 1), else_=stored.version)
    set_["changed_at"] = case((changed, excluded.changed_at), else_=stored.changed_at)
    upsert = stmt.on_conflict_do_update(index_elements=["canonical_url"], set_=set_)
    return upsert.returning(stored.id, stored.version)


def _row(item: PageItem, source_id: int | None, run_id: int | None) -> dict[str, Any]:
    doc = item.document
    assert doc is not None and doc.canonical_url is not None
    kept = item.capture  # computed by a worker process, else here
    return {
        "canonical_url": doc.canonical_url,
        "url": item.url,
        "source_id": source_id,
        "crawl_run_id": run_id,
        "first_seen_at": item.fetched_at,
        "fetched_at": item.fetched_at,
        "checked_at": item.fetched_at,
        "changed_at": item.fetched_at,
        "http_status": item.status,
        "etag": item.etag,
        "last_modified": item.last_modified,
        "sitemap_lastmod": item.sitemap_lastmod,
        "content_type": item.content_type,
        "encoding": item.encoding,
        "raw_sha256": kept.raw_sha256 if kept else hashlib.sha256(item.body).hexdigest(),
        "text_sha256": doc.text_sha256,
        "raw_html_gz": kept.raw_html if kept else compress_html(item.body),
        "title": doc.title,
        "author": doc.author,
        "published": doc.date,
        "language": doc.language,
        "text": doc.text,
        "text_chars": doc.text_chars,
        "blocks": doc.blocks_as_dicts(),
        "version": 1,
        **_dedup_columns(item),
        **_score_columns(item),
    }


def _dedup_columns(item: PageItem) -> dict[str, Any]:
    result = item.dedup
    if result is None:
        return {}
    return {
        "near_of": result.near.of,
        "near_kind": result.near.kind,
        "near_similarity": round(result.near.similarity, 4) if result.near.of else None,
        "family": result.template.family,
        "family_score": result.template.score,
        "nearest_seed": result.template.nearest_seed,
        "dedup_evidence": {
            "template": list(result.template.evidence),
            "passages": list(result.near.passages),
        },
        "minhash": to_bytes(result.signature),
    }


def _score_columns(item: PageItem) -> dict[str, Any]:
    score = item.score
    if score is None:
        return {}
    risk = score.risk
    return {
        "risk_score": risk.score,
        "risk_band": risk.band,
        "escalations": list(risk.escalations),
        "claim_count": len(score.claims),
        "rules_sha256": score.rules_sha256 or None,
        "model_sha256": score.model_sha256 or None,
        "scored_at": item.fetched_at,
    }


def _replace_claims(session: Session, article_id: int, score: ArticleScore) -> None:
    """The article's claims, replaced whole (they follow its current text and rules)."""
    session.execute(delete(Claim).where(Claim.article_id == article_id))
    rows = []
    for position, claim in enumerate(score.claims):
        data = claim.as_json()
        core = {key: data.pop(key) for key in CLAIM_COLUMNS}
        rows.append({"article_id": article_id, "position": position, **core, "detail": data})
    if rows:
        session.execute(insert(Claim), rows)


class Outcome(NamedTuple):
    kind: str  # inserted | updated | unchanged | not_modified
    duplicate_of: int | None = None  # the first copy, when this text was already stored elsewhere


def _first_copy(session: Session, text_sha256: str, canonical: str) -> int | None:
    return session.scalar(
        select(Article.id)
        .where(Article.text_sha256 == text_sha256, Article.canonical_url != canonical)
        .where(Article.duplicate_of.is_(None))
        .order_by(Article.id)
        .limit(1)
    )


def store_batch(
    session: Session,
    items: Sequence[PageItem],
    ids: dict[str, tuple[int | None, int | None]],
    exact_duplicates: str = "store",
    warc: Sequence[WarcRef | None] | None = None,
) -> list[Outcome]:
    """Write one batch in one transaction; return each item's outcome, in order.

    ``ids`` maps a source name to its (source id, crawl run id). Outcomes: ``inserted``, ``updated``
    (the normalised text changed), ``unchanged`` (fetched again, same text), ``not_modified`` (304).
    An article whose normalised text is already stored under another URL is an exact repost: it is
    linked to the first copy (``duplicate_of``) and, with ``exact_duplicates="link"``, stored as a
    link only (hashes and metadata, without its text or HTML).

    A new article, and each change of its text, adds a row to ``article_versions`` (the text, its
    claims, hashes and the rule and weights files); an unchanged text adds none. ``warc`` holds,
    per item, where its fetch was archived (:meth:`pipeline.warc.WarcArchive.write_all`); each is
    recorded in ``warc_records`` against the version the fetch returned.
    """
    outcomes: list[Outcome] = []
    with session.begin():
        fresh = [item for item in items if not item.not_modified and item.document is not None]
        wanted = {item.document.canonical_url for item in fresh if item.document}
        existing: dict[str, tuple[int, str, int]] = {}  # url -> (id, text sha, version)
        if wanted:
            query = select(
                Article.canonical_url, Article.id, Article.text_sha256, Article.version
            ).where(Article.canonical_url.in_(wanted))
            existing = {url: (i, sha, v) for url, i, sha, v in session.execute(query)}
        for index, item in enumerate(items):
            source_id, run_id = ids.get(item.source, (None, None))
            if item.not_modified or item.document is None:
                session.execute(
                    update(Article)
                    .where(Article.url == item.url)
                    .values(
                        checked_at=item.fetched_at,
                        # a newer listing date answered by 304: remember it, or every run
                        # would ask again
                        **(
                            {"sitemap_lastmod": item.sitemap_lastmod}
                            if item.sitemap_lastmod
                            else {}
                        ),
                    )
                )
                outcomes.append(Outcome("not_modified"))
                continue
            row = _row(item, source_id, run_id)
            original = _first_copy(session, row["text_sha256"], row["canonical_url"])
            row["duplicate_of"] = original
            if original is not None and exact_duplicates == "link":
                row.update(text="", blocks=[], raw_html_gz=b"", minhash=None)
            before = existing.get(row["canonical_url"])
            changed_text = before is None or before[1] != row["text_sha256"]
            if before is not None and changed_text:
                keep_old_version(session, before[0], before[2])
            upsert = _upsert(session.get_bind().dialect.name, tuple(row))
            article_id, version = session.execute(upsert, row).one()
            if item.score is not None:
                _replace_claims(session, article_id, item.score)
            if changed_text:
                add_version(session, article_id, version, row, item)
            ref = warc[index] if warc is not None else None
            if ref is not None:
                add_warc_record(session, article_id, version, item, ref)
            kind = "inserted" if before is None else "updated" if changed_text else "unchanged"
            outcomes.append(Outcome(kind, original))
            existing[row["canonical_url"]] = (article_id, row["text_sha256"], version)
    return outcomes


def run_ids(session: Session, run_group: str) -> dict[str, tuple[int | None, int | None]]:
    """Source name -> (source id, crawl run id) for one crawl process."""
    rows = session.execute(
        select(Source.name, Source.id, CrawlRun.id)
        .join(CrawlRun, CrawlRun.source_id == Source.id)
        .where(CrawlRun.run_group == run_group)
    )
    return {name: (source_id, run_id) for name, source_id, run_id in rows}


def _reason(exc: BaseException) -> str:
    """A one-line reason for a failed write: the driver's message without SQL or parameters."""
    original = getattr(exc, "orig", None) or exc
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first}"[:200]


class StorePipeline:
    """Buffers items and writes them in batches on a single writer thread."""

    def __init__(
        self,
        stats: StatsCollector,
        db_url: str,
        batch_size: int,
        exact_duplicates: str = "store",
        attempts: int = STORE_ATTEMPTS,
        backoff_s: float = STORE_BACKOFF_S,
        warc: WarcArchive | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if backoff_s < 0:
            raise ValueError("backoff_s must be >= 0")
        self.stats = stats
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.exact_duplicates = exact_duplicates
        self.sessions = sessions_for(db_url)
        self.batch_size = batch_size
        self.buffer: list[PageItem] = []
        self.buffer_since = 0.0
        self.max_wait_s = MAX_BUFFER_SECONDS
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.ids: dict[str, dict[str, tuple[int | None, int | None]]] = {}
        self.warc = warc

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        from scrapy.exceptions import NotConfigured

        settings = crawler.settings
        db_url = settings.get("CLAIMWATCH_DB_URL")
        if not db_url:
            raise NotConfigured("CLAIMWATCH_DB_URL is not set: nothing is stored")
        warc_dir = settings.get("CLAIMWATCH_WARC_DIR")
        warc = (
            WarcArchive(
                Path(warc_dir), settings.getint("CLAIMWATCH_WARC_MAX_BYTES", DEFAULT_MAX_BYTES)
            )
            if warc_dir
            else None
        )
        return cls(
            crawler.stats,
            db_url,
            int(required(settings, "CLAIMWATCH_BATCH_SIZE")),
            str(required(settings, "CLAIMWATCH_EXACT_DUPLICATES")),
            settings.getint("CLAIMWATCH_STORE_ATTEMPTS", STORE_ATTEMPTS),
            settings.getfloat("CLAIMWATCH_STORE_BACKOFF_S", STORE_BACKOFF_S),
            warc,
        )

    def _write_once(
        self, batch: list[PageItem], refs: list[WarcRef | None] | None
    ) -> list[Outcome]:
        group = batch[0].run_group  # one spider, one run group
        if group not in self.ids:
            with self.sessions() as session:
                self.ids[group] = run_ids(session, group)
        with self.sessions() as session:
            return store_batch(session, batch, self.ids[group], self.exact_duplicates, refs)

    def _archive(self, batch: list[PageItem]) -> list[WarcRef | None] | None:
        if self.warc is None:
            return None
        try:
            refs = self.warc.write_all(batch)
        except (OSError, ValueError) as exc:
            logger.warning("could not write %d pages to WARC: %s", len(batch), exc)
            self.stats.inc_value("warc/error")
            self.warc.close()  # the next batch starts a new file
            return None
        self.stats.inc_value("warc/records", sum(1 for ref in refs if ref is not None))
        return refs

    def _write(self, batch: list[PageItem]) -> list[Outcome]:
        """On the writer thread: the batch archived, then stored, tried ``attempts`` times with a
        doubling wait."""
        refs = self._archive(batch)
        delay = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            try:
                return self._write_once(batch, refs)
            except (SQLAlchemyError, OSError) as exc:
                if attempt == self.attempts:
                    raise
                logger.warning(
                    "storing a batch of %d items failed (try %d of %d), again in %.1f s: %s",
                    len(batch),
                    attempt,
                    self.attempts,
                    delay,
                    _reason(exc),
                )
                self.stats.inc_value("store/retried")
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def _flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        loop = asyncio.get_running_loop()
        try:
            outcomes = await loop.run_in_executor(self.writer, self._write, batch)
        except Exception as exc:
            logger.exception(
                "could not store a batch of %d items after %d tries", len(batch), self.attempts
            )
            reason = _reason(exc)
            self.stats.inc_value("store/error", len(batch))
            for item in batch:
                self.stats.inc_value(f"source/{item.source}/store/error")
                self.stats.set_value(f"source/{item.source}/store/failure", reason)
            return
        for item, outcome in zip(batch, outcomes, strict=True):
            self.stats.inc_value(f"store/{outcome.kind}")
            self.stats.inc_value(f"source/{item.source}/store/{outcome.kind}")
            if outcome.kind != "not_modified":
                self.stats.inc_value(f"source/{item.source}/items")
            if outcome.duplicate_of is not None and outcome.kind == "inserted":
                self.stats.inc_value("dedup/exact_repost")
                self.stats.inc_value(f"source/{item.source}/dedup/exact_repost")

    async def process_item(self, item: PageItem, spider: Any = None) -> PageItem:
        if not self.buffer:
            self.buffer_since = time.monotonic()
        self.buffer.append(item)
        if (
            len(self.buffer) >= self.batch_size
            or time.monotonic() - self.buffer_since >= self.max_wait_s
        ):
            await self._flush()
        return item

    async def close_spider(self, spider: Any = None) -> None:
        await self._flush()
        if self.warc is not None:
            self.writer.submit(self.warc.close)
        self.writer.shutdown(wait=True)
