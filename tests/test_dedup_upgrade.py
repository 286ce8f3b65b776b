"""Stored signatures in the format before issue 11 (64 32-bit values, no format byte): after the
upgrade they are never read as new ones; each is signed again from the article's stored text and
written back, once, and the old articles' near-duplicates are still found. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine, create_engine, select, update

from core.db import session_factory
from core.document import from_text
from core.models import Article
from pipeline.dedup.engine import NUM_PERM, SHINGLE, Deduper
from pipeline.dedup.minhash import FORMAT, MinHasher, from_bytes, to_bytes
from pipeline.dedup.pipeline import IndexRefresher, load_stored, resolver
from pipeline.dedup.resign import resign
from pipeline.store import store_batch
from tests.dedup_texts import ELDERBERRY_TEXT, MEDICAL_TEXT, NEWS_TEXT
from tests.test_store import ids, page

__all__ = ["ids"]  # the fixture, shared with test_store
Ids = dict[str, tuple[int | None, int | None]]


def old_blob(seed: int) -> bytes:
    """A signature as stored before: 64 little-endian 32-bit values, 256 bytes."""
    values = np.random.default_rng(seed).integers(0, 2**32, size=64, dtype=np.uint32)
    values[0] = FORMAT  # it may even start with the new format byte
    return values.astype("<u4").tobytes()


def spun(text: str, every: int = 4) -> str:
    """Every ``every``-th word replaced by one the text does not use (25% of the words)."""
    words = text.split()
    return " ".join(f"qz{n}" if n % every == every - 1 else w for n, w in enumerate(words))


def store_old(engine: Engine, ids: Ids, texts: dict[str, str]) -> dict[str, int]:
    """Store the articles, then put their signatures back in the old format."""
    now = datetime.now(UTC)
    writer = Deduper({})
    items = []
    for slug, text in texts.items():
        item = page(slug, text, when=now)
        assert item.document is not None
        item.dedup = writer.analyze(item.document)
        items.append(item)
    with session_factory(engine)() as session:
        store_batch(session, items, ids)
    with engine.begin() as conn:
        rows = dict(conn.execute(select(Article.canonical_url, Article.id)).all())
        for n, row_id in enumerate(rows.values()):
            conn.execute(update(Article).where(Article.id == row_id).values(minhash=old_blob(n)))
    return {url.rsplit("/", 1)[-1]: row_id for url, row_id in rows.items()}


def blobs(engine: Engine) -> dict[int, bytes | None]:
    with engine.connect() as conn:
        return {i: b for i, b in conn.execute(select(Article.id, Article.minhash)).all()}


def test_old_signatures_are_signed_again_and_still_find_their_copies(
    engine: Engine, ids: Ids
) -> None:
    texts = {"cycle-lanes": NEWS_TEXT, "anaemia": MEDICAL_TEXT}
    by_slug = store_old(engine, ids, texts)
    deduper = Deduper({})
    assert load_stored(deduper, engine) == (2, 2)  # both indexed, both signed again
    # Written back in the new format, the signature of the stored text.
    hasher = MinHasher(NUM_PERM, SHINGLE)  # what the workers sign with (pipeline/page_work.py)
    stored = blobs(engine)
    for slug, text in texts.items():
        blob = stored[by_slug[slug]]
        assert blob is not None and blob[0] == FORMAT and len(blob) == 1 + 2 * NUM_PERM
        assert blob == to_bytes(hasher.sign(from_text(text).text))
    # A spun copy of an old article is found, with the article's URL.
    copy = from_text(spun(NEWS_TEXT), url="https://copy.example/harbour-lanes")
    near = deduper.analyze(copy, resolve=resolver(engine)).near
    assert (near.kind, near.of) == ("article", "https://news.example.org/cycle-lanes")
    assert 0.3 < near.similarity < 1.0
    # An unrelated text matches nothing: no old 32-bit values were read as 16-bit ones.
    other = deduper.analyze(from_text(ELDERBERRY_TEXT), resolve=resolver(engine)).near
    assert other.of is None
    # The next start has nothing to re-sign and finds the same.
    again = Deduper({})
    assert load_stored(again, engine) == (2, 0)
    assert blobs(engine) == stored
    assert again.analyze(copy, resolve=resolver(engine)).near.of == near.of


def test_a_row_stored_again_meanwhile_keeps_its_new_signature(engine: Engine, ids: Ids) -> None:
    by_slug = store_old(engine, ids, {"cycle-lanes": NEWS_TEXT})
    row_id = by_slug["cycle-lanes"]
    # Another process re-stores the article (new text, new signature) between the read of the
    # old blob and the write-back: the write-back only replaces the blob it read.
    newer = to_bytes(MinHasher().sign(MEDICAL_TEXT))
    old = blobs(engine)[row_id]
    assert old is not None
    with engine.begin() as conn:
        conn.execute(update(Article).where(Article.id == row_id).values(minhash=newer))
    resign(engine, MinHasher(), [(row_id, old)])
    assert blobs(engine)[row_id] == newer


def test_the_refresh_signs_again_what_an_old_process_stored(engine: Engine, ids: Ids) -> None:
    mine = Deduper({})
    refresher = IndexRefresher(mine, engine, every_s=0)
    assert load_stored(mine, engine) == (0, 0)
    by_slug = store_old(engine, ids, {"cycle-lanes": NEWS_TEXT})  # a process on the old version
    assert refresher.maybe_refresh() == 1
    blob = blobs(engine)[by_slug["cycle-lanes"]]
    assert blob is not None and from_bytes(blob) is not None
    copy = from_text(spun(NEWS_TEXT), url="https://copy.example/harbour-lanes")
    near = mine.analyze(copy, resolve=resolver(engine)).near
    assert near.of == "https://news.example.org/cycle-lanes"


def read_only(engine: Engine) -> Engine:
    """The same database opened read-only (SQLite ``mode=ro``; a PostgreSQL session whose
    transactions are read-only)."""
    if engine.dialect.name == "sqlite":
        return create_engine(f"sqlite:///file:{engine.url.database}?mode=ro&uri=true")
    return create_engine(
        engine.url, connect_args={"options": "-c default_transaction_read_only=on"}
    )


def test_a_read_only_database_is_compared_all_the_same(engine: Engine, ids: Ids) -> None:
    store_old(engine, ids, {"cycle-lanes": NEWS_TEXT})
    before = blobs(engine)
    reader = read_only(engine)
    try:
        deduper = Deduper({})
        assert load_stored(deduper, reader) == (1, 1)  # signed again, not written back
        copy = from_text(spun(NEWS_TEXT), url="https://copy.example/harbour-lanes")
        near = deduper.analyze(copy, resolve=resolver(reader)).near
        assert near.of == "https://news.example.org/cycle-lanes"
    finally:
        reader.dispose()
    assert blobs(engine) == before
