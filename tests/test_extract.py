"""Extraction: structure kept, boilerplate dropped, metadata found, bad pages refused with a reason."""

from __future__ import annotations

from pipeline.extract import extract_html

CHROME = """<header><nav><a href="/">Home</a> <a href="/shop">Shop</a> <a href="/about">About</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div></header>"""
FOOTER = """<aside><h3>Popular posts</h3><ul><li><a href="/a">Ten teas for winter</a></li>
<li><a href="/b">Why we walk</a></li></ul><form>Subscribe to our newsletter <input></form></aside>
<footer>These statements have not been evaluated. © 2026 Example Wellness</footer>"""


def page(article: str, head: str = "", lang: str = "en") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">{head}</head>'
        f"<body>{CHROME}<main><article>{article}</article></main>{FOOTER}</body></html>"
    )


ARTICLE = """<h1>Mushroom coffee, explained</h1><p class="byline">By <span class="author">Ada Lane</span></p>
<p>Mushroom coffee blends ground coffee with powdered fungi such as lion's mane or chaga, and its
makers describe it as a gentler morning drink for people who find regular coffee too harsh.</p>
<blockquote><p>“Most of what people notice is simply less caffeine,” one dietitian told us.</p></blockquote>
<ul><li>What goes into the blend</li><li>What the studies looked at</li><li>What it costs</li></ul>
<h2>What goes into the blend</h2>
<p>A typical sachet holds about half the coffee of a normal cup, topped up with mushroom extract
powder, and the labels list the species, the amount of each and sometimes the part of the fungus.</p>
<h2>What the studies looked at</h2>
<p>Published trials are small and short, and most tested the extracts alone rather than the drink,
so there is little to say about the blends beyond their taste, their price and their caffeine.</p>
<script>var tracking = "should never appear in the text";</script>"""
HEAD = (
    "<title>Mushroom coffee, explained | Example Wellness</title>"
    '<link rel="canonical" href="https://wellness.example/mushroom-coffee?utm_campaign=x">'
    '<meta name="author" content="Ada Lane">'
    '<meta property="article:published_time" content="2026-10-30T08:00:00Z">'
)


def test_structure_and_metadata() -> None:
    outcome = extract_html(page(ARTICLE, HEAD), "https://wellness.example/mushroom-coffee?ref=home")
    doc = outcome.document
    assert outcome.reason == "ok" and doc is not None
    assert doc.title == "Mushroom coffee, explained"
    assert doc.author == "Ada Lane"
    assert doc.date == "2026-10-30"
    assert doc.language == "en"
    assert doc.canonical_url == "https://wellness.example/mushroom-coffee"
    kinds = [b.kind for b in doc.blocks]
    assert kinds.count("list_item") == 3
    assert kinds.count("heading") == 2  # the h1 title is not repeated as a heading block
    assert "quote" in kinds
    assert kinds[0] == "paragraph"
    text = doc.text
    for boilerplate in ("cookies", "newsletter", "Popular posts", "evaluated", "tracking"):
        assert boilerplate not in text


def test_canonical_link_to_another_site_is_ignored() -> None:
    head = HEAD.replace("https://wellness.example/", "https://victim.example/")
    doc = extract_html(page(ARTICLE, head), "https://wellness.example/p/1?utm_source=x").document
    assert doc is not None
    assert doc.canonical_url == "https://wellness.example/p/1"


def test_listing_and_short_pages_are_not_articles() -> None:
    teasers = "".join(
        f'<li><a href="/post/{n}">Post number {n} about seasonal produce and local markets</a> '
        f"A short teaser.</li>"
        for n in range(12)
    )
    assert extract_html(page(f"<ul>{teasers}</ul>"), "https://x.example/").reason == "not_article"
    shop = "".join(
        f"<h3>Product {n}</h3><p>$19.99</p><p>Sixty capsules per bottle.</p>" for n in range(8)
    )
    assert extract_html(page(shop), "https://x.example/shop").reason == "not_article"
    short = page("<p>We are a small team of writers who like tea.</p>")
    assert extract_html(short, "https://x.example/about", min_chars=400).reason == "too_short"


def test_hostile_inputs_give_reasons_not_exceptions() -> None:
    assert extract_html(b"", "https://x.example/").document is None
    assert extract_html(bytes(range(256)) * 40, "https://x.example/").document is None
    unclosed_title = "<html><head><title>Never closed<body><p>" + "text " * 300
    assert extract_html(unclosed_title, "https://x.example/").document is None
    deep = "<div>" * 5000 + "<p>deep</p>" + "</div>" * 5000
    assert extract_html(deep, "https://x.example/").document is None


def test_windows_1252_bytes_decode() -> None:
    html = page(ARTICLE.replace("gentler", "gentler café-style"), '<meta charset="windows-1252">')
    html = html.replace('<meta charset="utf-8">', "")
    doc = extract_html(html.encode("cp1252"), "https://wellness.example/c").document
    assert doc is not None and "café-style" in doc.text and "“Most of what" in doc.text


def test_articles_without_spaces_or_with_linked_paragraphs_are_articles() -> None:
    japanese = "".join(
        f"<p>これは日本語の記事の段落です。サプリメントの効果について詳しく説明しています。{n}番目。</p>"
        for n in range(6)
    )
    assert extract_html(page(japanese, lang="ja"), "https://x.example/ja").reason == "ok"
    linked = "".join(
        f'<h2>Deal {n}</h2><p><a href="/go/{n}">This bundle is the cheapest we have seen this '
        f"year, and it ships with a case and two games for the price of one.</a></p>"
        for n in range(6)
    )
    assert extract_html(page(linked), "https://x.example/deals").reason == "ok"
