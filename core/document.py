"""The document model every stage shares: an article as an ordered list of typed blocks.

HTML (through :mod:`pipeline.extract`) and plain text (through :func:`from_text`) both end up here,
so a seed file and a crawled page are compared on the same terms.

Plain-text format: one block per line; ``- `` (or ``* ``, ``• ``) starts a list item; a line wrapped
in quotation marks or starting with ``> `` is a quote; a short line without final punctuation is a
heading; everything else is a paragraph.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["heading", "paragraph", "list_item", "quote"]
BLOCK_KINDS: tuple[BlockKind, ...] = ("heading", "paragraph", "list_item", "quote")

HEADING_MAX_WORDS = 16
HEADING_MAX_CHARS = 120
_BULLET = re.compile(r"^\s*(?:[-*•▪‣]|\d{1,2}[.)])(?:\s+|$)")
_FINAL_PUNCT = (".", "!", ",", ";", ":", "…", '"', "”", "’", ")")
_QUOTE_PAIRS = {'"': '"', "“": "”", "«": "»", "„": "“"}
_SPACE = re.compile(r"\s+")
_UNIFY_MAP: dict[str, str | int | None] = {
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
}
_UNIFY = str.maketrans(_UNIFY_MAP)


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


@dataclass(frozen=True, slots=True)
class Document:
    """An article: metadata plus the main text as blocks, in reading order."""

    blocks: tuple[Block, ...]
    title: str | None = None
    author: str | None = None
    date: str | None = None
    language: str | None = None
    url: str | None = None
    canonical_url: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The main text, one block per line."""
        return "\n".join(block.text for block in self.blocks)

    @property
    def text_chars(self) -> int:
        return sum(len(block.text) for block in self.blocks)

    @property
    def text_sha256(self) -> str:
        return hashlib.sha256(normalise_text(self.text).encode("utf-8")).hexdigest()

    def blocks_as_dicts(self) -> list[dict[str, str]]:
        return [block.as_dict() for block in self.blocks]


def clean_line(text: str) -> str:
    """Unicode NFC, whitespace collapsed, stripped."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def normalise_text(text: str) -> str:
    """The form hashed for exact-duplicate detection: case-folded, quotes unified, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(_UNIFY)
    return _SPACE.sub(" ", text).strip()


def is_heading_line(line: str) -> bool:
    """A short line without final punctuation reads as a heading (questions count as headings)."""
    if len(line) > HEADING_MAX_CHARS or len(line.split()) > HEADING_MAX_WORDS:
        return False
    return not line.endswith(_FINAL_PUNCT)


def _is_quote(line: str) -> bool:
    if len(line) < 2:
        return False
    closing = _QUOTE_PAIRS.get(line[0])
    return (
        closing is not None and line.endswith((closing, closing + ".")) and line.count(closing) >= 1
    )


def classify_line(line: str) -> Block | None:
    """One plain-text line as a block, or ``None`` for a blank line."""
    line = clean_line(line)
    if not line:
        return None
    bullet = _BULLET.match(line)
    if bullet:
        text = line[bullet.end() :].strip()
        return Block("list_item", text) if text else None
    if line.startswith(">"):
        text = line.lstrip("> ").strip()
        return Block("quote", text) if text else None
    if _is_quote(line) and len(line.split()) > HEADING_MAX_WORDS // 2:
        return Block("quote", line)
    if is_heading_line(line):
        return Block("heading", line)
    return Block("paragraph", line)


QUOTE_MAX_LINES = 10


def _quote_end(lines: list[str], start: int) -> int | None:
    """The index of the line that closes a quotation opened (and not closed) on ``lines[start]``."""
    line = lines[start]
    closing = _QUOTE_PAIRS.get(line[:1])
    if closing is None or closing in line[1:] or len(line.split()) <= HEADING_MAX_WORDS // 2:
        return None
    for end in range(start + 1, min(len(lines), start + QUOTE_MAX_LINES)):
        following = lines[end]
        if _BULLET.match(following) or following[:1] in _QUOTE_PAIRS or is_heading_line(following):
            return None
        if following.endswith((closing, closing + ".")):
            return end
    return None


def from_text(text: str, *, title: str | None = None, url: str | None = None) -> Document:
    """Parse the plain-text format into a document."""
    lines = [line for line in (clean_line(raw) for raw in text.splitlines()) if line]
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        end = _quote_end(lines, index)
        if end is not None:
            blocks += [Block("quote", line) for line in lines[index : end + 1]]
            index = end + 1
            continue
        block = classify_line(lines[index])
        if block is not None:
            blocks.append(block)
        index += 1
    return Document(blocks=tuple(blocks), title=title, url=url, canonical_url=url)
