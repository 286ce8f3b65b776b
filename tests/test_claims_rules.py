"""The rule file: every rule's examples, and the loader's validation with precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.claims import DEFAULT_RULES_PATH, RuleError, check_rules, default_rules, load_rules
from pipeline.claims.explain import rules_fired

RULES = default_rules()
EXAMPLES = [
    pytest.param(rule.id, sentence, expected, id=f"{rule.id}-{'match' if expected else 'no'}-{i}")
    for rule in RULES.rules
    for expected, sentences in ((True, rule.examples_match), (False, rule.examples_no_match))
    for i, sentence in enumerate(sentences)
]

MINIMAL = """
version = "test"
[scoring]
base = { disease_treatment = 40, medical_substitution = 25, safety_assurance = 20, vulnerable_groups = 20, drug_interaction = 20, efficacy_certainty = 15, dosage_advice = 15, regulatory_status = 15 }
severity = { serious = 1.0, chronic = 0.6, minor = 0.3, structure_function = 0.1, unspecified = 0.5 }
aggravators = { vulnerable = 1.5, emergency = 1.3, unlawful = 1.3, commercial = 1.3, mechanism = 1.2 }
mitigators = { hedged = 0.9, attributed = 0.7, rhetorical_question = 0.5, disclaimer = 1.0 }
bands = { priority = 70, review = 40, watch = 15 }

[substances.moss]
synonyms = ["sea moss"]

[conditions.gout]
tier = "chronic"
synonyms = ["gout"]

[cues]
treat = ["cure+"]
{cues}

[[rules]]
id = "disease.cures"
category = "disease_treatment"
message = "cures a disease"
patterns = ["@treat ~3 @condition"]
examples.match = ["Sea moss cures gout."]
examples.no_match = ["Sea moss does not cure gout."]
"""
REQUIRED = [
    "negation", "negation_exception", "clause_break", "rebuttal", "evidence_word", "report",
    "attribution", "endorsement", "hedge", "disclaimer", "interrogative", "warning",
    "warning_heading", "group_warning", "commercial", "mechanism", "product_ref", "product_noun",
    "study_report", "implicit_subject", "ad_copy_start", "agent", "sf_qualifier", "treat_noun",
    "outcome", "coordinator",
]  # fmt: skip


def minimal_file(tmp_path: Path, extra_toml: str = "", replace: tuple[str, str] = ("", "")) -> Path:
    cues = "\n".join(f'{name} = ["zzz{name}"]' for name in REQUIRED if name != "negation")
    cues += '\nnegation = ["not"]'
    text = MINIMAL.replace("{cues}", cues) + extra_toml
    if replace[0]:
        assert replace[0] in text
        text = text.replace(*replace)
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("rule_id", "sentence", "expected"), EXAMPLES)
def test_rule_examples(rule_id: str, sentence: str, expected: bool) -> None:
    kept, _ = rules_fired(sentence, RULES)
    assert (rule_id in kept) == expected, f"{rule_id} on {sentence!r}: kept {sorted(kept)}"


def test_shipped_rules_check_clean() -> None:
    assert check_rules(RULES) == []
    assert len(RULES.sha256) == 64
    assert default_rules() is RULES  # cached


def test_every_category_has_a_rule() -> None:
    from pipeline.claims.model import CATEGORIES

    assert {rule.category for rule in RULES.rules} == set(CATEGORIES)


def test_minimal_file_loads_and_checks(tmp_path: Path) -> None:
    rules = load_rules(minimal_file(tmp_path))
    assert [rule.id for rule in rules.rules] == ["disease.cures"]
    assert check_rules(rules) == []


@pytest.mark.parametrize(
    ("extra_toml", "replace", "message"),
    [
        ("", ('examples.match = ["Sea moss cures gout."]', "examples.match = []"),
         "rule disease.cures: empty examples"),
        ("", ('category = "disease_treatment"', 'category = "disease"'),
         "rule disease.cures: unknown category 'disease'"),
        ("", ('message = "cures a disease"', 'message = "x"\nkind = "regex"'),
         "rule disease.cures: bad kind 'regex'"),
        ("", ('message = "cures a disease"', 'message = "x"\nlevel = "high"'),
         "rule disease.cures: unknown key 'level'"),
        ("", ('patterns = ["@treat ~3 @condition"]', 'patterns = ["@treat ~3 @ailment"]'),
         "rule disease.cures: bad pattern '@treat ~3 @ailment': unknown lexicon @ailment"),
        ("", ('patterns = ["@treat ~3 @condition"]', 'patterns = ["@treat ~x @condition"]'),
         "rule disease.cures: bad pattern"),
        ("", ('patterns = ["@treat ~3 @condition"]', 'patterns = ["@treat ~3"]'),
         "ends with a gap"),
        ("", ('patterns = ["@treat ~3 @condition"]', 'patterns = ["@treat ~99 @condition"]'),
         "gap larger than"),
        ("", ('synonyms = ["gout"]', 'synonyms = ["--"]'),
         "conditions.gout.synonyms: bad pattern '--': no word characters"),
        ("", ('tier = "chronic"', 'tier = "bad"'), "conditions.gout: tier must be one of"),
        ("", ('[substances.moss]\nsynonyms = ["sea moss"]', '[substances.moss]\nsynonym = ["x"]'),
         "substances.moss: unknown key 'synonym'"),
        ('\n[[rules]]\nid = "disease.cures"\ncategory = "disease_treatment"\nmessage = "m"\n'
         'patterns = ["@condition"]\nexamples.match = ["gout"]\nexamples.no_match = ["x"]\n',
         ("", ""), "rule disease.cures: duplicate id"),
        ("", ('negation = ["not"]', ""), "missing required cue list 'negation'"),
        ("", ('version = "test"', 'version = "test"\nsurprise = 1'),
         "top level: unknown key 'surprise'"),
        ("", ("bands = { priority = 70, review = 40, watch = 15 }",
              "bands = { priority = 10, review = 40, watch = 15 }"),
         "scoring.bands: must satisfy"),
    ],
)  # fmt: skip
def test_load_errors_name_file_and_rule(
    tmp_path: Path, extra_toml: str, replace: tuple[str, str], message: str
) -> None:
    path = minimal_file(tmp_path, extra_toml, replace)
    with pytest.raises(RuleError) as caught:
        load_rules(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rules]\n", encoding="utf-8")
    with pytest.raises(RuleError, match=r"bad\.toml: invalid TOML"):
        load_rules(bad)
    with pytest.raises(RuleError, match="cannot read"):
        load_rules(tmp_path / "absent.toml")


def test_extra_lexicon_entries_extend_matching_and_change_the_hash() -> None:
    sentence = "Everyone knows that zorblax cures gout in a week or two."
    assert not rules_fired(sentence, RULES)[0]
    extra = {
        "substances": {"zorblax": {"synonyms": ["zorblax"], "unlawful": True}},
        "conditions": {"mental": {"synonyms": ["the blues"]}},
        "cues": {"hedge": ["arguably"]},
    }
    extended = load_rules(DEFAULT_RULES_PATH, extra)
    assert "disease.treats_condition" in rules_fired(sentence, extended)[0]
    assert "disease.treats_condition" in rules_fired("Zorblax cures the blues.", extended)[0]
    assert extended.entries["condition"]["mental"].tier == "chronic"  # kept from the file
    assert "anxiety" in extended.entries["condition"]["mental"].synonyms
    assert extended.sha256 != RULES.sha256
    assert load_rules(DEFAULT_RULES_PATH, extra).sha256 == extended.sha256


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"potions": {}}, "(extra): extra: unknown key 'potions'"),
        ({"conditions": {"new": {"synonyms": ["x"]}}}, "conditions.new: tier must be one of"),
        ({"substances": {"x": {"synonyms": "x"}}}, "substances.x.synonyms: must be a list"),
        ({"cues": {"hedge": "maybe"}}, "extra.cues.hedge: must be a list of strings"),
    ],
)
def test_extra_is_validated(extra: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError) as caught:
        load_rules(DEFAULT_RULES_PATH, extra)
    assert message in str(caught.value)
