"""The resolver the downloader connects through: it hands over only addresses the guard allows.

Scrapy's ``TWISTED_DNS_RESOLVER`` names it (``crawler/scrapy_settings.py``). Every connection the
downloader opens resolves its host here, cached answers included, and connects only to the
addresses this resolver passed on, so the address checked is the address connected to: a DNS server
that answers a public address to :class:`crawler.middlewares.AddressGuard` and 127.0.0.1 to the
downloader (rebinding) gets no connection. A host left without an allowed address fails as a DNS
lookup error; the guard's ``process_exception`` turns it into ``guard/refused/<reason>``, with the
reason kept in :attr:`GuardedResolver.refused`.

Settings read: ``CLAIMWATCH_ALLOW_ADDRESSES`` (as the guard), ``DNSCACHE_ENABLED``,
``DNSCACHE_SIZE``. Scrapy builds resolvers from the crawler *process*, so it has no stats of its
own.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, cast

from scrapy.resolver import CachingHostnameResolver
from twisted.internet.interfaces import IResolutionReceiver
from zope.interface import implementer  # type: ignore[import-untyped]

from crawler.middlewares import IPNetwork, address_problem

logger = logging.getLogger(__name__)
REFUSED_HOSTS_KEPT = 1000


@implementer(IResolutionReceiver)
class _Guard:
    """Passes on the allowed addresses of one resolution, notes why the others were refused."""

    def __init__(self, receiver: Any, host: str, resolver: GuardedResolver) -> None:
        self.receiver, self.host, self.resolver = receiver, host, resolver
        self.passed = 0

    def resolutionBegan(self, resolution: Any) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: Any) -> None:
        text = str(getattr(address, "host", "")).split("%")[0]
        try:
            problem = address_problem(ipaddress.ip_address(text), self.resolver.allowed)
        except ValueError:
            problem = "reserved_address"
        if problem:
            logger.warning("refused %s for %s (%s): no connection to it", text, self.host, problem)
            self.resolver.note_refusal(self.host, problem)
            return
        self.passed += 1
        self.receiver.addressResolved(address)

    def resolutionComplete(self) -> None:
        if self.passed:
            self.resolver.refused.pop(self.host, None)
        self.receiver.resolutionComplete()


class GuardedResolver(CachingHostnameResolver):
    """Scrapy's caching IPv4/IPv6 resolver, filtered through the address guard."""

    def __init__(self, reactor: Any, cache_size: int, allowed: Iterable[str] = ()) -> None:
        super().__init__(reactor, cache_size)
        self.allowed: list[IPNetwork] = [ipaddress.ip_network(a, strict=False) for a in allowed]
        self.refused: OrderedDict[str, str] = OrderedDict()  # host -> why its last answer was

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        settings = crawler.settings
        size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, size, settings.getlist("CLAIMWATCH_ALLOW_ADDRESSES"))

    def note_refusal(self, host: str, reason: str) -> None:
        self.refused[host] = reason
        self.refused.move_to_end(host)
        while len(self.refused) > REFUSED_HOSTS_KEPT:
            self.refused.popitem(last=False)

    def resolveHostName(
        self,
        resolutionReceiver: Any,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[Any]] | None = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        guard = cast(IResolutionReceiver, _Guard(resolutionReceiver, hostName, self))
        return super().resolveHostName(
            guard, hostName, portNumber, addressTypes, transportSemantics
        )
