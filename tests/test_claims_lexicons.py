"""The lexicons an analyst expects: names and spellings resolve to the right entry, tier and flag.

Checked at the lexicon level (the phrase index), so the tests hold whatever the judge or a learned
decision does with the hits. Every sentence here was written for these tests.
"""

from __future__ import annotations

import pytest

from pipeline.claims import default_rules
from pipeline.claims.lexicons import phrase_variants
from pipeline.claims.text import tokens

RULES = default_rules()
ENTRY_LEXICONS = ("substance", "condition", "drug", "group", "disease_class")


def hits(text: str, lexicon: str) -> set[str]:
    """The entry keys of ``lexicon`` whose phrases occur in ``text``."""
    return {hit.key for hit in RULES.index.scan(tokens(text)) if hit.lexicon == lexicon}


def phrase_count(lexicon: str) -> int:
    return sum(len(entry.synonyms) for entry in RULES.entries[lexicon].values())


def test_lexicon_sizes() -> None:
    assert phrase_count("substance") >= 400
    assert phrase_count("condition") >= 800
    assert phrase_count("drug") >= 200
    assert {"children", "pregnancy", "elderly", "recovery", "patients"} <= set(
        RULES.entries["group"]
    )


def test_no_phrase_in_two_entries_or_two_lexicons() -> None:
    owner: dict[tuple[str, ...], tuple[str, str]] = {}
    clashes = []
    for lexicon in ENTRY_LEXICONS:
        for key, entry in RULES.entries[lexicon].items():
            for phrase in entry.synonyms:
                for toks in phrase_variants(phrase):
                    first = owner.setdefault(toks, (lexicon, key))
                    if first != (lexicon, key):
                        clashes.append((phrase, first, (lexicon, key)))
    assert not clashes


@pytest.mark.parametrize(
    ("text", "lexicon", "key"),
    [
        ("She switched to methylcobalamin drops.", "substance", "vitamins_b"),
        ("Magnesium glycinate before bed, he says.", "substance", "minerals"),
        ("A tub of cholecalciferol softgels.", "substance", "vitamin_d"),
        ("Saccharomyces boulardii is a yeast.", "substance", "probiotic_strains"),
        ("The label lists L-citrulline and NAC.", "substance", "amino_acids"),
        ("Withania somnifera root powder.", "substance", "ashwagandha"),
        ("Curcuma longa is the Latin name.", "substance", "herbs"),
        ("Trametes versicolor capsules.", "substance", "mushrooms"),
        ("A testosterone booster stack.", "substance", "hormone_like"),
        ("Serrapeptase and nattokinase.", "substance", "enzymes"),
        ("He took Ozempic for a year.", "drug", "diabetes"),
        ("Her doctor prescribed Eliquis.", "drug", "cardio"),
        ("Omeprazole every morning.", "drug", "gi_drugs"),
        ("A tapering plan for sertraline.", "drug", "antidepressants"),
        ("The new pill is an MAOI.", "drug", "antidepressants"),
        ("Levetiracetam keeps the seizures away.", "drug", "neuro"),
        ("Tacrolimus after the transplant.", "drug", "immunosuppressants"),
        ("Viagra, the little blue pill.", "drug", "ed_drugs"),
        ("The tumour had shrunk.", "condition", "cancer"),
        ("Weeks of diarrhoea.", "condition", "minor_other"),
        ("Oesophagitis and gastritis.", "condition", "chronic_other"),
        ("Relief for haemorrhoids.", "condition", "chronic_other"),
        ("Helpful for alzheimers patients.", "condition", "neuro"),
        ("Turmeric for arthritus.", "condition", "chronic_pain"),
        ("Cinnamon and diabeties.", "condition", "diabetes"),
        ("A remedy for PCOS.", "condition", "chronic_other"),
        ("It treats benign prostatic hyperplasia.", "condition", "chronic_other"),
        ("It eases night sweats.", "condition", "chronic_other"),
        ("Cures a urinary tract infection.", "condition", "infection"),
        ("Clears H. pylori.", "condition", "infection"),
        ("Gentle enough for nursing mothers.", "group", "pregnancy"),
        ("Safe while breastfeeding.", "group", "pregnancy"),
        ("Safe for lactating women.", "group", "pregnancy"),
        ("Made for preschoolers.", "group", "children"),
        ("Loved by retirees.", "group", "elderly"),
        ("Made for people in early recovery.", "group", "recovery"),
        ("Recommended for dialysis patients.", "group", "patients"),
    ],
)
def test_names_resolve(text: str, lexicon: str, key: str) -> None:
    assert key in hits(text, lexicon)


@pytest.mark.parametrize(
    ("phrase", "tier"),
    [
        ("weight loss", "structure_function"),
        ("stress", "structure_function"),
        ("energy levels", "structure_function"),
        ("focus", "structure_function"),
        ("mood swings", "structure_function"),
        ("blood sugar", "serious"),
        ("high blood pressure", "serious"),
        ("bad cholesterol", "serious"),
        ("anxiety", "chronic"),
        ("insomnia", "chronic"),
        ("depression", "chronic"),
        ("postpartum depression", "serious"),
        ("erectile dysfunction", "chronic"),
        ("low testosterone", "chronic"),
        ("endometriosis", "chronic"),
    ],
)
def test_condition_tiers(phrase: str, tier: str) -> None:
    keys = hits(phrase, "condition")
    assert keys
    tiers = {RULES.entries["condition"][key].tier for key in keys}
    assert tier in tiers


@pytest.mark.parametrize(
    ("text", "unlawful"),
    [
        ("ostarine", True),
        ("RAD-140", True),
        ("cardarine", True),
        ("BPC-157", True),
        ("DMAA", True),
        ("DMHA", True),
        ("tianeptine sulfate", True),
        ("phenibut", True),
        ("sibutramine", True),
        ("hydroxythiohomosildenafil", True),
        ("ephedra", True),
        ("melatonin", False),
        ("ashwagandha", False),
        ("DHEA", False),
        ("berberine", False),
        ("magnesium glycinate", False),
    ],
)
def test_unlawful_flag(text: str, unlawful: bool) -> None:
    keys = hits(text, "substance")
    assert keys
    flags = {RULES.entries["substance"][key].unlawful for key in keys}
    assert unlawful in flags
    if not unlawful:
        assert flags == {False}


@pytest.mark.parametrize(
    "text",
    [
        "Ms. Jones hops on the bus and aids her neighbour.",
        "Streaming at 1080p 60p on a 400 ppi screen.",
        "Green tea burns calories, and a brisk walk burns more.",
        "Meal prep is plan B when the pill organiser is empty.",
        "The tribal elders welcomed the students.",
        "Don't panic about the gas bill.",
    ],
)
def test_ordinary_english_is_not_a_lexicon_hit(text: str) -> None:
    for lexicon in ("condition", "drug", "group", "disease_class"):
        assert not hits(text, lexicon), lexicon


def test_sage_is_not_an_unlawful_salvia() -> None:
    keys = hits("She grew sage, Salvia officinalis, by the door.", "substance")
    assert not any(RULES.entries["substance"][key].unlawful for key in keys)
    assert hits("Salvia divinorum is smoked.", "substance") == {"psychedelics"}


def test_strains_and_detox_are_not_conditions() -> None:
    assert not hits("These probiotic strains come in a detox tea.", "condition")
    assert "addiction" in hits("A week of drug detox.", "condition")
