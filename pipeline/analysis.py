"""One document through the pipeline's pure stages, without storing it: ``claimwatch analyze``.

The JSON object is a stable contract (see the README): later stages add keys, never rename them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.document import Document, from_text
from pipeline.claims import RuleSet, score_document
from pipeline.claims.learned import LinearModel
from pipeline.dedup.engine import Deduper
from pipeline.extract import extract_html

HTML_SUFFIXES = (".html", ".htm")


def load_document(name: str, content: bytes, *, is_html: bool) -> tuple[Document | None, str]:
    """Turn an input into a document; returns the document (or ``None``) and a reason."""
    if is_html:
        outcome = extract_html(content, name)
        return outcome.document, outcome.reason
    text = content.decode("utf-8", errors="replace")
    document = from_text(text)
    return (document, "ok") if document.blocks else (None, "empty")


NO_MATCH: dict[str, Any] = {
    "claims": [],
    "risk": {"score": 0.0, "band": "ignore", "escalations": []},
    "template": {
        "match": False,
        "family": None,
        "score": 0.0,
        "nearest_seed": None,
        "evidence": [],
    },
    "near_duplicate": {"of": None, "similarity": 0.0},
}


def analyze(
    source: str,
    document: Document | None,
    reason: str = "ok",
    *,
    deduper: Deduper | None = None,
    resolve: Callable[[int], tuple[str, str] | None] | None = None,
    rules: RuleSet | None = None,
    model: LinearModel | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """The ``analyze --json`` object for one input (``kind``: its declared page kind, if any)."""
    if document is None:
        return {
            "source": source,
            "title": None,
            "text_chars": 0,
            "blocks": [],
            "error": reason,
            **NO_MATCH,
        }
    result: dict[str, Any] = {
        "source": source,
        "title": document.title,
        "text_chars": document.text_chars,
        "blocks": document.blocks_as_dicts(),
    }
    if deduper is not None:
        # A page already stored is not its own near-duplicate: its stored copy is skipped.
        found = deduper.analyze(document, resolve=resolve, exclude_url=document.canonical_url)
        result.update(found.as_json())
    if rules is not None:
        result.update(score_document(document, rules, model, kind).as_json())
    return result
