"""The stored raw HTML (``articles.raw_html_gz``): compressed with zstd, read by its magic bytes.

Rows written before zstd hold gzip, and a few (tests, hand edits) plain bytes; :func:`decompress_html`
reads all three, told apart by their first bytes, so no stored row needs rewriting. zstd level 3
stores about what gzip level 6 did and takes about a sixth of its CPU (``bench/cpu_per_page.py``).
"""

from __future__ import annotations

import gzip
import sys
import zlib

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZSTD_LEVEL = 3


def compress_html(body: bytes) -> bytes:
    """The raw HTML as stored: a zstd frame."""
    return zstd.compress(body, level=ZSTD_LEVEL)


def decompress_html(stored: bytes) -> bytes:
    """The raw HTML from a stored value: zstd or gzip by magic bytes, else the bytes as they are.

    Raises ``ValueError`` when a value that starts like zstd or gzip does not decompress.
    """
    try:
        if stored.startswith(ZSTD_MAGIC):
            return zstd.decompress(stored)
        if stored.startswith(GZIP_MAGIC):
            return gzip.decompress(stored)
    except (OSError, EOFError, zlib.error, zstd.ZstdError) as exc:
        raise ValueError(f"stored HTML does not decompress: {exc}") from exc
    return stored
