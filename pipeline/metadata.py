"""A page's metadata (title, author, date, canonical URL, site name, description) for extraction.

This is trafilatura's ``extract_metadata`` less what claimwatch never reads (categories, tags,
licence, host name), and without htmldate's date search when the sitemap or feed already gave the
page a date (:func:`pipeline.dates.listed_date`). Measured on the 181 AEB pages
(``bench/cpu_per_page.py``): categories and tags were about 4 % of the extraction CPU and the date search about 9 %. The
sitemap or feed date is the date the listing gives (for a sitemap, its ``lastmod``), which may be
later than the first publication that htmldate would have looked for.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document as TrafilaturaDocument

logger = logging.getLogger(__name__)


def date_params(extensive: bool) -> dict[str, Any]:
    """htmldate's parameters as trafilatura sets them (the original date, none in the future)."""
    return {
        "original_date": True,
        "extensive_search": extensive,
        "max_date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def page_metadata(
    tree: HtmlElement, url: str, *, listed: str | None = None, extensive_dates: bool = True
) -> TrafilaturaDocument:
    """The metadata of a parsed page, in trafilatura's order of sources (meta tags, JSON-LD, markup).

    ``listed`` is the date the sitemap or feed gave (``YYYY-MM-DD``): the date of a page whose own
    markup and text give none.
    """
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception as err:  # trafilatura's JSON-LD code has bugs of its own
        logger.debug("error in JSON metadata extraction for %s: %r", url, err)
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    # The page's own date first: a sitemap's lastmod is when the page last changed, which can be
    # long after it was published; the listing's date only fills a page that gives none.
    metadata.date = find_date(tree, url=metadata.url, **date_params(extensive_dates)) or listed
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if (
            metadata.sitename
            and "." not in metadata.sitename
            and not metadata.sitename[0].isupper()
        ):
            metadata.sitename = metadata.sitename.title()
    elif metadata.url:
        match = META_URL.match(metadata.url)
        if match:
            metadata.sitename = match[1]
    metadata.clean_and_trim()
    return metadata
