"""Test sites written for the tests: small, realistic pages with our own text."""

from __future__ import annotations

from pathlib import Path

TOPICS = {
    "alpha": (
        "Herbal tea and evening routines",
        "chamomile",
        "Many readers ask how an evening cup of herbal tea fits into a calm routine before bed.",
    ),
    "beta": (
        "Walking groups in the city parks",
        "walking",
        "Neighbourhood walking groups have grown steadily across the city's parks this autumn.",
    ),
    "gamma": (
        "A guide to reading supplement labels",
        "labels",
        "Supplement labels list serving sizes, ingredients and the name of the company responsible.",
    ),
    "delta": (
        "Winter vegetables at the market",
        "vegetables",
        "Root vegetables and cabbages fill the market stalls as the first frosts arrive.",
    ),
}

CHROME_TOP = """<header><a class="logo" href="/">Test Health Weekly</a>
<nav><a href="/">Home</a> <a href="/about.html">About</a> <a href="/page2.html">More</a></nav></header>
<div class="cookie-banner">We use cookies to remember your settings. <button>Accept</button></div>"""
CHROME_BOTTOM = """<aside><h3>Popular</h3><ul><li><a href="/articles/alpha.html">Herbal tea</a></li>
<li><a href="/articles/beta.html">Walking groups</a></li></ul></aside>
<footer><a href="/private/secret.html">Staff area</a> · Copyright 2026 Test Health Weekly</footer>"""


def article_html(slug: str, revision: int = 1) -> str:
    title, word, lead = TOPICS[slug]
    paragraphs = [
        lead,
        f"Local experts describe {word} as one part of a wider picture: sleep, food, movement and "
        f"company all matter, and no single habit decides how a season goes for anyone.",
        f"Readers who wrote in about {word} mostly wanted practical details: where to start, what "
        f"it costs, and how to tell a useful tip from marketing dressed up as advice.",
        f"This is revision {revision} of the article, updated by the desk as new details arrived.",
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Test Health Weekly</title>
<link rel="canonical" href="__BASE_URL__/articles/{slug}.html?utm_source=feed">
<meta name="author" content="Sam Writer"><meta property="article:published_time" content="2026-11-0{revision}T09:00:00+00:00">
</head><body>{CHROME_TOP}<main><article><h1>{title}</h1><p class="byline">By Sam Writer</p>
{body}<h2>What to do next</h2><ul><li>Start small and keep notes on what you try.</li>
<li>Ask a pharmacist or doctor when in doubt about a product.</li><li>Share what works with neighbours.</li></ul>
</article></main>{CHROME_BOTTOM}</body></html>"""


def sitemap_xml(lastmods: dict[str, str]) -> str:
    urls = "".join(
        f"<url><loc>__BASE_URL__/articles/{slug}.html</loc><lastmod>{lastmod}</lastmod></url>"
        for slug, lastmod in lastmods.items()
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


def write_site(root: Path) -> Path:
    """The standard test site: three sitemap articles, one feed-only article, an index with
    pagination, a robots.txt that forbids /private/, and a sitemap index."""
    (root / "articles").mkdir(parents=True)
    (root / "private").mkdir()
    for slug in TOPICS:
        (root / "articles" / f"{slug}.html").write_text(article_html(slug))
    (root / "private" / "secret.html").write_text(article_html("alpha").replace("Herbal", "Secret"))
    (root / "robots.txt").write_text(
        "User-agent: *\nDisallow: /private/\nSitemap: __BASE_URL__/sitemap.xml\n"
    )
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>__BASE_URL__/sitemap-articles.xml</loc></sitemap></sitemapindex>"
    )
    (root / "sitemap-articles.xml").write_text(
        sitemap_xml({"alpha": "2026-11-01", "beta": "2026-11-02", "gamma": "2026-11-03"})
    )
    (root / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Test Health Weekly</title>'
        "<item><title>Winter vegetables</title><link>__BASE_URL__/articles/delta.html?utm_medium=rss</link>"
        "<pubDate>Wed, 04 Nov 2026 09:00:00 GMT</pubDate></item>"
        "<item><title>Walking</title><link>__BASE_URL__/articles/beta.html</link></item>"
        "</channel></rss>"
    )
    links = "".join(
        f'<li><a href="/articles/{s}.html">{TOPICS[s][0]}</a></li>' for s in ("alpha", "beta")
    )
    (root / "index.html").write_text(
        f"<!doctype html><html><head><title>Test Health Weekly</title></head><body>{CHROME_TOP}"
        f'<ul>{links}</ul><a href="/page2.html">Next page</a> <a href="http://example.com/">Elsewhere</a>'
        f"{CHROME_BOTTOM}</body></html>"
    )
    (root / "page2.html").write_text(
        f"<!doctype html><html><head><title>Page 2</title></head><body>{CHROME_TOP}"
        f'<ul><li><a href="/articles/gamma.html?utm_source=x">Labels</a></li></ul>{CHROME_BOTTOM}</body></html>'
    )
    (root / "about.html").write_text(
        f"<!doctype html><html><head><title>About</title></head><body>{CHROME_TOP}"
        f"<p>We are a small team.</p>{CHROME_BOTTOM}</body></html>"
    )
    return root
