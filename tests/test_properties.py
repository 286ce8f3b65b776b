"""Property-based tests (issue 16): arbitrary bytes and markup through extraction and scoring end
in a document or a counted reason, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.document import Document, from_text
from pipeline.claims import default_rules, score_document
from pipeline.extract import extract_html

RULES = default_rules()
TAGS = ["p", "span", "div", "a", "b", "li", "ul", "h1", "script", "table", "td", "br", "meta"]
WORDS = ["kava", "cures", "cancer", "100 mg", "daily", "—", "é", "\u200b", "<", "&amp;", "\x00"]

markup = st.recursive(
    st.text(max_size=40) | st.sampled_from(WORDS),
    lambda inner: st.tuples(st.sampled_from(TAGS), st.lists(inner, max_size=5)).map(
        lambda t: f"<{t[0]}>{''.join(t[1])}</{t[0]}>"
    ),
    max_leaves=40,
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(outcome_reason: str, document: Document | None) -> None:
    assert (document is None) != (outcome_reason == "ok"), outcome_reason


@FAST
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_extract_to_a_document_or_a_reason(body: bytes) -> None:
    outcome = extract_html(body, "https://news.example.org/a")
    check(outcome.reason, outcome.document)


@FAST
@given(st.lists(markup, max_size=8))
def test_arbitrary_markup_extracts_and_scores(parts: list[str]) -> None:
    page = "<html><body><article>" + "".join(parts) + "</article></body></html>"
    outcome = extract_html(page, "https://news.example.org/a")
    check(outcome.reason, outcome.document)
    if outcome.document is not None:
        score = score_document(outcome.document, RULES)
        assert len(score.claims) <= score.stats["claims"]


@FAST
@given(st.text(max_size=2000))
def test_arbitrary_text_scores(text: str) -> None:
    score = score_document(from_text(text), RULES)
    assert 0 <= score.risk.score <= 100
    for claim in score.claims:
        assert claim.sentence
