"""What scoring finds per sentence: the unit (where it sits) and its result (firings, the
judgement, the claim, the learned decision). Shared by :mod:`pipeline.claims.article`, which makes
them, and :mod:`pipeline.claims.features`, which describes them."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.document import BlockKind
from pipeline.claims.judge import Judgement, Setting
from pipeline.claims.matcher import Firing, Sentence
from pipeline.claims.scoring import Claim

Features = dict[str, float]  # feature name -> value (see pipeline.claims.features)


@dataclass(slots=True)
class Unit:
    """One sentence of the document, where it sits, and its analysis."""

    block: int
    kind: BlockKind
    start: int
    end: int
    sentence: Sentence
    implied: bool = False


@dataclass(slots=True)
class UnitResult:
    unit: Unit
    firings: list[Firing]
    judgement: Judgement
    claim: Claim | None
    setting: Setting | None = None
    candidate: bool = False
    confidence: float | None = None  # the learned decision (candidates only)
    features: Features = field(default_factory=dict)
    rules_claim: bool = False  # whether the rules alone kept a firing
