"""review/evidence.py: the stored page made inert for the sandboxed frame."""

from __future__ import annotations

from review.evidence import inert_html


def test_inert_html_keeps_the_page_and_drops_what_runs() -> None:
    page = (
        '<?xml version="1.0" encoding="utf-8"?><html><head><base href="https://x.example/">'
        '<meta http-equiv="refresh" content="0; url=https://x.example/"><link rel="stylesheet" '
        'href="https://x.example/a.css"><style>p{color:red}</style></head><body onload="go()">'
        '<p>Kept <a href="JaVa\tScript:go()" onclick="go()">link</a> '
        '<a href="https://x.example/ok">remote</a></p><img src="data:image/gif;base64,R0lG">'
        '<iframe srcdoc="<script>go()</script>"></iframe><script>go()</script>'
        '<object data="https://x.example/f.swf"></object></body></html>'
    )
    out = inert_html(page).lower()
    for gone in (
        "<script",
        "<base",
        "http-equiv",
        "<link",
        "<iframe",
        "<object",
        "onload",
        "onclick",
        "javascript",
        "go()",
    ):
        assert gone not in out, gone
    assert "<style>p{color:red}</style>" in out and "kept" in out
    assert 'href="https://x.example/ok"' in out  # nothing remote is rewritten: the CSP blocks it
    assert 'src="data:image/gif;base64,r0lg"' in out
    assert "(no HTML stored)" in inert_html("  ")
