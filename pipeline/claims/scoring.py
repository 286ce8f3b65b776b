"""Explainable scores: the claim and article records and the formula that ranks them.

Per claim (one per sentence that makes at least one claim)::

    base     = the highest category base among the claim's categories
               + extra_category_points for each further category
    score    = base × severity × Π aggravators × Π mitigators, capped at 100

with the constants from the rule file's ``[scoring]`` table (shipped values in brackets):

- base: disease_treatment 40, medical_substitution 25, safety_assurance 20,
  vulnerable_groups 20, drug_interaction 20, efficacy_certainty 15, dosage_advice 15,
  regulatory_status 15; extra_category_points 5.
- severity, from the condition the claim names (else the condition of the heading above, else the
  article's main condition): serious 1.0, chronic 0.6, minor 0.3, structure_function 0.1,
  unspecified 0.5 (no condition anywhere).
- aggravators: vulnerable audience 1.5, emergency (opioid addiction or withdrawal, COVID) 1.3,
  ingredient outside the supplement definition (kratom, CBD, delta-8 THC, ...) 1.3, commercial cue
  within three sentences 1.3, mechanism plus disease ("raises dopamine, easing withdrawal") 1.2.
- mitigators: hedged ("may", "could", "studies suggest") 0.9, attributed to others ("users say")
  0.7, rhetorical question 0.5, DSHEA disclaimer in the article 1.0 (recorded, no effect: the
  disclaimer does not make a disease claim lawful). Negated, rebutted, reported, warned-against and
  genuine-question sentences are not claims at all (see :mod:`pipeline.claims.judge`).

Per article::

    risk = min(100, worst claim + rest_weight × sum of the other claims)   (rest_weight 0.25)
    band = priority ≥ 70, review ≥ 40, watch ≥ 15, else ignore

Escalation flags are raised whatever the score: ``opioid_addiction_withdrawal``, ``cancer``,
``covid``, ``children`` (a disease, dosage, safety or substitution claim aimed at children) and
``insulin`` (a claim to replace insulin).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.claims.model import CATEGORIES, Scoring, criterion_label

BANDS: tuple[str, ...] = ("priority", "review", "watch", "ignore")
ESCALATIONS: tuple[str, ...] = (
    "opioid_addiction_withdrawal",
    "cancer",
    "covid",
    "children",
    "insulin",
)
EMERGENCY: frozenset[str] = frozenset({"opioid_addiction_withdrawal", "covid"})


@dataclass(frozen=True, slots=True)
class Claim:
    """One sentence that makes a potential claim, and why."""

    sentence: str
    start: int
    end: int
    categories: tuple[str, ...]
    substance: str | None
    condition: str | None
    severity: str
    score: float
    rules: tuple[str, ...]
    hedged: bool
    criteria: tuple[str, ...] = ()
    aggravators: tuple[str, ...] = ()
    mitigators: tuple[str, ...] = ()
    implied: bool = False
    context: str = "sentence"
    condition_source: str | None = None
    escalations: tuple[str, ...] = ()
    confidence: float | None = None  # the learned decision's probability (None: rules only)
    features: tuple[tuple[str, float], ...] = ()  # the terms that weighed most in the decision

    def as_json(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence,
            "start": self.start,
            "end": self.end,
            "categories": list(self.categories),
            "substance": self.substance,
            "condition": self.condition,
            "severity": self.severity,
            "score": self.score,
            "rules": list(self.rules),
            "hedged": self.hedged,
            "criterion": [criterion_label(code) for code in self.criteria],
            "aggravators": list(self.aggravators),
            "mitigators": list(self.mitigators),
            "implied": self.implied,
            "context": self.context,
            "condition_source": self.condition_source,
            "escalations": list(self.escalations),
            "confidence": self.confidence,
            "features": [{"feature": name, "weight": weight} for name, weight in self.features],
        }


@dataclass(frozen=True, slots=True)
class Risk:
    score: float
    band: str
    escalations: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"score": self.score, "band": self.band, "escalations": list(self.escalations)}


@dataclass(frozen=True, slots=True)
class ArticleScore:
    """The claims of one document, its risk, and the hash of the rules that produced them."""

    claims: tuple[Claim, ...]
    risk: Risk
    rules_sha256: str = ""
    rules_version: str = ""
    stats: dict[str, int] = field(default_factory=dict)
    model_sha256: str = ""  # the weights file of the learned decision ("" when rules only)
    page_kind: str | None = None  # the page kind the crawl declared (pipeline/page_kind.py)

    def as_json(self) -> dict[str, Any]:
        return {
            "claims": [claim.as_json() for claim in self.claims],
            "risk": self.risk.as_json(),
            "scored_by": {"rules_sha256": self.rules_sha256, "model_sha256": self.model_sha256},
            "page_kind": self.page_kind,
        }

    @property
    def rule_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for claim in self.claims:
            for rule_id in claim.rules:
                counts[rule_id] = counts.get(rule_id, 0) + 1
        return counts


def claim_score(
    categories: tuple[str, ...],
    severity: str,
    aggravators: tuple[str, ...],
    mitigators: tuple[str, ...],
    scoring: Scoring,
) -> float:
    """The per-claim formula of the module docstring."""
    if not categories:
        return 0.0
    bases = sorted((scoring.base[c] for c in categories), reverse=True)
    value = bases[0] + scoring.extra_category_points * (len(bases) - 1)
    value *= scoring.severity[severity]
    for name in aggravators:
        value *= scoring.aggravators[name]
    for name in mitigators:
        value *= scoring.mitigators[name]
    return round(min(100.0, value), 1)


def band_of(score: float, scoring: Scoring) -> str:
    for band in ("priority", "review", "watch"):
        if score >= scoring.bands[band]:
            return band
    return "ignore"


def article_risk(claims: tuple[Claim, ...], scoring: Scoring) -> Risk:
    """The per-article formula of the module docstring."""
    scores = sorted((claim.score for claim in claims), reverse=True)
    total = 0.0
    if scores:
        total = min(100.0, scores[0] + scoring.rest_weight * sum(scores[1:]))
    total = round(total, 1)
    flags = {flag for claim in claims for flag in claim.escalations}
    return Risk(total, band_of(total, scoring), tuple(e for e in ESCALATIONS if e in flags))


def ordered_categories(names: set[str]) -> tuple[str, ...]:
    return tuple(c for c in CATEGORIES if c in names)
