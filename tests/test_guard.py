"""crawler/middlewares.py: the address guard that keeps the crawler off private networks.

Only IP-literal URLs and refused schemes are checked here, so nothing is resolved or connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from core.config import load_config
from crawler.middlewares import AddressGuard, RefusedRequest, address_problem
from crawler.scrapy_settings import claimwatch_settings


def network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(value, strict=False)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.1", "private_address"),
        ("172.16.5.4", "private_address"),
        ("172.31.255.254", "private_address"),
        ("192.168.1.1", "private_address"),
        ("127.0.0.1", "loopback_address"),
        ("127.255.255.254", "loopback_address"),
        ("169.254.169.254", "link_local_address"),  # cloud metadata service
        ("::1", "loopback_address"),
        ("fe80::1", "link_local_address"),
        ("fc00::1", "private_address"),
        ("fd12:3456::1", "private_address"),
        ("::ffff:10.0.0.1", "private_address"),  # IPv4-mapped
        ("::ffff:127.0.0.1", "loopback_address"),
        ("::ffff:169.254.169.254", "link_local_address"),
        ("0.0.0.0", "private_address"),
        ("224.0.0.1", "multicast_address"),
        ("ff02::1", "multicast_address"),
        ("100.64.0.1", "private_address"),  # carrier-grade NAT
    ],
)
def test_address_problem(address: str, reason: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["::", "240.0.0.1", "255.255.255.255", "192.0.2.1"])
def test_address_problem_other_non_public(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "172.32.0.1"]
)
def test_public_address_is_fine(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("allowed", "address", "reason"),
    [
        ("127.0.0.1/32", "127.0.0.1", None),
        ("127.0.0.1/32", "::ffff:127.0.0.1", None),
        ("127.0.0.1/32", "127.0.0.2", "loopback_address"),
        ("127.0.0.1/32", "::1", "loopback_address"),
        ("192.168.1.0/24", "192.168.1.200", None),
        ("192.168.1.0/24", "192.168.2.1", "private_address"),
        ("192.168.1.0/24", "10.0.0.1", "private_address"),
        ("::1/128", "::1", None),
        ("::1/128", "127.0.0.1", "loopback_address"),
    ],
)
def test_allow_list_exempts_exactly_its_addresses(
    allowed: str, address: str, reason: str | None
) -> None:
    assert address_problem(ipaddress.ip_address(address), [network(allowed)]) == reason


# --- the middleware -------------------------------------------------------------------------


def make_guard(*allowed: str) -> tuple[AddressGuard, MemoryStatsCollector]:
    stats = MemoryStatsCollector(get_crawler())
    return AddressGuard(stats, allowed), stats


def refused(guard: AddressGuard, url: str) -> RefusedRequest:
    with pytest.raises(RefusedRequest) as info:
        asyncio.run(guard.check(url))
    return info.value


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/", "private_address"),
        ("https://192.168.1.1:8443/admin", "private_address"),
        ("http://172.16.5.4/x", "private_address"),
        ("http://169.254.169.254/latest/meta-data/", "link_local_address"),
        ("http://[::1]:8080/", "loopback_address"),
        ("http://[fe80::1]/", "link_local_address"),
        ("http://[::ffff:10.0.0.1]/", "private_address"),
        ("http://127.0.0.2:8000/", "loopback_address"),
        ("http://224.0.0.1/", "multicast_address"),
        ("http://100.64.0.1/", "private_address"),
        ("HTTP://10.0.0.1./", "private_address"),
    ],
)
def test_private_literal_is_refused(url: str, reason: str) -> None:
    guard, stats = make_guard("127.0.0.1/32")
    error = refused(guard, url)
    assert error.reason == reason
    assert isinstance(error, IgnoreRequest)
    assert reason in str(error)
    assert stats.get_value(f"guard/refused/{reason}") == 1
    assert [k for k in stats.get_stats() if k.startswith("guard/")] == [f"guard/refused/{reason}"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file.txt",
        "file:///etc/passwd",
        "data:text/html,<script>alert(1)</script>",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
    ],
)
def test_non_http_scheme_is_refused(url: str) -> None:
    guard, stats = make_guard("127.0.0.1/32")
    assert refused(guard, url).reason == "scheme"
    assert stats.get_value("guard/refused/scheme") == 1


def test_url_without_host_is_refused() -> None:
    guard, stats = make_guard()
    assert refused(guard, "http:///just/a/path").reason == "no_host"
    assert stats.get_value("guard/refused/no_host") == 1


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        ("127.0.0.1/32", "http://127.0.0.1:8000/articles/a.html"),
        ("127.0.0.1/32", "https://127.0.0.1/"),
        ("::1/128", "http://[::1]:8080/"),
        ("10.0.0.0/8", "http://10.20.30.40/"),
    ],
)
def test_allowed_literal_passes(allowed: str, url: str) -> None:
    guard, stats = make_guard(allowed)
    assert asyncio.run(guard.check(url)) is None
    assert not [k for k in stats.get_stats() if k.startswith("guard/")]


def test_public_literal_passes() -> None:
    guard, stats = make_guard()
    assert asyncio.run(guard.check("http://93.184.216.34/")) is None
    assert stats.get_stats() == {}


def test_every_refusal_is_counted() -> None:
    guard, stats = make_guard()
    for _ in range(3):
        refused(guard, "http://10.0.0.1/page")
    refused(guard, "file:///etc/passwd")
    assert stats.get_value("guard/refused/private_address") == 3
    assert stats.get_value("guard/refused/scheme") == 1


def test_process_request() -> None:
    guard, stats = make_guard("127.0.0.1/32")
    assert asyncio.run(guard.process_request(Request("http://127.0.0.1:9/ok"))) is None
    with pytest.raises(RefusedRequest):
        asyncio.run(guard.process_request(Request("http://192.168.0.1/")))
    assert stats.get_value("guard/refused/private_address") == 1


def test_from_crawler_reads_allow_addresses() -> None:
    config = load_config(None, env={"CLAIMWATCH_CRAWL__ALLOW_ADDRESSES": '["10.1.0.0/16"]'})
    crawler = get_crawler(settings_dict=claimwatch_settings(config))
    crawler.stats = MemoryStatsCollector(crawler)
    guard = AddressGuard.from_crawler(crawler)
    assert asyncio.run(guard.check("http://10.1.2.3/")) is None
    assert refused(guard, "http://10.2.0.1/").reason == "private_address"
    assert crawler.stats.get_value("guard/refused/private_address") == 1
