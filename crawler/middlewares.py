"""Downloader middleware that keeps the crawler on the public internet.

Every request (start URLs, links, redirects, robots.txt) passes through :class:`AddressGuard` before
the robots.txt middleware and the downloader. It refuses non-HTTP schemes and any host that is or
resolves to a private, loopback, link-local, multicast, reserved or unspecified address, unless the
address is inside ``crawl.allow_addresses`` (the demo and the tests allow ``127.0.0.1``).

Stats: ``guard/refused/<reason>``.
Settings read: ``CLAIMWATCH_ALLOW_ADDRESSES`` (a list of networks; absent: none). The guard is never
switched off.

Known limit: the check resolves the name itself; a DNS server that answers differently a moment later
(rebinding) is not caught here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedRequest(IgnoreRequest):
    """A request the guard refused; ``reason`` is the stats key suffix."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"refused ({reason}): {detail}")
        self.reason = reason


def address_problem(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why ``address`` may not be crawled, or ``None`` when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed):
        return None
    for reason, flag in (
        ("loopback_address", address.is_loopback),
        ("link_local_address", address.is_link_local),
        ("private_address", address.is_private),
        ("multicast_address", address.is_multicast),
        ("reserved_address", address.is_reserved or address.is_unspecified),
    ):
        if flag:
            return reason
    if not address.is_global:
        return "private_address"
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


class AddressGuard:
    def __init__(self, stats: StatsCollector, allowed: Iterable[str] = ()) -> None:
        self.stats = stats
        self.allowed = [ipaddress.ip_network(a, strict=False) for a in allowed]
        self._cache: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuard:
        return cls(crawler.stats, crawler.settings.getlist("CLAIMWATCH_ALLOW_ADDRESSES"))

    def _refuse(self, reason: str, detail: str) -> RefusedRequest:
        self.stats.inc_value(f"guard/refused/{reason}")
        return RefusedRequest(reason, detail)

    async def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise self._refuse("scheme", f"{parts.scheme!r} URLs are not crawled: {url}")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise self._refuse("no_host", url)
        if host not in self._cache:
            try:
                addresses = [ipaddress.ip_address(host)]
            except ValueError:
                try:
                    port = parts.port or (443 if parts.scheme == "https" else 80)
                    loop = asyncio.get_running_loop()
                    addresses = await loop.run_in_executor(None, _resolve, host, port)
                except (OSError, ValueError):
                    addresses = []  # let the downloader report the DNS failure itself
            problems = [p for p in (address_problem(a, self.allowed) for a in addresses) if p]
            self._cache[host] = problems[0] if problems else None
        problem = self._cache[host]
        if problem:
            raise self._refuse(problem, f"{host} is a non-public address: {url}")

    async def process_request(self, request: Request, spider: Any = None) -> None:
        await self.check(request.url)
        return None
