"""A crawl whose DNS answers loopback for a public-looking name, as a rebinding server would.

Run as ``python -m tests.rebinding_crawl CONFIG HOST ADDRESS``: the reactor's name resolver answers
ADDRESS for HOST (and fails every other name). The crawl itself is claimwatch's own (its settings,
its resolver on top of this one, its guard). Prints the crawl's stats as JSON on the last line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from scrapy.utils.reactor import install_reactor
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IHostnameResolver
from zope.interface import implementer


@implementer(IHostnameResolver)
class Answers:
    """A name server that answers one address for one name, and nothing for other names."""

    def __init__(self, host: str, address: str) -> None:
        self.host, self.address = host, address

    def resolveHostName(
        self,
        receiver: Any,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Any = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        receiver.resolutionBegan(None)
        if hostName == self.host:
            receiver.addressResolved(IPv4Address("TCP", self.address, portNumber))
        receiver.resolutionComplete()
        return None


def main() -> None:
    config_path, host, address = sys.argv[1:4]
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor

    reactor.installNameResolver(Answers(host, address))  # type: ignore[attr-defined]

    from core.config import load_config
    from crawler.runner import run_crawl

    summary = run_crawl(load_config(Path(config_path), env={}))
    stats = {k: v for k, v in summary.stats.items() if isinstance(v, int | str)}
    print(json.dumps({"stats": stats, "statuses": summary.statuses}))


if __name__ == "__main__":
    main()
