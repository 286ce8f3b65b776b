"""Labelled claim units: the training and evaluation format, and how units become documents.

A *unit file* is JSON Lines, one unit (sentence, heading, list item or fragment) of an article a
line, in the shape a team's own review decisions will later be exported in::

    {"article_id": "A17", "sentence_index": 3, "sentence": "It eases joint pain.",
     "unit_type": "sentence", "risky": true, "categories": ["disease_treatment"]}

Required: ``article_id`` (string), ``sentence_index`` (int, the order in the article),
``sentence`` (string), ``risky`` (bool). Optional: ``unit_type`` (``sentence``, ``fragment``,
``heading`` or ``list_item``; default ``sentence``), ``categories`` (list of category names),
``mentions`` (list: claims the unit reports, negates or warns against), ``batch`` and
``article_kind`` (strings used to break figures down; ``article_kind`` also teaches the page-voice
head and the declared page kind, :mod:`pipeline.page_kind`). Other keys are kept and ignored.

:func:`rebuild` turns one article's units into a :class:`~core.document.Document`, so the
scorer segments and reads them in article context exactly as it reads a crawled page: a heading
unit is a heading block, a list item a list-item block, each run of sentences and fragments one
paragraph. :func:`align` maps the scorer's sentences back onto the labelled units.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.document import Block, BlockKind, Document

UNIT_TYPES = ("sentence", "fragment", "heading", "list_item")
CATEGORY_ALIASES = {
    "drug_interaction_or_combination": "drug_interaction",
    "other": "regulatory_status",
}
COVER = 0.5  # share of a unit's characters a scorer sentence must cover to speak for the unit
_BULLET = re.compile(r"^\s*(?:[-–—•*▪‣]|\d{1,2}[.)])\s*")


class UnitFileError(ValueError):
    """A unit file that cannot be read; the message names the file, the line and the key."""


@dataclass(frozen=True, slots=True)
class LabelledUnit:
    article_id: str
    index: int
    text: str
    unit_type: str
    risky: bool
    categories: frozenset[str]
    mentions: bool
    batch: str
    article_kind: str


@dataclass(slots=True)
class Span:
    """A labelled unit's characters in the rebuilt document's text."""

    unit: LabelledUnit
    start: int
    end: int


def _unit(data: Any, where: str) -> LabelledUnit:
    if not isinstance(data, dict):
        raise UnitFileError(f"{where}: a unit must be a JSON object")

    def need(key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in data:
            raise UnitFileError(f"{where}: missing key {key!r}")
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise UnitFileError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
        return value

    article = need("article_id", (str, int))
    index = need("sentence_index", int)
    text = need("sentence", str)
    risky = need("risky", bool)
    unit_type = data.get("unit_type") or "sentence"
    if unit_type not in UNIT_TYPES:
        raise UnitFileError(f"{where}: 'unit_type' must be one of {', '.join(UNIT_TYPES)}")
    categories = data.get("categories") or []
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise UnitFileError(f"{where}: 'categories' must be a list of strings")
    return LabelledUnit(
        article_id=str(article),
        index=index,
        text=" ".join(text.split()),
        unit_type=unit_type,
        risky=risky,
        categories=frozenset(CATEGORY_ALIASES.get(str(c), str(c)) for c in categories),
        mentions=bool(data.get("mentions")),
        batch=str(data.get("batch") or "first"),
        article_kind=str(data.get("article_kind") or "unknown"),
    )


def parse_units(lines: Iterable[str], source: str) -> list[LabelledUnit]:
    units: list[LabelledUnit] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnitFileError(f"{source}:{number}: not valid JSON: {exc.msg}") from None
        units.append(_unit(data, f"{source}:{number}"))
    if not units:
        raise UnitFileError(f"{source}: no units")
    return units


def read_units(path: Path) -> list[LabelledUnit]:
    try:
        with path.open(encoding="utf-8") as handle:
            return parse_units(handle, str(path))
    except OSError as exc:
        raise UnitFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UnitFileError(f"{path}: not UTF-8 text") from None


def by_article(units: Iterable[LabelledUnit]) -> dict[str, list[LabelledUnit]]:
    grouped: dict[str, list[LabelledUnit]] = defaultdict(list)
    for unit in units:
        grouped[unit.article_id].append(unit)
    for rows in grouped.values():
        rows.sort(key=lambda unit: unit.index)
    return dict(grouped)


def rebuild(units: Sequence[LabelledUnit]) -> tuple[Document, list[Span]]:
    """One article's units, in order, as a document, and each unit's span in ``Document.text``."""
    blocks: list[Block] = []
    spans: list[Span] = []
    offset = 0
    paragraph: list[tuple[LabelledUnit, str]] = []

    def add(kind: BlockKind, parts: list[tuple[LabelledUnit, str]]) -> None:
        nonlocal offset
        position = offset
        for number, (unit, text) in enumerate(parts):
            if number:
                position += 1
            spans.append(Span(unit, position, position + len(text)))
            position += len(text)
        text = " ".join(part for _, part in parts)
        blocks.append(Block(kind, text))
        offset += len(text) + 1

    for unit in units:
        text = unit.text
        if unit.unit_type in ("heading", "list_item"):
            if paragraph:
                add("paragraph", paragraph)
                paragraph = []
            if unit.unit_type == "list_item":
                text = _BULLET.sub("", text) or text
            add(unit.unit_type, [(unit, text)])  # type: ignore[arg-type]
        else:
            paragraph.append((unit, text))
    if paragraph:
        add("paragraph", paragraph)
    return Document(blocks=tuple(blocks)), spans


def covers(span: Span, start: int, end: int) -> bool:
    """Whether ``[start, end)`` covers at least :data:`COVER` of the unit's characters."""
    length = max(1, span.end - span.start)
    return min(span.end, end) - max(span.start, start) >= COVER * length


def align(spans: Sequence[Span], sentences: Sequence[tuple[int, int]]) -> list[list[int]]:
    """For each scorer sentence ``(start, end)``, the indexes of the labelled units it speaks for."""
    out: list[list[int]] = [[] for _ in sentences]
    for index, span in enumerate(spans):
        for number, (start, end) in enumerate(sentences):
            if end <= span.start:
                continue
            if start >= span.end:
                break
            if covers(span, start, end):
                out[number].append(index)
    return out
