"""The learned template score (pipeline/dedup/template.py, template_model.py, fit.py): variants of a
template article that the echo requirement used to miss, the weights file and its validation, and
that no single piece of evidence is required or enough.

The variants are cut from tests/dedup_texts.py's elderberry article (written for the tests).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.document import Document, from_text
from pipeline.dedup.fit import fit, out_of_fold
from pipeline.dedup.seeds import load_families
from pipeline.dedup.template import MATCH_THRESHOLD, Family, TemplateMatcher
from pipeline.dedup.template_model import (
    DEFAULT_WEIGHTS_PATH,
    FEATURES,
    TemplateModelError,
    default_model,
    load_model,
)
from tests.conftest import ROOT
from tests.dedup_texts import (
    ELDERBERRY_CONCLUSION,
    ELDERBERRY_HEADINGS,
    ELDERBERRY_INTRO,
    ELDERBERRY_SECTIONS,
    ELDERBERRY_SUMMARY,
    MEDICAL_TEXT,
    NEWS_TEXT,
    VENDOR_SHORT_TEXT,
    VENDOR_TEXT,
)

SEED_FAMILIES = load_families([ROOT / "seeds"])
FAMILY = next(iter(SEED_FAMILIES))


@pytest.fixture(scope="module")
def matcher() -> TemplateMatcher:
    return TemplateMatcher([Family.learn(name, seeds) for name, seeds in SEED_FAMILIES.items()])


def sections(suffix: str = "") -> list[str]:
    return [line for h, ps in ELDERBERRY_SECTIONS for line in [h + suffix, *ps]]


def excerpt(lines: list[str]) -> Document:
    return replace(from_text("\n".join(lines)), meta={"excerpt": True})


VARIANTS = {
    # the excerpt stops inside the first list item: no echo to check, no item length to measure
    "cut-in-the-first-item": lambda: excerpt(
        [ELDERBERRY_SUMMARY, ELDERBERRY_INTRO, "- " + ELDERBERRY_HEADINGS[0][:18]]
    ),
    # no summary and no intro: the page opens with the list, which its headings repeat
    "opens-with-the-list": lambda: from_text(
        "\n".join([*(f"- {h}" for h in ELDERBERRY_HEADINGS), *sections(), ELDERBERRY_CONCLUSION])
    ),
    # headings that end in a colon read as paragraphs in the text format; the echo still counts
    "headings-with-colons": lambda: from_text(
        "\n".join(
            [
                ELDERBERRY_SUMMARY,
                ELDERBERRY_INTRO,
                *(f"- {h}:" for h in ELDERBERRY_HEADINGS),
                *sections(":"),
            ]
        )
    ),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_template_variants_without_a_checked_echo_still_match(
    matcher: TemplateMatcher, name: str
) -> None:
    result = matcher.match(VARIANTS[name]())
    assert result.match and result.family == FAMILY, result
    assert result.score >= MATCH_THRESHOLD
    assert set(result.features) == set(FEATURES)
    assert all(0.0 <= v <= 1.0 for v in result.features.values())


def test_the_cut_list_is_explained_and_needs_the_excerpt_mark(matcher: TemplateMatcher) -> None:
    cut = VARIANTS["cut-in-the-first-item"]()
    result = matcher.match(cut)
    assert result.features["toc_cut"] == 1.0 and result.features["toc_echo"] == 0.0
    assert any("cut short" in line for line in result.evidence)
    whole = matcher.match(replace(cut, meta={}))  # a whole page that ends in a list: just a list
    assert whole.features["toc"] == 0.0 and whole.score < result.score


def test_the_echo_through_colon_headings_is_evidence(matcher: TemplateMatcher) -> None:
    result = matcher.match(VARIANTS["headings-with-colons"]())
    assert result.features["toc_echo"] == 1.0 and result.features["toc_coverage"] == 1.0
    assert any("3 of 3 list items come back as headings" in line for line in result.evidence)


@pytest.mark.parametrize("text", [NEWS_TEXT, MEDICAL_TEXT, VENDOR_TEXT])
def test_ordinary_pages_stay_below_the_threshold_as_excerpts_too(
    matcher: TemplateMatcher, text: str
) -> None:
    for document in (from_text(text), replace(from_text(text), meta={"excerpt": True})):
        result = matcher.match(document)
        assert not result.match and result.score < MATCH_THRESHOLD, result


@pytest.mark.xfail(
    strict=True,
    reason="known limit, as before (the old score gave it 0.61): marked as an excerpt, a short "
    "product page that ends in its 3-item feature list looks like a page cut inside its contents "
    "list (0.73); crawled pages are never excerpts",
)
def test_a_short_product_page_marked_as_an_excerpt_does_not_match(matcher: TemplateMatcher) -> None:
    document = replace(from_text(VENDOR_SHORT_TEXT), meta={"excerpt": True})
    assert not matcher.match(document).match


def test_a_feature_list_at_the_end_of_a_product_page_is_not_a_table_of_contents(
    matcher: TemplateMatcher,
) -> None:
    result = matcher.match(from_text(VENDOR_SHORT_TEXT))
    assert result.features["toc"] == 0.0 and result.features["toc_size"] == 0.0
    assert "no table of contents near the top" in result.evidence


def test_overlapping_stock_phrases_count_once() -> None:
    family = Family.learn(FAMILY, SEED_FAMILIES[FAMILY])
    found = family._found("We suggest you start with a low dose and see how it goes.")
    assert found == ["start with a low dose"]
    assert family._found("It is one of the best.") == []  # a generic 3-gram is no evidence


# --- no single requirement, no single proof ----------------------------------------------------


def test_no_single_feature_is_required_and_none_is_enough() -> None:
    model = default_model()
    everything = dict.fromkeys(FEATURES, 1.0)
    assert model.probability(everything) >= MATCH_THRESHOLD
    for name in FEATURES:
        assert model.probability({**everything, name: 0.0}) >= MATCH_THRESHOLD, name
        assert model.probability({name: 1.0}) < MATCH_THRESHOLD, name
    assert model.probability({}) < 0.01


def test_every_weight_is_evidence_for_the_template() -> None:
    """No fitted weight is clearly negative: a feature that is there never counts much against the
    template."""
    model = default_model()
    assert all(w > -0.5 for w in model.weights.values()), model.weights
    assert model.weights["toc_echo"] > 0.5 and model.weights["opening"] > 0.5


# --- the weights file ---------------------------------------------------------------------------


def test_the_shipped_weights_load_with_their_hash() -> None:
    model = load_model(DEFAULT_WEIGHTS_PATH)
    assert model.sha256 == hashlib.sha256(DEFAULT_WEIGHTS_PATH.read_bytes()).hexdigest()
    assert set(model.weights) == set(FEATURES)
    assert model.trained["rows"] > 0 and model.trained["positives"] > 0
    assert model.trained["threshold"] == MATCH_THRESHOLD
    assert default_model() == model


def shipped() -> dict[str, object]:
    raw: dict[str, object] = json.loads(DEFAULT_WEIGHTS_PATH.read_text(encoding="utf-8"))
    return raw


def with_weights(**changes: object) -> dict[str, object]:
    raw = shipped()
    weights = dict(raw["weights"])  # type: ignore[call-overload]
    weights.update(changes)
    return {**raw, "weights": {k: v for k, v in weights.items() if v is not None}}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("[]", "expected a JSON object", id="not-an-object"),
        pytest.param("{", "not JSON", id="not-json"),
        pytest.param({**shipped(), "format": "other/1"}, "format must be", id="format"),
        pytest.param({**shipped(), "extra": 1}, "unknown keys", id="unknown-key"),
        pytest.param(with_weights(shout=1.0), "unknown features", id="unknown-feature"),
        pytest.param(with_weights(toc=None), "missing features", id="missing-feature"),
        pytest.param(with_weights(toc="high"), "toc must be a number", id="not-a-number"),
        pytest.param(with_weights(toc=True), "toc must be a number", id="a-bool"),
        pytest.param({**shipped(), "intercept": None}, "intercept must be", id="no-intercept"),
    ],
)
def test_a_bad_weights_file_names_the_file_and_the_problem(
    tmp_path: Path, raw: object, message: str
) -> None:
    path = tmp_path / "weights.json"
    path.write_text(raw if isinstance(raw, str) else json.dumps(raw), encoding="utf-8")
    with pytest.raises(TemplateModelError, match=message) as caught:
        load_model(path)
    assert str(path) in str(caught.value)


def test_a_non_finite_weight_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(with_weights(toc=1.0)).replace("1.0", "NaN", 1), encoding="utf-8")
    with pytest.raises(TemplateModelError, match="finite"):
        load_model(path)


# --- fitting ------------------------------------------------------------------------------------


def synthetic() -> tuple[list[dict[str, float]], list[bool], list[str]]:
    rows: list[dict[str, float]] = []
    labels: list[bool] = []
    for i in range(40):
        positive = i % 4 == 0
        rows.append({"toc_echo": float(positive), "opening": float(positive or i % 3 == 0)})
        labels.append(positive)
    return rows, labels, [f"article-{i}" for i in range(40)]


def test_fit_learns_the_evidence_and_round_trips_as_json(tmp_path: Path) -> None:
    rows, labels, _ = synthetic()
    model = fit(rows, labels, c=1.0, trained={"data": "synthetic"})
    assert model.weights["toc_echo"] > model.weights["opening"] > -0.1
    assert model.probability({"toc_echo": 1.0, "opening": 1.0}) > 0.5 > model.probability({})
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(model.as_json()), encoding="utf-8")
    loaded = load_model(path)
    assert loaded.weights == model.weights and loaded.trained["data"] == "synthetic"
    with pytest.raises(ValueError, match="both"):
        fit(rows, [True] * len(rows))


def test_out_of_fold_scores_every_row_from_a_model_fitted_without_it() -> None:
    rows, labels, groups = synthetic()
    scores = out_of_fold(rows, labels, groups, folds=4, seed=1)
    assert len(scores) == len(rows)
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    assert min(positives) > max(negatives)
