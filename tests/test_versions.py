"""pipeline/versions.py: the diff of claims between two versions of an article."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.versions import claim_snapshot, diff_claims, similarity


def claim(sentence: str, *categories: str, rules: tuple[str, ...] = ("r1",)) -> dict[str, Any]:
    return {"sentence": sentence, "categories": list(categories), "rules": list(rules)}


CURES = claim("Turmeric cures arthritis for good.", "disease_treatment", rules=("cure",))
DIABETES = claim("It reverses diabetes without insulin.", "medical_substitution", rules=("sub",))
DOSE = claim("Take 3 grams a day.", "dosage_advice", rules=("dose",))


def test_same_claims_is_no_change() -> None:
    moved = claim("  Turmeric cures   arthritis for good. ", "disease_treatment", rules=("cure",))
    diff = diff_claims([CURES, DIABETES], [DIABETES, moved])
    assert (diff.added, diff.removed, diff.reworded, diff.kept) == ((), (), (), 2)
    assert not diff.changed


def test_added_and_removed() -> None:
    diff = diff_claims([CURES, DIABETES], [CURES, DOSE])
    assert [c["sentence"] for c in diff.removed] == [DIABETES["sentence"]]
    assert [c["sentence"] for c in diff.added] == [DOSE["sentence"]]
    assert diff.reworded == () and diff.kept == 1 and diff.changed


def test_reworded_needs_a_shared_category_or_rule_and_similar_words() -> None:
    softer = claim("Turmeric cures arthritis for most people.", "disease_treatment", rules=("x",))
    diff = diff_claims([CURES], [softer])
    assert [(r.old["sentence"], r.new["sentence"]) for r in diff.reworded] == [
        (CURES["sentence"], softer["sentence"])
    ]
    assert diff.added == () and diff.removed == ()
    assert diff.reworded[0].similarity >= 0.6
    # the same words under an unrelated category and rule are a removal and an addition
    unrelated = claim("Turmeric cures arthritis for most people.", "dosage_advice", rules=("y",))
    other = diff_claims([CURES], [unrelated])
    assert other.reworded == () and len(other.removed) == 1 and len(other.added) == 1
    # a shared rule is enough
    by_rule = claim("Turmeric cures arthritis for most people.", "dosage_advice", rules=("cure",))
    assert len(diff_claims([CURES], [by_rule]).reworded) == 1


def test_dissimilar_sentences_are_not_reworded() -> None:
    different = claim("Ginger heals every joint overnight.", "disease_treatment", rules=("cure",))
    diff = diff_claims([CURES], [different])
    assert similarity(CURES["sentence"], different["sentence"]) < 0.6
    assert diff.reworded == () and len(diff.removed) == 1 and len(diff.added) == 1


def test_each_claim_is_paired_once_most_similar_first() -> None:
    near = claim("Turmeric cures arthritis for good, they say.", "disease_treatment")
    nearer = claim("Turmeric cures arthritis for good!", "disease_treatment")
    diff = diff_claims([CURES], [near, nearer])
    assert [r.new["sentence"] for r in diff.reworded] == [nearer["sentence"]]
    assert [c["sentence"] for c in diff.added] == [near["sentence"]]


def test_threshold_is_checked_and_used() -> None:
    softer = claim("Turmeric cures arthritis for most people.", "disease_treatment")
    assert diff_claims([CURES], [softer], threshold=0.95).reworded == ()
    with pytest.raises(ValueError, match=r"threshold must be in \[0.0, 1.0\]"):
        diff_claims([], [], threshold=1.5)


def test_snapshot_keeps_the_claim_fields_only() -> None:
    data = {**CURES, "score": 61.0, "severity": "serious", "features": [1, 2], "start": 0}
    snap = claim_snapshot(data)
    assert snap["sentence"] == CURES["sentence"] and snap["score"] == 61.0
    assert "features" not in snap and snap["substance"] is None
