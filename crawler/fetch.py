"""Fetch a single URL for ``claimwatch analyze``, with the crawler's safety limits: http(s) only,
no private addresses (unless allowed), redirects checked hop by hop, a size cap and a timeout."""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from core.config import Crawl
from crawler.middlewares import address_problem


class FetchError(Exception):
    pass


def check_url(url: str, allowed: list[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not an http(s) URL: {url}")
    networks = [ipaddress.ip_network(a, strict=False) for a in allowed]
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchError(f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        problem = address_problem(ipaddress.ip_address(str(info[4][0]).split("%")[0]), networks)
        if problem:
            raise FetchError(f"refused ({problem}): {parts.hostname}")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allowed: list[str]) -> None:
        self.allowed = allowed

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        check_url(newurl, self.allowed)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_url(url: str, crawl: Crawl) -> tuple[bytes, bool]:
    """Return (body, is_html)."""
    check_url(url, crawl.allow_addresses)
    opener = urllib.request.build_opener(_CheckedRedirects(crawl.allow_addresses))
    request = urllib.request.Request(url, headers={"User-Agent": crawl.full_user_agent})
    try:
        with opener.open(request, timeout=crawl.download_timeout) as response:
            body = response.read(crawl.max_page_bytes + 1)
            content_type = response.headers.get("Content-Type", "")
    except OSError as exc:
        raise FetchError(str(exc)) from None
    if len(body) > crawl.max_page_bytes:
        raise FetchError(f"larger than {crawl.max_page_bytes} bytes")
    is_html = "html" in content_type.lower() or not content_type
    return body, is_html
