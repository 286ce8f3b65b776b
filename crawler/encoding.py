"""How a page's bytes become text when the page does not say its encoding.

Scrapy decodes a page by its ``Content-Type`` charset, then its ``<meta charset>``, then (neither
given, not UTF-8) by a statistical guess, which reads Western pages in windows-1252 as windows-1250
("crème" as "crčme"). For an undeclared page that is not UTF-8, :func:`page_text` uses windows-1252
instead, the fallback the HTML standard gives browsers in Western locales.
"""

from __future__ import annotations

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

FALLBACK = "cp1252"


def page_text(body: bytes, content_type: str, decoded: str, encoding: str) -> tuple[str, str]:
    """The page's text and encoding: Scrapy's (``decoded``, ``encoding``) when the page declares
    an encoding or is UTF-8 (or plain ASCII), else the bytes read as windows-1252."""
    if http_content_type_encoding(content_type) or html_body_declared_encoding(body):
        return decoded, encoding
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode(FALLBACK, errors="replace"), FALLBACK
    return decoded, encoding
