"""Tokenisation shared by the dedup levels: lower-cased word tokens, deterministic hashes."""

from __future__ import annotations

import re
import zlib

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"\w+(?:['’]\w+)?")
MAX_TOKENS = 200_000  # a 5 MB text is cut here: enough to sign, bounded in time and memory

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just may me might more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would
    you your yours yourself yourselves""".split()
)


def tokens(text: str) -> list[str]:
    folded = text.casefold()
    if "’" in folded:
        folded = folded.replace("’", "'")
    words: list[str] = _WORD.findall(folded)
    return words[:MAX_TOKENS]


def token_ids(words: list[str]) -> npt.NDArray[np.uint64]:
    """Stable 32-bit ids (CRC-32), independent of PYTHONHASHSEED."""
    return np.fromiter(map(zlib.crc32, map(str.encode, words)), dtype=np.uint64, count=len(words))
