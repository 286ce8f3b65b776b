"""The learned claim decision: weights as validated data, features, training and honest folds.

Every sentence here was written for these tests.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from core.document import Block, Document
from pipeline.claims import default_rules, score_document
from pipeline.claims.article import analyse_document
from pipeline.claims.evaluation import cross_validate
from pipeline.claims.features import is_candidate, slotted
from pipeline.claims.learned import (
    FORMAT,
    Head,
    LinearModel,
    ModelError,
    default_model,
    load_model,
    parse_model,
)
from pipeline.claims.matcher import analyse
from pipeline.claims.training import examples_of, group_folds, train
from pipeline.claims.units import UnitFileError, by_article, parse_units, read_units, rebuild

RULES = default_rules()

# Invented articles: a vendor page that makes claims, and a news page that reports them.
PROMO = [
    ("heading", "Why our kava calms anxiety", True, ["disease_treatment"]),
    ("sentence", "Our kava capsules relieve anxiety within days.", True, ["disease_treatment"]),
    ("sentence", "They are completely safe with no side effects.", True, ["safety_assurance"]),
    ("sentence", "Order today and get free shipping.", False, []),
    ("sentence", "Take two capsules before bed for best results.", True, ["dosage_advice"]),
]
NEWS = [
    ("heading", "Regulators question kava sellers", False, []),
    (
        "sentence",
        "Some sellers claim that kava cures anxiety, but there is no evidence.",
        False,
        [],
    ),
    ("sentence", "The agency warned three companies last spring.", False, []),
    ("sentence", "Doctors say kava is not a treatment for anxiety.", False, []),
]


def unit_rows(prefix: str, count: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for number in range(count):
        for article, template in (("p", PROMO), ("n", NEWS)):
            for index, (kind, text, risky, categories) in enumerate(template):
                rows.append(
                    {
                        "article_id": f"{prefix}{article}{number}",
                        "sentence_index": index,
                        "sentence": text.replace(
                            "kava", ["kava", "valerian", "ashwagandha"][number % 3]
                        ),
                        "unit_type": kind,
                        "risky": risky,
                        "categories": categories,
                        "mentions": ["cure claim"] if not risky and "claim" in text else [],
                        "batch": "written",
                    }
                )
    return rows


def as_lines(rows: list[dict[str, object]]) -> list[str]:
    return [json.dumps(row) for row in rows]


def model_bytes(**overrides: object) -> bytes:
    data: dict[str, object] = {
        "format": FORMAT,
        "intercept": -1.0,
        "threshold": 0.5,
        "weights": {"kept": 3.0, "drop:negated": -2.0},
    }
    data.update(overrides)
    return json.dumps(data).encode()


# --- the weights file ------------------------------------------------------------------------


def test_model_file_is_validated_with_the_source_and_key_named() -> None:
    with pytest.raises(ModelError, match=r"w\.json: not valid JSON"):
        parse_model(b"{", "w.json")
    with pytest.raises(ModelError, match="format must be"):
        parse_model(model_bytes(format="pickle"), "w.json")
    with pytest.raises(ModelError, match=r"weights\['kept'\]: must be a finite number"):
        parse_model(model_bytes(weights={"kept": "high"}), "w.json")
    with pytest.raises(ModelError, match="threshold must be a number in"):
        parse_model(model_bytes(threshold=1.5), "w.json")
    with pytest.raises(ModelError, match=r"categories\.x\.intercept"):
        parse_model(model_bytes(categories={"x": {"weights": {}}}), "w.json")


def test_model_hash_is_the_files_sha256_and_the_decision_is_logistic(tmp_path: Path) -> None:
    raw = model_bytes()
    path = tmp_path / "w.json"
    path.write_bytes(raw)
    model = load_model(path)
    assert model.sha256 == hashlib.sha256(raw).hexdigest()
    assert model.confidence({"kept": 1.0}) == pytest.approx(1 / (1 + 2.718281828**-2.0), 1e-6)
    assert model.confidence({}) < 0.5 < model.confidence({"kept": 1.0})
    assert model.explain({"kept": 1.0, "drop:negated": 1.0, "unknown": 1.0}) == [
        ("kept", 3.0),
        ("drop:negated", -2.0),
    ]
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / "missing.json")


def test_shipped_model_loads_and_round_trips() -> None:
    model = default_model()
    assert not model.passthrough, "the package ships weights"
    assert len(model.sha256) == 64
    assert model.trained["rules_sha256"] == RULES.sha256, (
        "the shipped weights were fitted on other rules: rebuild them with "
        "claimwatch model train --data ../shared/eval/claims_dev.jsonl"
    )
    again = parse_model(model.dumps().encode(), "copy")
    assert again.head == model.head and again.threshold == model.threshold


# --- scoring with the model ------------------------------------------------------------------


def doc(*texts: str) -> Document:
    return Document(blocks=tuple(Block("paragraph", text) for text in texts))


def test_rules_only_keeps_the_rules_verdict() -> None:
    document = doc("Our turmeric capsules cure arthritis.", "The weather was fine.")
    score = score_document(document, RULES, LinearModel.rules_only())
    assert [c.sentence for c in score.claims] == ["Our turmeric capsules cure arthritis."]
    assert score.claims[0].confidence is None and score.model_sha256 == ""


def test_a_model_can_overrule_the_rules_both_ways() -> None:
    document = doc("Our turmeric capsules cure arthritis.")
    never = LinearModel(Head(-10.0, {}), threshold=0.5, sha256="x" * 64)
    assert score_document(document, RULES, never).claims == ()
    results = analyse_document(document, RULES, never)
    assert ("disease.treats_condition", "model") in results[0].judgement.dropped or any(
        reason == "model" for _, reason in results[0].judgement.dropped
    )
    always = LinearModel(
        Head(10.0, {}), threshold=0.5, categories={"safety_assurance": Head(5.0, {})}
    )
    plain = doc("Sleep quality and ashwagandha were compared in the trial arm.")
    claims = score_document(plain, RULES, always).claims
    assert claims and claims[0].context == "model" and claims[0].confidence == 1.0


def test_shipped_model_adds_confidence_and_features_to_claims() -> None:
    document = doc(
        "Our kratom capsules cure opioid withdrawal in three days.",
        "Buy now and use code SAVE for a discount.",
    )
    score = score_document(document, RULES)
    assert score.model_sha256 == default_model().sha256
    assert score.claims, "a plain disease claim on a vendor page is flagged"
    claim = score.claims[0].as_json()
    assert 0.0 <= claim["confidence"] <= 1.0
    assert claim["features"] and {"feature", "weight"} <= set(claim["features"][0])


# --- features --------------------------------------------------------------------------------


def test_slots_make_ngrams_topic_free() -> None:
    one = slotted(analyse("Kava eases anxiety quickly.", RULES))
    two = slotted(analyse("Valerian eases insomnia quickly.", RULES))
    assert one == two
    assert "<substance>" in one and "<condition>" in one


def test_candidates_need_claim_vocabulary() -> None:
    assert is_candidate(analyse("Turmeric is a yellow root.", RULES), False)
    assert not is_candidate(analyse("The council met on Tuesday evening.", RULES), False)
    assert not is_candidate(analyse("Prices will stop rising soon.", RULES), False)


def features_of(*texts: str) -> dict[str, float]:
    never = LinearModel(Head(-10.0, {}), threshold=0.5)
    results = analyse_document(doc(*texts), RULES, never)
    return results[-1].features


def test_negation_scope_is_measured_by_clause() -> None:
    near = features_of("Kava does not cure anxiety.")
    assert "scope:negation:before" in near
    apart = features_of("Nothing worked for me, but kava cures anxiety.")
    assert "scope:negation:apart" in apart and "scope:negation:before" not in apart


def test_fronted_concessive_clause_holds_the_claim_words() -> None:
    features = features_of("Although kava may ease anxiety, the evidence is thin.")
    assert features.get("front:concessive_core") == 1.0


def test_page_voice_is_a_feature_of_every_unit() -> None:
    reportive = features_of(
        "Sellers claim that kava cures anxiety.",
        "Users report that kava helps with insomnia.",
        "Kava eases anxiety.",
    )
    promotional = features_of("Kava eases anxiety.")
    assert reportive["voice:reportive"] > promotional["voice:reportive"]


# --- unit files ------------------------------------------------------------------------------


def test_unit_files_name_the_line_and_key(tmp_path: Path) -> None:
    with pytest.raises(UnitFileError, match=r"u.jsonl:2: missing key 'risky'"):
        parse_units(['{"article_id":"a","sentence_index":0,"sentence":"x","risky":false}',
                     '{"article_id":"a","sentence_index":1,"sentence":"y"}'], "u.jsonl")  # fmt: skip
    with pytest.raises(UnitFileError, match=r"'sentence_index' has the wrong type"):
        parse_units(['{"article_id":"a","sentence_index":"0","sentence":"x","risky":true}'], "u")
    with pytest.raises(UnitFileError, match="unit_type"):
        parse_units(
            ['{"article_id":"a","sentence_index":0,"sentence":"x","risky":true,"unit_type":"x"}'],
            "u",
        )
    with pytest.raises(UnitFileError, match="no units"):
        parse_units([], "u")
    with pytest.raises(UnitFileError, match="cannot read"):
        read_units(tmp_path / "none.jsonl")


def test_rebuilt_articles_keep_each_units_text_in_place() -> None:
    units = parse_units(as_lines(unit_rows("a", 1)), "mem")
    for article in by_article(units).values():
        document, spans = rebuild(article)
        for span in spans:
            assert document.text[span.start : span.end] == span.unit.text.lstrip("-• ")


# --- training --------------------------------------------------------------------------------


def test_folds_never_share_an_article() -> None:
    groups = [f"a{i % 11}" for i in range(200)]
    folds = group_folds(groups, 5, seed=3)
    assert len(folds) == 5
    assert set().union(*folds) == set(groups)
    for i, one in enumerate(folds):
        for other in folds[i + 1 :]:
            assert not one & other


def test_training_is_seeded_and_stores_no_sentence(tmp_path: Path) -> None:
    units = parse_units(as_lines(unit_rows("t", 6)), "mem")
    first = train(units, RULES, seed=5)
    second = train(units, RULES, seed=5)
    assert first.dumps() == second.dumps()
    names = set(first.head.weights)
    for unit in units:
        assert not any(unit.text.casefold() in name for name in names if len(unit.text) > 25)
    assert all(name.count(" ") <= 2 for name in names if name.startswith("ng:"))
    path = tmp_path / "w.json"
    path.write_text(first.dumps())
    model = load_model(path)
    promo = score_document(rebuild(by_article(units)["tp0"])[0], RULES, model)
    news = score_document(rebuild(by_article(units)["tn0"])[0], RULES, model)
    assert len(promo.claims) > len(news.claims)


def test_cross_validation_scores_each_article_with_a_model_that_never_saw_it() -> None:
    units = parse_units(as_lines(unit_rows("c", 6)), "mem")
    evaluation, models = cross_validate(units, RULES, folds=3, seed=1)
    assert len(models) == 3 and evaluation.folds == 3
    assert len(evaluation.predictions) == len(units)
    assert evaluation.overall.tp + evaluation.overall.fn == sum(u.risky for u in units)
    examples = examples_of(by_article(units), RULES)
    assert {e.article for e in examples} <= {u.article_id for u in units}
    assert set(evaluation.by_batch) == {"written"}


# --- the shipped model on plain cases (a floor, not a benchmark: see bench/claims_quality.py) --

VENDOR_CLAIMS = [
    "Our elderberry syrup cures the flu in two days.",
    "These turmeric capsules reverse arthritis without any side effects.",
    "Stop taking your blood pressure pills: our garlic extract works better.",
    "Ashwagandha gummies treat anxiety and depression naturally.",
    "Give two drops of our CBD oil to your toddler every night for seizures.",
    "This herbal tea shrinks tumors and kills cancer cells.",
]
NEWS_MENTIONS = [
    "Regulators said there is no evidence that elderberry syrup cures the flu.",
    "The agency warned sellers who claimed turmeric capsules reverse arthritis.",
    "Doctors cautioned that garlic extract is not a substitute for blood pressure medication.",
]


def test_shipped_model_flags_plain_vendor_claims_and_not_reported_ones() -> None:
    vendor = doc(*VENDOR_CLAIMS, "Order today with free shipping.")
    flagged = {c.sentence for c in score_document(vendor, RULES).claims}
    assert len(flagged & set(VENDOR_CLAIMS)) >= 5, flagged
    news = doc(*NEWS_MENTIONS)
    assert score_document(news, RULES).claims == ()


# --- the fast scoring path: the same outputs as the full feature list --------------------------

FAST_PAGE = Document(
    blocks=(
        Block("heading", "Is our kava safe for kids?"),
        Block(
            "paragraph",
            "Yes! Our kava capsules relieve anxiety and insomnia within days, and they are "
            "completely safe with no side effects. Although it may ease joint pain, doctors say "
            "kava is not a treatment for arthritis. Users say turmeric reverses diabetes.",
        ),
        Block("list_item", "Take two capsules before bed for best results."),
        Block("list_item", "Kratom eases opioid withdrawal in three days; you can stop methadone."),
        Block("heading", "What the agency said"),
        Block(
            "paragraph",
            "Regulators warned sellers who claimed that elderberry syrup cures the flu. The "
            "agency found no evidence that ashwagandha treats thyroid disease, and a study of "
            "garlic extract showed no effect on blood pressure. We ship every order within two "
            "working days; buy now and save 20% with a coupon on your first order of CBD oil.",
        ),
        Block("quote", "This herbal tea shrinks tumors and kills cancer cells, x² times faster."),
        Block("paragraph", "It is ½ the price of a pharmacy remedy and replaces insulin for many."),
    )
)


def test_scoring_builds_only_the_ngrams_the_model_weighs_and_scores_the_same() -> None:
    from dataclasses import replace

    model = default_model()
    every = replace(model, every_ngram=True, _cache={})
    vocabulary = model.ngram_vocabulary()
    assert vocabulary is not None and every.ngram_vocabulary() is None
    fast = analyse_document(FAST_PAGE, RULES, model)
    full = analyse_document(FAST_PAGE, RULES, every)
    assert sum(r.confidence is not None for r in fast) >= 8
    for one, two in zip(fast, full, strict=True):
        assert one.confidence == two.confidence
        assert one.claim == two.claim
        # the same features, less the n-grams no head weighs, in the same order
        known = [n for n in two.features if not n.startswith("ng:") or n in vocabulary.names]
        assert list(one.features) == known
        assert [one.features[n] for n in known] == [two.features[n] for n in known]
    assert score_document(FAST_PAGE, RULES, model) == score_document(FAST_PAGE, RULES, every)
    assert any(claim.features for claim in score_document(FAST_PAGE, RULES, model).claims)


def test_ngram_vocabulary_keeps_the_full_lists_order_and_repeats() -> None:
    from pipeline.claims.features import GramVocabulary, grams_of

    sentence = analyse("Kava eases anxiety, and kava eases anxiety again, kava eases pain?", RULES)
    full = grams_of(sentence, "ng:")
    # a trigram without its bigram, a bigram and a unigram that repeat, a gram never seen
    names = ["ng:<substance> eases <condition>", "ng:and <substance>", "ng:,", "ng:eases", "ng:zz"]
    vocabulary = GramVocabulary.of(names)
    assert vocabulary.known(sentence) == [name for name in full if name in names]
    assert vocabulary.known(sentence).count("ng:,") == 2
    assert GramVocabulary.of(["kept", "ng:a b c d", "ng:"]).known(sentence) == []


def test_a_model_without_weights_reads_every_feature() -> None:
    assert LinearModel(Head(-10.0, {})).ngram_vocabulary() is None
    features = features_of("Kava eases anxiety quickly.")
    assert "ng:<substance> eases <condition>" in features
