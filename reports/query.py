"""Query helpers shared by the digest's sections: period membership, and fast row reading.

Large reads go through Core (``session.connection().execute``), not the ORM, and JSON columns are
read as stored (``raw``) and decoded only where needed: for 10,000 flagged articles and their claims
that is several times faster than the ORM's per-row processing.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Executable, Text, and_, or_, type_coerce
from sqlalchemy.orm import Session

from core.models import Article
from reports.model import BAND_ORDER
from reports.period import Period


def in_period(period: Period) -> ColumnElement[bool]:
    """First seen in the period, or its text changed in it."""
    return or_(
        and_(Article.first_seen_at >= period.start, Article.first_seen_at < period.end),
        and_(Article.changed_at >= period.start, Article.changed_at < period.end),
    )


def flagged_in(period: Period) -> ColumnElement[bool]:
    """In the period, with a risk band of watch or higher."""
    return and_(in_period(period), Article.risk_band.in_(BAND_ORDER))


def raw(column: Any) -> Any:
    """A JSON column read without the ORM's decoding (see :func:`loads`)."""
    return type_coerce(column, Text)


_DECODER = json.JSONDecoder()


def loads(value: Any) -> Any:
    """Decode a :func:`raw` JSON value: SQLite returns the stored text, psycopg decodes JSON
    itself. The columns read this way hold lists and objects, never bare strings."""
    if isinstance(value, str):
        return _DECODER.raw_decode(value.lstrip())[0]  # json.loads without its regex checks
    if isinstance(value, bytes):
        return json.loads(value)
    return value


@lru_cache(maxsize=4096)
def _cached(text: str) -> Any:
    return _DECODER.raw_decode(text.lstrip())[0]


def loads_shared(value: Any) -> Any:
    """:func:`loads` for small, repetitive values (rule lists, claim details): equal texts are
    decoded once and the result is shared, so callers must not modify it."""
    if isinstance(value, str) and len(value) < 2048:
        return _cached(value)
    return loads(value)


def execute(session: Session, statement: Executable) -> Any:
    """Run a Core statement on the session's connection (same transaction, no ORM loading).
    The result's rows are plain tuples to the type checker (``Any``): the columns vary."""
    return session.connection().execute(statement)
