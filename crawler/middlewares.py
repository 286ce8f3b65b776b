"""Downloader middleware that keeps the crawler on the public internet.

Every request (start URLs, links, redirects, robots.txt) passes through :class:`AddressGuard` before
the robots.txt middleware and the downloader. It refuses non-HTTP schemes and any host that is or
resolves to a private, loopback, link-local, multicast, reserved or unspecified address, unless the
address is inside ``crawl.allow_addresses`` (the demo and the tests allow ``127.0.0.1``).

Stats: ``guard/refused/<reason>``.
Settings read: ``CLAIMWATCH_ALLOW_ADDRESSES`` (a list of networks; absent: none). The guard is never
switched off.

This check resolves the name itself, which refuses most requests early and with a clear reason.
The address actually connected to is checked again at the resolver the downloader uses
(:class:`crawler.resolver.GuardedResolver`, Scrapy's ``TWISTED_DNS_RESOLVER``), so a DNS server that
answers a public address here and a private one a moment later (rebinding) gets no connection; the
request then fails here as ``guard/refused/<reason>`` too (:meth:`AddressGuard.process_exception`).

An IPv6 address that carries an IPv4 address (IPv4-mapped ``::ffff:0:0/96``, IPv4-compatible
``::/96``, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``, Teredo ``2001::/32``) is checked as that
IPv4 address too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping
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


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: mapped, compatible, 6to4, NAT64, Teredo."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)  # the server and the (de-obfuscated) client
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def address_problem(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why ``address`` may not be crawled, or ``None`` when it may."""
    allowed = list(allowed)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_problem(address.ipv4_mapped, allowed)
        if not any(address in network for network in allowed):
            for inner in embedded_ipv4(address):  # allowed only when listed as IPv6 itself
                problem = address_problem(inner)
                if problem:
                    return problem
            if address in NAT64:
                return None  # a public IPv4 address through the NAT64 gateway
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

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        """A connection the resolver refused (its answer had no allowed address) is a refusal."""
        import scrapy.exceptions
        from twisted.internet.error import DNSLookupError

        lookup_errors: tuple[type[Exception], ...] = (DNSLookupError,)
        wrapped = getattr(scrapy.exceptions, "CannotResolveHostError", None)  # Scrapy >= 2.14
        if isinstance(wrapped, type) and issubclass(wrapped, Exception):
            lookup_errors += (wrapped,)
        if not isinstance(exception, lookup_errors):
            return None
        host = (urlsplit(request.url).hostname or "").rstrip(".")
        reason = refusals().get(host)
        if reason:
            raise self._refuse(reason, f"{host} answered a non-public address: {request.url}")
        return None


def refusals() -> Mapping[str, str]:
    """Host -> reason, from the resolver installed on the reactor (empty without one)."""
    from twisted.internet import reactor

    found = getattr(getattr(reactor, "nameResolver", None), "refused", None)
    return found if isinstance(found, Mapping) else {}
