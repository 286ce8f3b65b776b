"""Context, not keywords: negation, rebuttal, attribution, questions, hedges, product context.

These test the rules' context logic (pipeline/claims/judge.py), so documents are scored with the
rules alone; the learned decision over them is tested in test_claims_learned.py.
Every sentence here was written for these tests.
"""

from __future__ import annotations

import pytest

from core.document import Block, Document, from_text
from pipeline.claims import ArticleScore, RuleSet, default_rules, explain
from pipeline.claims import score_document as score_with
from pipeline.claims.explain import rules_fired
from pipeline.claims.learned import LinearModel

RULES = default_rules()


def score_document(document: Document, rules: RuleSet) -> ArticleScore:
    return score_with(document, rules, LinearModel.rules_only())


def claims_of(sentence: str) -> set[str]:
    return rules_fired(sentence, RULES)[0]


def only_claim(text: str) -> dict[str, object]:
    score = score_document(Document(blocks=(Block("paragraph", text),)), RULES)
    assert len(score.claims) == 1, [c.sentence for c in score.claims]
    return score.claims[0].as_json()


@pytest.mark.parametrize(
    "sentence",
    [
        "Kratom does not treat opioid withdrawal.",
        "Kava is not a cure for anxiety.",
        "CBD never cures cancer, whatever the packaging says.",
        "There is no evidence that kratom eases opioid withdrawal.",
        "No good evidence shows that ashwagandha can treat hypothyroidism.",
        "Lion's mane has not been proven to prevent dementia.",
        "It is unclear whether delta-8 relieves chronic pain.",
        "The FDA warns that kratom is marketed as a treatment for addiction.",
        "Warning letters said the sellers promoted kava for anxiety.",
        "The company claims that its CBD oil reverses arthritis.",
        "Treat any label that promises to cure diabetes as a red flag.",
        "Experts dispute that kratom is a safe alternative to methadone.",
    ],
)
def test_negated_rebutted_and_reported_sentences_are_not_claims(sentence: str) -> None:
    assert claims_of(sentence) == set()


@pytest.mark.parametrize(
    "sentence",
    [
        "Some users say kratom eases their back pain.",
        "Many people believe CBD helps with insomnia.",
        "Online reviews claim kava cured their panic attacks.",
        "Sellers describe delta-8 as a natural painkiller.",
        "In folk medicine, kava was chewed to calm anxiety.",
    ],
)
def test_attributed_claims_without_endorsement_are_reports(sentence: str) -> None:
    assert claims_of(sentence) == set()


def test_endorsed_attribution_is_a_mitigated_claim() -> None:
    claim = only_claim("Users swear kava calms anxiety, and we recommend it to everyone.")
    assert "attributed" in claim["mitigators"]  # type: ignore[operator]
    plain = only_claim("Kava calms anxiety, and we recommend it to everyone.")
    assert claim["score"] < plain["score"]  # type: ignore[operator]


def test_rebuttal_next_door_clears_an_attributed_claim() -> None:
    doc = Document(
        blocks=(
            Block(
                "paragraph",
                "Some vendors swear kratom treats withdrawal, and you can definitely use it. "
                "But there is no evidence for that.",
            ),
        )
    )
    assert score_document(doc, RULES).claims == ()


@pytest.mark.parametrize(
    "sentence",
    [
        "Does kratom help with opioid withdrawal?",
        "Can CBD oil cure anxiety?",
        "Is kava a safe alternative to Xanax?",
        "Exploring kratom: does it ease withdrawal?",
    ],
)
def test_genuine_questions_are_not_claims(sentence: str) -> None:
    assert claims_of(sentence) == set()


def test_teaser_question_is_a_mitigated_claim() -> None:
    claim = only_claim("Arthritis relief with our turmeric capsules, at last?")
    assert "rhetorical_question" in claim["mitigators"]  # type: ignore[operator]


def test_hedges_mitigate_but_do_not_clear_a_disease_claim() -> None:
    hedged = only_claim("Kratom may help ease opioid withdrawal symptoms.")
    plain = only_claim("Kratom eases opioid withdrawal symptoms.")
    assert hedged["hedged"] is True and plain["hedged"] is False
    assert "hedged" in hedged["mitigators"]  # type: ignore[operator]
    assert 0 < hedged["score"] < plain["score"]  # type: ignore[operator]
    assert hedged["categories"] == ["disease_treatment"]


def test_structure_function_statements_are_not_disease_claims() -> None:
    assert claims_of("Ashwagandha supports a normal response to everyday stress.") == set()
    assert claims_of("Reishi helps you relax and supports restful sleep.") == set()
    assert claims_of("Reishi helps with occasional sleeplessness.") == set()
    assert claims_of("Reishi cures insomnia.") == {"disease.treats_condition", "disease.cure_word"}


def test_no_product_context_no_claim() -> None:
    assert claims_of("Regular walking reduces anxiety and lowers blood pressure.") == set()
    assert claims_of("Buprenorphine relieves opioid withdrawal within hours.") == set()


@pytest.mark.parametrize(
    ("sentence", "context"),
    [
        ("This product reverses type 2 diabetes in weeks.", "product"),
        ("Our formula fights viral infections.", "product"),
        ("Relieves arthritis pain and stiffness.", "implicit_subject"),
        ("GlowCalm drops soothe eczema overnight.", "product"),
        ("Kratom relieves chronic pain.", "sentence"),
    ],
)
def test_product_context_without_a_substance_name(sentence: str, context: str) -> None:
    claim = only_claim(sentence)
    assert claim["context"] == context


def test_article_subject_and_heading_give_context_to_pronoun_sentences() -> None:
    text = "\n".join(
        [
            "Kratom has become popular in our town, and kratom shops are everywhere.",
            "It eases opioid withdrawal, according to the shop owner's own blog, we hear.",
            "Kava and sleep",
            "It knocks out insomnia in a single night.",
        ]
    )
    score = score_document(from_text(text), RULES)
    by_sentence = {c.sentence: c for c in score.claims}
    knock = by_sentence["It knocks out insomnia in a single night."]
    assert (knock.context, knock.substance) == ("heading", "kava")
    assert all(c.substance in {"kratom", "kava"} for c in score.claims)


def test_agent_other_than_the_product_blocks_subject_context() -> None:
    text = "\n".join(
        [
            "Kratom shops are spreading. Kratom is sold in gas stations.",
            "Meditation reduces anxiety for many people.",
            "Buprenorphine treats opioid withdrawal.",
        ]
    )
    assert score_document(from_text(text), RULES).claims == ()


def test_headings_and_toc_items_are_implied_claims() -> None:
    text = "\n".join(
        [
            "Kratom is a leaf from Southeast Asia that has a long history of use.",
            "- How Kratom Eases Opioid Withdrawal",
            "- Choosing a Strain",
            "How Kratom Eases Opioid Withdrawal",
            "Many people find the leaf bitter, so they mix it with juice.",
            "Choosing a Strain",
            "Strains differ in colour and aroma.",
        ]
    )
    score = score_document(from_text(text), RULES)
    implied = [c for c in score.claims if c.implied]
    assert [c.sentence for c in implied] == ["How Kratom Eases Opioid Withdrawal"] * 2
    assert all("disease_treatment" in c.categories for c in implied)


def test_warning_sections_suppress_claims_under_them() -> None:
    text = "\n".join(
        [
            "Ashwagandha is an herb many people take for stress and it is common in shops.",
            "What to watch for",
            "- It may lower blood sugar in people with diabetes.",
            "- It can add to the effect of sedatives.",
        ]
    )
    assert score_document(from_text(text), RULES).claims == ()


def test_caused_conditions_are_harms_not_targets() -> None:
    assert claims_of("Kratom withdrawal can last for weeks after the last dose.") == set()
    assert claims_of("People who use kava daily may develop liver disease.") == set()
    assert claims_of("Ginkgo blocks the plaques that lead to dementia.") != set()


def test_vulnerable_group_aggravates_and_escalates() -> None:
    claim = only_claim("Give your child our CBD gummies to treat ADHD.")
    assert "vulnerable_groups" in claim["categories"]  # type: ignore[operator]
    assert "vulnerable" in claim["aggravators"]  # type: ignore[operator]
    assert claim["escalations"] == ["children"]
    assert claims_of("Keep CBD gummies out of reach of children.") == set()


def test_escalations_for_opioids_cancer_covid_and_insulin() -> None:
    assert only_claim("Kratom ends opioid withdrawal for good.")["escalations"] == [
        "opioid_addiction_withdrawal"
    ]
    assert only_claim("Graviola kills cancer cells.")["escalations"] == ["cancer"]
    assert only_claim("Our elderberry formula prevents COVID-19.")["escalations"] == ["covid"]
    insulin = only_claim("Bitter melon capsules can replace insulin for diabetics.")
    assert "insulin" in insulin["escalations"]  # type: ignore[operator]


def test_disclaimer_is_recorded_and_does_not_lower_a_disease_claim() -> None:
    text = "\n".join(
        [
            "Our chaga extract shrinks tumors.",
            "These statements have not been evaluated by the Food and Drug Administration. "
            "This product is not intended to diagnose, treat, cure, or prevent any disease.",
        ]
    )
    score = score_document(from_text(text), RULES)
    assert len(score.claims) == 1  # the disclaimer itself is negated, not a claim
    claim = score.claims[0]
    assert "disclaimer" in claim.mitigators
    alone = only_claim("Our chaga extract shrinks tumors.")
    assert claim.score == alone["score"]


def test_criterion_is_cited() -> None:
    claim = only_claim("Kava works like Xanax without the fog.")
    assert claim["criterion"] == ["21 CFR 101.93(g)(2)(vi)"]
    antiviral = only_claim("Our elderberry syrup is a powerful antiviral.")
    assert "21 CFR 101.93(g)(2)(v)" in antiviral["criterion"]  # type: ignore[operator]


def test_explain_shows_rules_reasons_and_score() -> None:
    text = explain("Kratom does not treat opioid withdrawal.", RULES)
    assert "disease.treats_condition" in text and "set aside: negated" in text
    assert "not a claim" in text
    text = explain("Kratom may help ease opioid withdrawal.", RULES)
    assert "CLAIM score" in text and "hedged x0.9" in text and "unlawful x1.3" in text
    assert "21 CFR 101.93(g)(2)(i)" in text
    assert "no rule fired" in explain("The council met on Tuesday.", RULES)
    assert explain("", RULES) == "(no text)"
