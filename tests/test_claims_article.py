"""Article scores: offsets, ordering, bands on the seeds and the demo, the JSON contract, the adapter.

The two articles below were written for these tests: a content-farm piece in the seed template and
an ordinary news story about the same substance.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from core.document import Document, from_text
from pipeline.claims import ArticleScore, default_rules, score_document
from pipeline.claims.pipeline import ScorePipeline, rules_from_config
from pipeline.extract import extract_html

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "crawler" / "demo" / "sites"
RULES = default_rules()

TEMPLATE_ARTICLE = """\
Joint pain wears people down, but kava offers a natural path to lasting comfort. Kava, a root from the Pacific, calms inflamed joints and relieves arthritis pain without the side effects of painkillers. Understanding the right kava dosage is crucial for anyone ready to leave prescription pain pills behind.
“Tired of waking up stiff and sore? Kava has gained attention as a gentle, plant-based answer to chronic pain. In this guide we explain how kava works on pain signals and how to dose it for all-day relief.”
- How Kava Relieves Arthritis Pain
- Kava Versus Prescription Painkillers
- Dosing Kava for Joint Pain
How Kava Relieves Arthritis Pain
Kavalactones bind to receptors in the brain and dampen pain signals, which is why kava eases arthritis pain so quickly. Clinically proven to work, it is completely safe for daily use.
Kava Versus Prescription Painkillers
Kava works like ibuprofen but is non-addictive, making it a safe natural alternative to opioid painkillers for seniors.
Dosing Kava for Joint Pain
Start with 100 mg of kavalactones twice a day and increase the dose until the pain is gone.
Kava offers a promising avenue for people living with arthritis, and many readers have already replaced their pain medication with a daily cup."""

NEWS_ARTICLE = """\
County reports rise in kava use as bars open downtown
Three kava bars have opened in the county this year, and health officials say more residents are trying the drink.
Kava is made from the root of a Pacific plant and has long been served at ceremonies. Some customers say it helps them relax after work.
The health department said there is little evidence that kava treats anxiety or pain, and that it can cause liver injury in rare cases.
What officials advise
- Do not mix kava with alcohol.
- Talk to a doctor before using kava if you take other medicines.
Owners of the bars said they check identification and do not sell to minors."""


def doc_from_html(path: Path) -> Document:
    document = extract_html(path.read_text(encoding="utf-8"), f"http://demo.test/{path.name}")
    assert document.document is not None, path
    return document.document


def assert_offsets(document: Document, score: ArticleScore) -> None:
    text = document.text
    for claim in score.claims:
        assert text[claim.start : claim.end] == claim.sentence


def test_offsets_point_at_the_sentence() -> None:
    document = from_text(TEMPLATE_ARTICLE)
    score = score_document(document, RULES)
    assert len(score.claims) >= 8
    assert_offsets(document, score)
    starts = [claim.start for claim in score.claims]
    assert starts == sorted(starts)


def test_template_article_outranks_news_about_the_same_substance() -> None:
    template = score_document(from_text(TEMPLATE_ARTICLE), RULES)
    news = score_document(from_text(NEWS_ARTICLE), RULES)
    assert template.risk.band == "priority"
    assert news.risk.band in {"watch", "ignore"}
    assert template.risk.score > news.risk.score + 40
    categories = {c for claim in template.claims for c in claim.categories}
    assert {"disease_treatment", "medical_substitution", "safety_assurance",
            "efficacy_certainty", "dosage_advice", "vulnerable_groups"} <= categories  # fmt: skip


def test_as_json_contract() -> None:
    score = score_document(from_text(TEMPLATE_ARTICLE), RULES)
    data = score.as_json()
    assert set(data) == {"claims", "risk", "scored_by", "page_kind"}
    assert data["page_kind"] is None  # no kind declared
    assert data["scored_by"] == {"rules_sha256": RULES.sha256, "model_sha256": score.model_sha256}
    assert set(data["risk"]) == {"score", "band", "escalations"}
    types = {
        "sentence": str, "start": int, "end": int, "categories": list, "score": float,
        "rules": list, "hedged": bool, "severity": str,
    }  # fmt: skip
    for claim in data["claims"]:
        for key, kind in types.items():
            assert isinstance(claim[key], kind), key
        assert claim["substance"] is None or isinstance(claim["substance"], str)
        assert claim["condition"] is None or isinstance(claim["condition"], str)
        assert 0 <= claim["score"] <= 100
        assert 0 <= claim["confidence"] <= 1  # the learned decision
        assert all(set(f) == {"feature", "weight"} for f in claim["features"])
    assert 0 <= data["risk"]["score"] <= 100
    assert data["risk"]["band"] in {"priority", "review", "watch", "ignore"}
    assert score.rules_sha256 == RULES.sha256


def test_empty_document() -> None:
    score = score_document(Document(blocks=()), RULES)
    data = score.as_json()
    assert data["claims"] == []
    assert data["risk"] == {"score": 0.0, "band": "ignore", "escalations": []}


@pytest.mark.parametrize("path", sorted((ROOT / "seeds").glob("*.txt")), ids=lambda p: p.stem)
def test_seeds_score_priority_or_review(path: Path) -> None:
    document = from_text(path.read_text(encoding="utf-8"))
    score = score_document(document, RULES)
    assert score.risk.band in {"priority", "review"}
    assert_offsets(document, score)


@pytest.mark.parametrize(
    "path",
    [
        *sorted((SITES / "herbal-wellness-hub" / "articles").glob("*.html")),
        SITES / "natural-remedy-daily" / "posts" / "cbd-gummies-kids-adhd.html",
    ],
    ids=lambda p: p.stem,
)
def test_demo_template_articles_score_priority_or_review(path: Path) -> None:
    document = doc_from_html(path)
    score = score_document(document, RULES)
    assert score.risk.band in {"priority", "review"}, (
        score.risk,
        [c.sentence for c in score.claims],
    )
    assert_offsets(document, score)


@pytest.mark.parametrize(
    "path",
    [
        *(
            p
            for p in sorted((SITES / "city-health-news" / "news").glob("*.html"))
            if p.stem != "old-page"
        ),
        SITES / "natural-remedy-daily" / "posts" / "golden-turmeric-latte.html",
    ],
    ids=lambda p: p.stem,
)
def test_demo_ordinary_articles_score_ignore(path: Path) -> None:
    score = score_document(doc_from_html(path), RULES)
    assert score.risk.band == "ignore", [c.sentence for c in score.claims]


def test_demo_escalations() -> None:
    kids = score_document(
        doc_from_html(SITES / "natural-remedy-daily" / "posts" / "cbd-gummies-kids-adhd.html"),
        RULES,
    )
    assert "children" in kids.risk.escalations
    opioid = score_document(
        doc_from_html(SITES / "herbal-wellness-hub" / "articles" / "kratom-opioid-withdrawal-dosage.html"),
        RULES,
    )  # fmt: skip
    assert "opioid_addiction_withdrawal" in opioid.risk.escalations


class FakeStats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count


def run_pipeline(pipeline: ScorePipeline, item: Any) -> Any:
    async def go() -> Any:
        return await pipeline.process_item(item)

    return asyncio.run(go())


def test_score_pipeline_sets_score_and_counts() -> None:
    stats = FakeStats()
    pipeline = ScorePipeline(stats, RULES)  # type: ignore[arg-type]
    item = SimpleNamespace(
        source="demo", url="http://x/a", not_modified=False, document=from_text(TEMPLATE_ARTICLE)
    )
    try:
        result = run_pipeline(pipeline, item)
        skipped = run_pipeline(pipeline, SimpleNamespace(source="demo", not_modified=True))
        empty = run_pipeline(
            pipeline, SimpleNamespace(source="demo", not_modified=False, document=None)
        )
    finally:
        pipeline.close_spider()
    assert result is item and isinstance(item.score, ArticleScore)
    assert skipped.not_modified and not hasattr(skipped, "score")
    assert not hasattr(empty, "score")
    values = stats.values
    assert values["score/articles"] == 1
    assert values["score/claims"] == len(item.score.claims)
    assert values[f"score/band/{item.score.risk.band}"] == 1
    assert values[f"source/demo/score/band/{item.score.risk.band}"] == 1
    assert values["score/not_modified"] == 1 and values["score/no_document"] == 1
    assert sum(v for k, v in values.items() if k.startswith("score/rule/")) >= len(
        item.score.claims
    )


def test_rules_from_config(tmp_path: Path) -> None:
    assert rules_from_config(SimpleNamespace()) is RULES
    assert rules_from_config(SimpleNamespace(rules=SimpleNamespace(path=None))) is RULES
    extra = {"substances": {"zorblax": {"synonyms": ["zorblax"]}}}
    custom = rules_from_config(SimpleNamespace(rules=SimpleNamespace(path=None, extra=extra)))
    assert "zorblax" in custom.entries["substance"] and custom.sha256 != RULES.sha256
