"""The rule set as typed, immutable data: lexicon entries, rules, patterns and scoring constants.

:mod:`pipeline.claims.loader` builds a :class:`RuleSet` from ``rules.toml`` and validates it; the
matcher and the scorer only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.claims.index import PhraseIndex

CATEGORIES: tuple[str, ...] = (
    "disease_treatment",
    "medical_substitution",
    "safety_assurance",
    "efficacy_certainty",
    "dosage_advice",
    "vulnerable_groups",
    "drug_interaction",
    "regulatory_status",
)
TIERS: tuple[str, ...] = ("serious", "chronic", "minor", "structure_function")
CRITERIA: tuple[str, ...] = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")
CONTEXTS: tuple[str, ...] = ("subject", "sentence", "none")
KINDS: tuple[str, ...] = ("pattern", "cooccur")

# Entry tables in the file, and the lexicon name patterns use for them (``@substance``).
ENTRY_TABLES: dict[str, str] = {
    "substances": "substance",
    "conditions": "condition",
    "drugs": "drug",
    "groups": "group",
}
CLASS_LEXICON = "disease_class"  # built from the conditions' ``class_words``

# Cue lexicons the scorer itself reads (rules may use any cue, these must exist).
REQUIRED_CUES: tuple[str, ...] = (
    "negation",
    "negation_exception",
    "clause_break",
    "rebuttal",
    "evidence_word",
    "report",
    "attribution",
    "endorsement",
    "hedge",
    "disclaimer",
    "interrogative",
    "warning",
    "warning_heading",
    "group_warning",
    "commercial",
    "mechanism",
    "product_ref",
    "product_noun",
    "study_report",
    "implicit_subject",
    "ad_copy_start",
    "agent",
    "sf_qualifier",
    "treat_noun",
    "outcome",
    "coordinator",
)


def criterion_label(code: str) -> str:
    """``"vi"`` as the citation ``21 CFR 101.93(g)(2)(vi)``."""
    return f"21 CFR 101.93(g)(2)({code})"


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry: a canonical key, its phrases and its attributes."""

    lexicon: str
    key: str
    synonyms: tuple[str, ...]
    tier: str | None = None  # conditions
    escalation: str | None = None  # conditions, groups, drugs
    unlawful: bool = False  # substances outside the supplement definition
    drug_class: str | None = None  # drugs
    condition: str | None = None  # disease-class words and drugs: the condition they imply


@dataclass(frozen=True, slots=True)
class Element:
    """One step of a pattern: a hit of ``lexicon`` starting at most ``gap`` tokens after the last.

    A literal element (``words`` set, ``lexicon`` ``"=a|b"``) matches one token from ``words`` and
    is checked on the tokens directly, without the index.
    """

    lexicon: str
    gap: int
    words: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    kind: str
    message: str
    patterns: tuple[tuple[Element, ...], ...] = ()
    all_of: tuple[str, ...] = ()
    criterion: str | None = None
    context: str = "subject"
    requires_any: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    condition: str | None = None
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()
    requires: frozenset[str] = frozenset()  # lexicons that must all be hit for the rule to fire


@dataclass(frozen=True, slots=True)
class Scoring:
    """The constants of the scoring formula (see :mod:`pipeline.claims.scoring`)."""

    base: dict[str, float]
    extra_category_points: float
    severity: dict[str, float]
    aggravators: dict[str, float]
    mitigators: dict[str, float]
    rest_weight: float
    bands: dict[str, float]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything the matcher needs, validated; ``sha256`` identifies the rules that scored."""

    source: str
    version: str
    sha256: str
    rules: tuple[Rule, ...]
    entries: dict[str, dict[str, Entry]]
    cues: dict[str, tuple[str, ...]]
    scoring: Scoring
    index: PhraseIndex = field(repr=False)  # entry lexicons and the cues rules match on
    lazy_index: PhraseIndex = field(repr=False)  # the other cues, scanned only around a firing
    lazy_lexicons: frozenset[str] = frozenset()
    # Which (order, rule, pattern number) to try when a lexicon, or a literal ("=word"), is present.
    triggers: dict[str, tuple[tuple[int, Rule, int], ...]] = field(default_factory=dict, repr=False)
    literal_triggers: frozenset[str] = frozenset()

    def entry(self, lexicon: str, key: str) -> Entry | None:
        return self.entries.get(lexicon, {}).get(key)
