"""Stored signatures in an older format, signed again from the article's stored text.

A signature is stored with a format byte (:data:`pipeline.dedup.minhash.FORMAT`). A row whose blob
is in another format (the 64 32-bit values stored before issue 11) is never mixed into the index:
its text is signed again with the engine's hasher, the new blob is written back (only if the row
still holds the old one, so an article another process has just re-stored keeps its newer
signature), and the new signature is indexed. The first start after an upgrade does this once for
every article; later starts find nothing to re-sign.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError

from core.models import Article
from pipeline.dedup.minhash import MinHasher, Signature, from_bytes, to_bytes

logger = logging.getLogger(__name__)
BATCH = 500  # stale rows read, signed and written back per transaction


def current(
    rows: Iterable[tuple[int, bytes | None]], stale: list[tuple[int, bytes]]
) -> Iterator[tuple[int, Signature]]:
    """The rows whose blob is in the current format, decoded; the others are appended to
    ``stale`` (id and blob) for :func:`resign`."""
    for row_id, blob in rows:
        if not blob:
            continue
        signature = from_bytes(blob)
        if signature is None:
            stale.append((row_id, blob))
        else:
            yield row_id, signature


def resign(
    engine: Engine, hasher: MinHasher, stale: Sequence[tuple[int, bytes]]
) -> list[tuple[int, Signature]]:
    """Sign the stale rows' stored texts again and write the new blobs back; (id, signature) of
    each row re-signed. A write-back the database refuses (a read-only user) is logged and the
    signatures are still returned: the index is right, the next start signs them again."""
    out: list[tuple[int, Signature]] = []
    for start in range(0, len(stale), BATCH):
        chunk = dict(stale[start : start + BATCH])
        with engine.connect() as conn:
            texts = conn.execute(
                select(Article.id, Article.text).where(Article.id.in_(list(chunk)))
            ).all()
        signed = [(row_id, hasher.sign(text or "")) for row_id, text in texts]
        try:
            with engine.begin() as conn:
                for row_id, signature in signed:
                    conn.execute(
                        update(Article)
                        .where(Article.id == row_id, Article.minhash == chunk[row_id])
                        .values(minhash=to_bytes(signature))
                    )
        except SQLAlchemyError as exc:
            logger.warning("re-signed signatures not stored (signed again next time): %s", exc)
        out += signed
    return out
