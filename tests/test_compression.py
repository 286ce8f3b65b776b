"""The stored raw HTML: written as zstd, and every older row (gzip, plain bytes) still readable."""

from __future__ import annotations

import gzip

import pytest

from core.compression import GZIP_MAGIC, ZSTD_MAGIC, compress_html, decompress_html
from reports.archive import _decode

HTML = "<html><body><p>Bürger café — 健康</p></body></html>".encode()


def test_new_rows_are_zstd_and_round_trip() -> None:
    stored = compress_html(HTML * 50)
    assert stored.startswith(ZSTD_MAGIC)
    assert len(stored) < len(HTML * 50)
    assert decompress_html(stored) == HTML * 50


@pytest.mark.parametrize("level", [1, 6, 9])
def test_old_gzip_rows_still_decompress(level: int) -> None:
    old = gzip.compress(HTML, compresslevel=level, mtime=0)
    assert old.startswith(GZIP_MAGIC)
    assert decompress_html(old) == HTML


def test_plain_and_empty_values_pass_through() -> None:
    assert decompress_html(HTML) == HTML
    assert decompress_html(b"") == b""  # housekeeping blanks old evidence


@pytest.mark.parametrize("magic", [ZSTD_MAGIC, GZIP_MAGIC])
def test_truncated_value_is_a_precise_error(magic: bytes) -> None:
    with pytest.raises(ValueError, match="does not decompress"):
        decompress_html(magic + b"\x00\x01 not a frame")


@pytest.mark.parametrize(
    "stored",
    [compress_html(HTML), gzip.compress(HTML, mtime=0), HTML],
    ids=["zstd", "gzip", "plain"],
)
def test_evidence_page_reads_every_format(stored: bytes) -> None:
    assert _decode(stored, "utf-8") == HTML.decode()
