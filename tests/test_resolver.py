"""DNS rebinding (issue 16, item 1): the address checked is the address connected to, at the
resolver the downloader uses; IPv4 carried in IPv6 is checked as IPv4."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.address import IPv4Address, IPv6Address

from core.config import load_config
from crawler.middlewares import address_problem, embedded_ipv4
from crawler.resolver import GuardedResolver
from crawler.scrapy_settings import build_settings
from tests.conftest import ROOT, Served, write_config


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("2002:7f00:1::", "loopback_address"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::", "private_address"),  # 6to4 of 10.0.0.1
        ("64:ff9b::7f00:1", "loopback_address"),  # NAT64 of 127.0.0.1
        ("64:ff9b::c0a8:101", "private_address"),  # NAT64 of 192.168.1.1
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback_address"),  # Teredo, client 127.0.0.1
        ("::ffff:127.0.0.1", "loopback_address"),  # IPv4-mapped
        ("::127.0.0.1", "loopback_address"),  # IPv4-compatible
        ("::ffff:a9fe:a9fe", "link_local_address"),  # 169.254.169.254, the metadata address
        ("2002:5db8:d822::", None),  # 6to4 of a public address
        ("64:ff9b::5db8:d822", None),  # NAT64 of a public address
    ],
)
def test_ipv4_carried_in_ipv6_is_checked_as_ipv4(address: str, reason: str | None) -> None:
    assert address_problem(ipaddress.ip_address(address)) == reason


def test_embedded_ipv4_forms() -> None:
    v6 = ipaddress.IPv6Address
    assert embedded_ipv4(v6("2002:7f00:1::")) == [ipaddress.IPv4Address("127.0.0.1")]
    assert embedded_ipv4(v6("64:ff9b::7f00:1")) == [ipaddress.IPv4Address("127.0.0.1")]
    assert embedded_ipv4(v6("2606:4700::1111")) == []
    assert embedded_ipv4(v6("::1")) == []  # loopback itself, not an IPv4-compatible address


class Receiver:
    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.complete = False

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(address.host)

    def resolutionComplete(self) -> None:
        self.complete = True


class Rebinding:
    """A name server that answers each name from a list of answers, one per lookup."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)

    def resolveHostName(self, receiver: Any, host: str, port: int = 0, *_: Any) -> Any:
        receiver.resolutionBegan(None)
        for address in self.answers.pop(0):
            kind = IPv6Address if ":" in address else IPv4Address
            receiver.addressResolved(kind("TCP", address, port))
        receiver.resolutionComplete()
        return None


class Reactor:
    def __init__(self, resolver: Any) -> None:
        self.nameResolver = resolver


def resolve(resolver: GuardedResolver, host: str) -> Receiver:
    receiver = Receiver()
    resolver.resolveHostName(receiver, host, 443)
    assert receiver.complete
    return receiver


def test_a_rebinding_answer_gets_no_address() -> None:
    upstream = Rebinding(["93.184.216.34"], ["127.0.0.1"], ["::ffff:10.0.0.5", "93.184.216.34"])
    resolver = GuardedResolver(Reactor(upstream), cache_size=0)
    assert resolve(resolver, "news.example.com").addresses == ["93.184.216.34"]
    assert resolve(resolver, "news.example.com").addresses == []  # the second answer: loopback
    assert resolver.refused["news.example.com"] == "loopback_address"
    assert resolve(resolver, "news.example.com").addresses == ["93.184.216.34"]
    assert "news.example.com" not in resolver.refused  # the last answer had an allowed address


def test_cached_answers_are_checked_too() -> None:
    upstream = Rebinding(["127.0.0.1", "2002:7f00:1::"])
    allowing = GuardedResolver(Reactor(upstream), cache_size=100, allowed=["127.0.0.1/32"])
    assert resolve(allowing, "cached.example.com").addresses == ["127.0.0.1"]
    strict = GuardedResolver(Reactor(Rebinding()), cache_size=100)  # answers from the cache
    assert resolve(strict, "cached.example.com").addresses == []
    assert strict.refused["cached.example.com"] == "loopback_address"


def test_the_crawl_resolves_through_the_guarded_resolver(tmp_path: Path) -> None:
    settings = build_settings(load_config(None, env={}))
    assert settings["TWISTED_DNS_RESOLVER"] == "crawler.resolver.GuardedResolver"


REBOUND = ("news.rebinding.test", "127.0.0.1")  # the name, and the address its DNS answers


def rebinding_crawl(tmp_path: Path, site: Served, allowed: list[str]) -> dict[str, Any]:
    tmp_path.mkdir(exist_ok=True)
    port = site.url.rsplit(":", 1)[1]
    config = write_config(
        tmp_path / "claimwatch.toml",
        [
            {
                "name": "rebound",
                "kind": "sitemap",
                "start_urls": [f"http://news.rebinding.test:{port}/sitemap.xml"],
            }
        ],
        f"sqlite:///{tmp_path / 'cw.db'}",
        crawl={"allow_addresses": allowed},
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.rebinding_crawl", str(config), *REBOUND],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.slow
def test_a_name_that_resolves_to_loopback_is_not_crawled(site: Served, tmp_path: Path) -> None:
    """Before: the guard's own lookup found nothing to refuse and the downloader connected to the
    listener on 127.0.0.1; the page was stored with no refusal in the stats."""
    refused = rebinding_crawl(tmp_path, site, [])
    assert refused["stats"].get("guard/refused/loopback_address", 0) >= 1
    assert refused["stats"].get("fetch/pages", 0) == 0
    assert not refused["stats"].get("store/inserted")
    assert site.requests == []
    # The same crawl with loopback allowed reaches the site through the same resolver.
    allowed = rebinding_crawl(tmp_path / "allowed", site, ["127.0.0.1/32"])
    assert allowed["statuses"] == {"rebound": "ok"}
    assert "/sitemap.xml" in site.requests
    assert not any(k.startswith("guard/refused/") for k in allowed["stats"])
