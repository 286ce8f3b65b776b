"""pipeline/urls.py: canonical URLs (the storage key), same-site checks and domain scoping."""

from __future__ import annotations

import pytest

from pipeline.urls import canonical_url, host_in_domains, same_site


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "https://example.com/a?utm_source=x&utm_medium=y&utm_campaign=z&utm_term=t&utm_content=c",
            "https://example.com/a",
            id="utm",
        ),
        pytest.param(
            "https://example.com/a?fbclid=1&gclid=2&msclkid=3&mc_cid=4&_ga=5&igshid=6",
            "https://example.com/a",
            id="click-ids",
        ),
        pytest.param(
            "https://example.com/a?UTM_Source=x&FBCLID=y&id=7",
            "https://example.com/a?id=7",
            id="tracking-case-insensitive",
        ),
        pytest.param(
            "https://example.com/search?q=kratom&utm_source=news&page=2&a=1",
            "https://example.com/search?a=1&page=2&q=kratom",
            id="other-params-kept-sorted",
        ),
        pytest.param(
            "https://example.com/a?empty=&x=1",
            "https://example.com/a?empty=&x=1",
            id="blank-value-kept",
        ),
        pytest.param(
            "https://example.com/a?utm_source=x", "https://example.com/a", id="query-emptied"
        ),
        pytest.param("https://example.com/a?", "https://example.com/a", id="empty-query"),
        pytest.param(
            "HTTPS://WWW.Example.COM/Articles/Kratom.html",
            "https://www.example.com/Articles/Kratom.html",
            id="scheme-host-lowered-path-kept",
        ),
        pytest.param("http://example.com:80/a", "http://example.com/a", id="default-http-port"),
        pytest.param("https://example.com:443/a", "https://example.com/a", id="default-https-port"),
        pytest.param(
            "https://example.com:80/a", "https://example.com:80/a", id="non-default-port-kept"
        ),
        pytest.param(
            "http://example.com:8080/a", "http://example.com:8080/a", id="custom-port-kept"
        ),
        pytest.param(
            "https://example.com/a#comments", "https://example.com/a", id="fragment-dropped"
        ),
        pytest.param("https://example.com", "https://example.com/", id="empty-path"),
        pytest.param("https://example.com./a", "https://example.com/a", id="trailing-dot-host"),
        pytest.param("  https://example.com/a \n", "https://example.com/a", id="whitespace"),
        pytest.param("http://[2001:DB8::1]/a", "http://[2001:db8::1]/a", id="ipv6"),
        pytest.param("http://[2001:db8::1]:80/a", "http://[2001:db8::1]/a", id="ipv6-default-port"),
        pytest.param(
            "http://[2001:db8::1]:8080/a?z=1&a=2#f",
            "http://[2001:db8::1]:8080/a?a=2&z=1",
            id="ipv6-port-query",
        ),
        pytest.param("http://127.0.0.1:8000/x", "http://127.0.0.1:8000/x", id="ipv4"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a?b=2&a=1",
        "https://example.com/Path/With%20Space?q=a+b",
        "http://[2001:db8::1]:8080/x",
        "http://example.com:8080/",
    ],
)
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


def test_variants_share_one_canonical_url() -> None:
    variants = [
        "https://Example.com/post?id=3&ref=x",
        "HTTPS://example.com:443/post?ref=x&id=3#top",
        "https://example.com/post?utm_source=feed&ref=x&id=3&fbclid=abc",
    ]
    assert {canonical_url(v) for v in variants} == {"https://example.com/post?id=3&ref=x"}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("https://example.com/a", "https://example.com/b?x=1", True),
        ("https://Example.COM/a", "https://example.com/a", True),
        ("http://example.com/a", "http://example.com:80/b", True),
        ("https://example.com:443/a", "https://example.com/b", True),
        ("http://example.com:8080/a", "http://example.com/a", False),
        ("http://example.com/a", "https://example.com/a", False),
        ("https://example.com/a", "https://www.example.com/a", False),
        ("https://example.com/a", "https://example.org/a", False),
        ("http://[::1]:8000/a", "http://[::1]:8000/b", True),
        ("http://example.com:notaport/a", "http://example.com/a", False),
    ],
)
def test_same_site(a: str, b: str, expected: bool) -> None:
    assert same_site(a, b) is expected
    assert same_site(b, a) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", True),
        ("https://www.example.com/a", True),
        ("https://deep.blog.example.com/a", True),
        ("https://WWW.EXAMPLE.COM/a", True),
        ("https://example.com:8443/a", True),
        ("https://evilexample.com/a", False),
        ("https://example.com.evil.net/a", False),
        ("https://example.co/a", False),
        ("https://other.org/a", True),
        ("https://sub.other.org/a", True),
        ("https://notother.org/a", False),
    ],
)
def test_host_in_domains(url: str, expected: bool) -> None:
    assert host_in_domains(url, ["example.com", "other.org"]) is expected


def test_host_in_no_domains() -> None:
    assert host_in_domains("https://example.com/", []) is False
