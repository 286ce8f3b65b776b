"""General claim constructions the rules must catch, and advice that is not a claim.

Each sentence was written for this test (none comes from a labelled page). A sentence is checked
with the rules alone (as ``claimwatch rules check`` does): a claim sentence must be kept with a rule
of the expected category, a non-claim sentence must keep no rule at all.
"""

from __future__ import annotations

import pytest

from pipeline.claims import default_rules
from pipeline.claims.explain import rules_fired

RULES = default_rules()
CATEGORY = {rule.id: rule.category for rule in RULES.rules}

CLAIMS = [
    # N1: dosing instructions in other words
    (
        "dosage_advice",
        "Take your first dose of ashwagandha at the low end and increase over a week.",
    ),
    ("dosage_advice", "It is best to start small with lion's mane and build up."),
    ("dosage_advice", "Begin with a quarter teaspoon of moringa powder."),
    ("dosage_advice", "For best results, take rhodiola consistently every morning."),
    ("dosage_advice", "Stick to the smallest amount of valerian that works."),
    ("dosage_advice", "Starting at 100 mg of magnesium is a sensible plan."),
    ("dosage_advice", "Kava works best when taken on an empty stomach."),
    ("dosage_advice", "Give it a few days to find what works before upping the amount of CBD."),
    # N2: how to use or give the product to a vulnerable group
    ("vulnerable_groups", "Our gummies make it easy to give zinc to picky kids."),
    ("vulnerable_groups", "Elderberry syrup is perfectly fine for toddlers."),
    ("vulnerable_groups", "Lavender oil is suitable for babies over three months."),
    ("vulnerable_groups", "CBD oil can be used with kids who have autism."),
    ("safety_assurance", "Melatonin is safe to give children every night."),
    # N3: denying or downplaying a harm
    ("safety_assurance", "Ashwagandha won't cause any serious problems."),
    ("safety_assurance", "Kratom has never caused a single overdose death."),
    ("safety_assurance", "No deaths have ever been attributed to CBD."),
    ("safety_assurance", "The chance of liver injury from kava is remote."),
    ("safety_assurance", "Reishi poses little risk to healthy adults."),
    ("safety_assurance", "Turmeric rarely causes side effects."),
    # N6: benefit idioms
    (
        "disease_treatment",
        "For anyone battling depression, saffron extract offers a glimmer of hope.",
    ),
    ("disease_treatment", "Kratom gives hope to those fighting opioid addiction."),
    ("disease_treatment", "CBD could make living with epilepsy more manageable."),
    # R4 / R5: action words and outcome forms
    ("disease_treatment", "Kick your cold to the curb with zinc."),
    ("disease_treatment", "Oregano oil staves off sinus infections."),
    ("disease_treatment", "Graviola helps cancer cells self-destruct."),
    ("disease_treatment", "After a week on boswellia I had far less joint pain."),
    ("disease_treatment", "Thanks to this tonic, my migraines have all but disappeared."),
    ("medical_substitution", "Our turmeric paste is more effective than knee surgery."),
    # R6: substitution by avoiding conventional care
    ("medical_substitution", "No more insulin shots once you start on our cinnamon blend."),
    ("medical_substitution", "You won't need surgery once you try our joint formula."),
    ("medical_substitution", "Skip the antibiotics and use manuka honey."),
]

NOT_CLAIMS = [
    # F1: asking a professional before use, about a dose or a patient group
    "Those receiving treatment for gout should speak to a pharmacist before trying tart cherry capsules.",
    "Ask your pharmacist before combining St. John's wort with birth control.",
    "Check with your pediatrician before giving elderberry syrup to children.",
    "Talk to your doctor about the right dose of magnesium for you.",
    "Ask a pediatrician about the dose of melatonin for children.",
    "Ask your doctor whether a 500 mg dose of berberine is right for you.",
    # F4: dose figures and dose words in a monograph voice, with no advice
    "Most rhodiola capsules on the market typically contain 200 to 400 mg of extract.",
    "Melatonin tablets are usually sold in strengths of 1 to 10 mg.",
    "Dosage Guidelines",
    "Kratom still lacks official dosing guidelines.",
    # negated, reported, questioned and warned forms of the constructions above
    "Vendors claim kratom offers hope to people with chronic pain.",
    "Does saffron really offer hope to people with depression?",
    "Some parents say the best way to give melatonin to toddlers is in gummies.",
    "Is it safe to give melatonin to toddlers?",
    "Melatonin is not suitable for children under three.",
    "Never use peppermint oil on babies.",
    "Use ginkgo with caution in children.",
    "It is safe to say that children love the taste of elderberry.",
    "There is no safe way to give kratom to teens.",
    "Kava can cause liver damage in rare cases.",
    "Kratom has been linked to dozens of deaths.",
    "The risk of addiction with kratom is real.",
    "Users report that the risk of addiction with kratom is low.",
    "Is graviola more effective than chemotherapy?",
    "Do not start with high doses of kava.",
    "Researchers started participants at the lowest dose of rhodiola.",
    "Rhodiola prices sit at the low end of the market.",
    "We had less time for exercise, so we tried ashwagandha.",
]


@pytest.mark.parametrize(("category", "sentence"), CLAIMS)
def test_general_construction_is_a_claim(category: str, sentence: str) -> None:
    kept, _ = rules_fired(sentence, RULES)
    assert category in {CATEGORY[rule_id] for rule_id in kept}, f"{sentence!r}: kept {sorted(kept)}"


@pytest.mark.parametrize("sentence", NOT_CLAIMS)
def test_advice_and_reports_are_not_claims(sentence: str) -> None:
    kept, _ = rules_fired(sentence, RULES)
    assert not kept, f"{sentence!r}: kept {sorted(kept)}"
