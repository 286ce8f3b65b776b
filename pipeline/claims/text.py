"""Text primitives for claim scoring: sentence segmentation and tokenisation.

Both are single left-to-right regular-expression passes, so their cost is linear in the text, with
no backtracking on hostile input (a 5 MB line, repeated tokens, control characters, mixed scripts).

Segmentation splits a block at sentence-final punctuation followed by space and a capital, digit or
opening quote; at a full stop glued to the next sentence (``products.You``, a common scraping
artefact); at line breaks and inline bullets. It keeps abbreviations (``Dr.``, ``U.S.``, ``e.g.``)
and initials together. A sentence longer than :data:`MAX_SENTENCE_CHARS` is cut at a clause mark or a
space near the limit, so one runaway "sentence" never becomes one huge claim.

Tokens are the lower-cased runs of letters, or of digits, of any script, plus the punctuation the
matcher reads (``, ; : ? ! % "``, curly quotes). Apostrophes and hyphens separate tokens, so
``lion's mane`` is ``lion s mane`` and ``delta-8`` is ``delta 0``: every run of digits becomes the
single token ``0`` (``5No`` is ``0 no``, ``A1c`` is ``a 0 c``) (lexicon phrases get the same treatment, so ``delta-8`` still matches ``delta 8``,
and ``@number`` is just the token ``0``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_SENTENCE_CHARS = 600
MIN_CUT_CHARS = 200

# ASCII words first (the common case, cheaper to match), then words of any script; digit runs are
# already one "0". The possessive ASCII branch backs off for words such as "café".
_TOKEN = re.compile(r"[a-z]++(?![^\W\d_])|[^\W\d_]+|[\d,;:?!%\"“”]")
_HAS_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
# Candidate boundaries are found by one scan for the few characters that can end a sentence; the
# pattern opens with a single character class (so the regex engine skips all other text in C) and
# swallows the rest of a punctuation run and the white space after it, so a run of dots or of
# blank lines is one candidate and hostile input stays linear. Each candidate is checked in Python.
_ENDERS = ".!?…:•▪‣"
_CANDIDATE = re.compile(r"[.!?…:•▪‣\n\r\u2028\u2029][.!?…:•▪‣]*+\s*+")
_AFTER_END = re.compile(r"[\"'”’)\]]*+\s++(?=[\"'“‘(\[]?[A-Z0-9\u00c0-\u024f])")
_LINE_BREAKS = frozenset("\n\r\u2028\u2029")
_ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof st vs etc e.g i.e u.s u.k inc ltd co fig approx jr sr dept mt ft al "
    "gen sen rep gov jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_CUT = re.compile(r"[;:,]\s|\s")


class Span(NamedTuple):
    """A sentence as offsets into the text it was cut from (``text[start:end]``)."""

    start: int
    end: int


def tokens(text: str) -> list[str]:
    """The matcher's tokens of ``text`` (see the module docstring)."""
    text = text.lower()
    if _HAS_DIGIT.search(text):
        text = _DIGITS.sub("0", text)
    return _TOKEN.findall(text)


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the full stop at ``dot`` ends an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    start = dot
    floor = max(0, dot - 12)
    while start > floor and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].lower()
    if not word or (start > 0 and text[start - 1].isalnum()):  # "A1c." is a word, not an initial
        return False
    if word in _ABBREVIATIONS:
        return True
    return len(word) == 1 or (len(word) <= 5 and "." in word)  # "B." "U.S" "B.D"


def _trim(text: str, start: int, end: int) -> Span | None:
    if start < end and not text[start].isspace() and not text[end - 1].isspace():
        return Span(start, end)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def _cut_long(text: str, span: Span) -> list[Span]:
    """Cut a runaway sentence into pieces of at most MAX_SENTENCE_CHARS, at clause marks if any."""
    pieces: list[Span] = []
    start = span.start
    while span.end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = -1
        for match in _CUT.finditer(text, start + MIN_CUT_CHARS, limit):
            cut = match.end()
        if cut <= start:
            cut = limit
        piece = _trim(text, start, cut)
        if piece:
            pieces.append(piece)
        start = cut
    piece = _trim(text, start, span.end)
    if piece:
        pieces.append(piece)
    return pieces


def _cuts(text: str, colons: bool) -> list[tuple[int, int]]:
    """(end of this sentence, start of the next) for every boundary in ``text``."""
    cuts: list[tuple[int, int]] = []
    for match in _CANDIDATE.finditer(text):
        start, end = match.span()
        run_end = start
        while run_end < end and text[run_end] in _ENDERS:
            run_end += 1
        space = text[run_end:end]
        if not _LINE_BREAKS.isdisjoint(space) or text[start] in _LINE_BREAKS:
            cuts.append((run_end, end))  # a line break (after any punctuation) ends a sentence
            continue
        run = text[start:run_end]
        following = text[end : end + 1]
        if any(char in ".!?…" for char in run):
            single_dot = run == "." or run.endswith(":")
            if space:  # the common case, decided without a regex
                if following.islower():  # "e.g. the", "approx. five": not a boundary
                    continue
                if following.isupper() or following.isdigit():
                    if not (single_dot and run == "." and _is_abbreviation(text, start)):
                        cuts.append((run_end, end))
                    continue
            after = _AFTER_END.match(text, run_end)
            if after:
                if single_dot and _is_abbreviation(text, start):
                    continue
                close = run_end
                while close < after.end() and text[close] in "\"'”’)]":
                    close += 1
                cuts.append((close, after.end()))
            elif (  # "products.You": a full stop glued to the next sentence
                run in ".!?"
                and not space
                and text[start - 2 : start].isalpha()
                and text[start - 2 : start].islower()
                and following.isupper()
                and text[end + 1 : end + 2].islower()
            ):
                cuts.append((end, end))
        elif run == ":" and colons and space and text[start - 2 : start].isalpha():
            capital = following.isupper() or (
                following in '"“' and text[end + 1 : end + 2].isupper()
            )
            if capital:
                cuts.append((run_end, end))
        elif run in "•▪‣" and space and text[start - 1 : start].isspace():
            cuts.append((start, end))
    return cuts


def sentences(text: str, *, colons: bool = False) -> list[Span]:
    """The sentences of one block, as trimmed spans into ``text``.

    With ``colons`` (for paragraphs), a colon followed by a capitalised word also ends a sentence:
    run-on web text often packs a list lead-in and its first item into one line.
    """
    spans: list[Span] = []
    start = 0
    for end, following in _cuts(text, colons):
        if end < start:
            continue
        span = _trim(text, start, end)
        if span:
            spans.append(span)
        start = following
    span = _trim(text, start, len(text))
    if span:
        spans.append(span)
    out: list[Span] = []
    for span in spans:
        if span.end - span.start > MAX_SENTENCE_CHARS:
            out.extend(_cut_long(text, span))
        else:
            out.append(span)
    return out
