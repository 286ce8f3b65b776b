"""The structural fast path (pipeline/fastextract.py): taken on clear pages, unsure on others,
and neither crashing nor stalling on hostile markup; extract_html's answer keeps its shape."""

from __future__ import annotations

from core.document import Document
from pipeline.extract import extract_html
from pipeline.fastextract import MAX_TAGS, structural_blocks

URL = "https://remedies.example/articles/nettle-tea"

PARAS = [
    "Nettle tea is brewed from the dried leaves of the stinging nettle, a plant that grows along"
    " hedges and riverbanks across most of Europe and much of North America.",
    "People who drink it often describe a grassy, mild taste, closer to green tea than to the"
    " herbal blends sold in supermarkets, and some add honey or lemon to soften it.",
    "Researchers have looked at nettle extracts in small trials, but the doses in those studies"
    " were far higher than what a cup of tea provides, so the results say little about the drink.",
    "Anyone taking blood thinners or medicine for blood pressure should ask a pharmacist first,"
    " because the leaves contain vitamin K and may add to the effect of some drugs.",
]
HEAD = (
    '<meta charset="utf-8"><title>Nettle tea, plainly | Remedies Example</title>'
    '<meta name="author" content="Rosa Field">'
    '<meta property="article:published_time" content="2026-11-02T09:00:00Z">'
)
CHROME = (
    '<header><nav><a href="/">Home</a> <a href="/teas">Teas</a></nav></header>'
    '<div class="sidebar"><h3>Popular</h3><ul><li><a href="/a">Seven teas for sleep</a></li>'
    '<li><a href="/b">Why we steep</a></li></ul></div>'
    "<footer>© 2026 Remedies Example. All rights reserved.</footer>"
)


def body(paras: list[str]) -> str:
    return "".join(f"<p>{text}</p>" for text in paras)


def article_page() -> str:
    inner = (
        "<h1>Nettle tea, plainly</h1>"
        '<p class="byline">By <a href="/rosa">Rosa Field</a></p>'
        '<div class="share-bar"><a href="#fb">Share</a> <a href="#x">Post</a></div>'
        + body(PARAS[:2])
        + "<h2>What the studies say</h2>"
        + body(PARAS[2:3])
        + "<ul><li>Dried leaves, one teaspoon a cup</li><li>Five minutes in hot water</li></ul>"
        + "<blockquote><p>“It tastes like a meadow,” a reader wrote to us.</p></blockquote>"
        + body(PARAS[3:])
        + '<p><a href="/other">Read next: the case for chamomile in the evening</a></p>'
        + '<div class="related-stories"><a href="/c">Mint</a> <a href="/d">Sage</a></div>'
        + "<script>var tracker = 'never in the text';</script>"
        + "<p>Advertisement</p>"
    )
    return f"<!doctype html><html lang='en'><head>{HEAD}</head><body>{CHROME}<main><article>{inner}</article></main></body></html>"


def test_article_page_takes_the_fast_path() -> None:
    found = structural_blocks(article_page())
    assert found is not None
    texts = [block.text for block in found.blocks]
    assert found.leading_h1 and texts[0] == "Nettle tea, plainly"
    assert [b.kind for b in found.blocks].count("list_item") == 2
    assert any(b.kind == "quote" and "meadow" in b.text for b in found.blocks)
    joined = "\n".join(texts)
    for junk in ("Rosa Field", "Share", "Read next", "Mint", "tracker", "Advertisement", "Home"):
        assert junk not in joined


def test_extract_html_keeps_its_shape_on_the_fast_path() -> None:
    fast = extract_html(article_page(), URL)
    slow = extract_html(article_page(), URL, structural=False)
    assert fast.reason == slow.reason == "ok"
    assert isinstance(fast.document, Document) and isinstance(slow.document, Document)
    doc = fast.document
    # Metadata comes from the same step on both paths.
    for name in ("title", "author", "date", "language", "url", "canonical_url", "meta"):
        assert getattr(doc, name) == getattr(slow.document, name), name
    assert doc.title == "Nettle tea, plainly" and doc.author == "Rosa Field"
    assert doc.date == "2026-11-02"
    # The title heading is dropped as on the trafilatura path; the body starts with prose.
    assert doc.blocks[0].kind == "paragraph" and doc.blocks[0].text == PARAS[0]
    assert all(p in doc.text for p in PARAS)


def test_densest_block_without_article_markup() -> None:
    html = (
        f"<html><head>{HEAD}</head><body>{CHROME}"
        f'<div id="page"><div class="story">{body(PARAS)}</div>'
        f'<div class="comments-box"><p>Great read, thanks!</p></div></div></body></html>'
    )
    found = structural_blocks(html)
    assert found is not None
    assert [b.text for b in found.blocks] == PARAS


def test_unsure_pages_fall_back_to_trafilatura() -> None:
    two = f"<html><body><article>{body(PARAS[:2])}</article><article>{body(PARAS[2:])}</article></body></html>"
    short = "<html><body><article><p>Just one short paragraph here.</p></article></body></html>"
    links = (
        "<html><body><article>"
        + "".join(f'<p><a href="/{i}">{text}</a></p>' for i, text in enumerate(PARAS))
        + "</article></body></html>"
    )
    spread = (
        "<html><body>" + "".join(f"<section><p>{t}</p></section>" for t in PARAS) + "</body></html>"
    )
    for html in (two, short, links, spread):
        assert structural_blocks(html) is None
    # Unsure is not empty: trafilatura still finds the text of the two-article page.
    outcome = extract_html(two, URL)
    assert outcome.document is not None and PARAS[0] in outcome.document.text


def test_nested_lists_tables_and_loose_text() -> None:
    inner = (
        body(PARAS[:3])
        + "<ul><li>Leaves<ul><li>fresh</li><li>dried</li></ul></li></ul>"
        + "<table><tr><th>Cup</th><th>Leaves</th></tr><tr><td>Small</td><td>1 tsp</td></tr></table>"
        + "<div>Loose text in a container, <b>with bold</b> and a <a href='/x'>link</a>.</div>"
    )
    found = structural_blocks(f"<html><body><article>{inner}</article></body></html>")
    assert found is not None
    pairs = [(b.kind, b.text) for b in found.blocks]
    assert ("list_item", "Leaves") in pairs and ("list_item", "dried") in pairs
    assert ("paragraph", "Cup | Leaves") in pairs and ("paragraph", "Small | 1 tsp") in pairs
    assert ("paragraph", "Loose text in a container, with bold and a link.") in pairs


def test_hidden_and_boilerplate_elements_are_left_out() -> None:
    inner = (
        body(PARAS)
        + '<p hidden>hidden paragraph text</p><p style="display: none">styled away</p>'
        + '<p aria-hidden="true">aria hidden</p><div class="newsletter-signup"><p>Join us</p></div>'
        + "<form><p>Form text</p></form><figure><figcaption>A cup of tea</figcaption></figure>"
    )
    found = structural_blocks(f"<html><body><article>{inner}</article></body></html>")
    assert found is not None
    assert [b.text for b in found.blocks] == PARAS


# Hostile input: each must return (an answer or "unsure") without an exception.


def test_deeply_nested_markup() -> None:
    deep_divs = "<html><body><article>" + "<div>" * 5_000 + body(PARAS) + "</div>" * 5_000
    assert structural_blocks(deep_divs + "</article></body></html>") is None
    deep_inline = "<html><body><article>" + body(PARAS) + "<p>" + "<span>" * 5_000 + "x"
    found = structural_blocks(deep_inline + "</span>" * 5_000 + "</p></article></body></html>")
    assert found is None or PARAS[0] in [b.text for b in found.blocks]
    unclosed = "<html><body>" + "<div><p>" + PARAS[0] * 3 + "</p>" + "<div>" * 8_000
    assert structural_blocks(unclosed) is None
    for html in (deep_divs, unclosed):
        assert extract_html(html, URL).reason != ""


def test_huge_pages_are_left_to_trafilatura() -> None:
    many_tags = "<html><body><article>" + body(PARAS) + "<i>x</i>" * (MAX_TAGS + 1)
    assert structural_blocks(many_tags + "</article></body></html>") is None
    long_text = "<html><body><article>" + body(PARAS) + "<p>" + "word " * 700_000 + "</p>"
    assert structural_blocks(long_text + "</article></body></html>") is None


def test_malformed_markup() -> None:
    broken = [
        "",
        "<",
        "<<<>>>",
        "</div></p></article>",
        "<html><body><article><p " + "a=" * 1000,
        "<article><p>" + PARAS[0] + "<div></p></span></article>" + body(PARAS[1:]) + "<p <b>>",
        "<article>" + body(PARAS) + "<!-- never closed",
        "<article>" + body(PARAS) + "\x00\x00\ud800 stray surrogate</article>",
        "<table><tr><td><table><tr><td>" + body(PARAS) + "</td></tr></table>",
    ]
    for html in broken:
        structural_blocks(html)  # no exception
        assert extract_html(html, URL).reason != ""


def test_non_utf8_bytes() -> None:
    text = (
        "Café crème brûlée, a dessert with caramelised sugar on a cold custard of cream and eggs."
    )
    paras = [text, *PARAS[:3]]
    html = f"<html><head><meta charset='iso-8859-1'></head><body><article>{body(paras)}</article></body></html>"
    outcome = extract_html(html.encode("iso-8859-1"), URL)
    assert outcome.document is not None and text in outcome.document.text
    # Bytes that are neither UTF-8 nor declared: no crash, text comes out.
    junk = (
        b"<html><body><article>"
        + body(PARAS).encode()
        + b"\xff\xfe\x80\x81</article></body></html>"
    )
    structural_blocks(junk)
    assert extract_html(junk, URL).document is not None


def test_a_contents_list_of_in_page_links_is_kept() -> None:
    toc = (
        '<ul class="toc"><li><a href="#brew">How to brew it</a></li>'
        '<li><a href="#safety">Who should not drink it</a></li></ul>'
    )
    found = structural_blocks(
        f"<html><body><article>{PARAS[0]}{toc}{body(PARAS)}</article></body></html>"
    )
    assert found is not None
    items = [b.text for b in found.blocks if b.kind == "list_item"]
    assert items == ["How to brew it", "Who should not drink it"]
    # The same list pointing to other pages is navigation, and left out.
    away = toc.replace('href="#', 'href="/')
    found = structural_blocks(f"<html><body><article>{away}{body(PARAS)}</article></body></html>")
    assert found is not None and not [b for b in found.blocks if b.kind == "list_item"]


def test_responsive_visibility_classes_keep_their_text() -> None:
    inner = body(PARAS[:3]) + f'<div class="hidden-xs"><p>{PARAS[3]}</p></div>'
    inner += '<div class="hidden"><p>Never shown to anyone.</p></div>'
    found = structural_blocks(f"<html><body><article>{inner}</article></body></html>")
    assert found is not None
    assert [b.text for b in found.blocks] == PARAS
