"""Honest figures for the learned claim decision: article-grouped cross-validation, end to end.

:func:`cross_validate` is the figure to report: article-grouped k-fold, each fold's model trained
(with its own inner selection, :func:`pipeline.claims.training.fit_examples`) without any unit of the
fold's articles, then the fold's articles scored end to end by
:func:`pipeline.claims.article.analyse_document`. No figure comes from rows a model was fitted on.
:func:`evaluate` scores units with a fixed model (for data it was not trained on, or the rules
alone). Each unit's verdict carries its *path* (:func:`verdict_path`) for error analysis.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.claims.article import analyse_document, is_final
from pipeline.claims.learned import LinearModel
from pipeline.claims.model import CATEGORIES, RuleSet
from pipeline.claims.results import UnitResult
from pipeline.claims.training import (
    DECLARED_SHARE,
    check_trainable,
    examples_of,
    fit_examples,
    group_folds,
)
from pipeline.claims.units import LabelledUnit, align, by_article, rebuild


@dataclass(slots=True)
class Predicted:
    unit: LabelledUnit
    risky: bool
    categories: frozenset[str]
    path: str = ""  # how the verdict came about (see :func:`verdict_path`), for error analysis
    confidence: float | None = None  # the learned decision on the sentence (None: no candidate)
    blocked: bool = False  # the rules' "not a claim" is final there (negated, reported ...)

    def risky_at(self, threshold: float) -> bool:
        """The verdict the same model would give with another decision threshold."""
        if self.confidence is None:
            return self.risky
        return self.confidence >= threshold and not self.blocked


def verdict_path(result: UnitResult | None, model: LinearModel) -> str:
    """How a sentence's verdict came about: ``rules+model`` (a rule claim the model kept),
    ``model_only`` (a claim the rules alone would not make), ``overruled`` (a rule claim the model
    dropped), ``set_aside:<reason>`` (the rules' final "not a claim"), ``below_threshold``,
    ``not_candidate``."""
    if result is None or not result.candidate:
        return "not_candidate"
    if result.claim is not None:
        return "rules+model" if result.rules_claim else "model_only"
    if result.rules_claim:
        return "overruled"
    reasons = sorted({reason for _, reason in result.judgement.dropped})
    if reasons and (result.confidence or 0.0) >= model.threshold:
        return "set_aside:" + "+".join(reasons)
    return "below_threshold"


def predict_article(
    units: Sequence[LabelledUnit], rules: RuleSet, model: LinearModel, kind: str | None = None
) -> list[Predicted]:
    """Score one article end to end (``kind``: the page kind declared for it, if any) and read
    each labelled unit's verdict off the claims."""
    document, spans = rebuild(units)
    results = analyse_document(document, rules, model, kind)
    speaking_for: list[list[UnitResult]] = [[] for _ in spans]  # each unit's covering sentences
    for result, covered in zip(
        results, align(spans, [(r.unit.start, r.unit.end) for r in results]), strict=True
    ):
        for index in covered:
            speaking_for[index].append(result)
    out: list[Predicted] = []
    for span, covering_results in zip(spans, speaking_for, strict=True):
        names: set[str] = set()
        risky = False
        covering: UnitResult | None = None
        for result in covering_results:
            covering = covering or result
            if result.claim is not None:
                risky = True
                names.update(result.claim.categories)
                covering = result
        confidence = None if covering is None else covering.confidence
        blocked = (
            covering is not None
            and covering.candidate
            and not covering.rules_claim
            and is_final(covering)
        )
        out.append(
            Predicted(
                span.unit,
                risky,
                frozenset(names),
                verdict_path(covering, model),
                confidence,
                blocked,
            )
        )
    return out


@dataclass(slots=True)
class Figures:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, gold: bool, predicted: bool) -> None:
        if gold and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif gold:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "units": self.tp + self.fp + self.fn + self.tn,
            "risky": self.tp + self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(slots=True)
class Evaluation:
    overall: Figures = field(default_factory=Figures)
    by_batch: dict[str, Figures] = field(default_factory=dict)
    by_kind: dict[str, Figures] = field(default_factory=dict)
    by_category: dict[str, Figures] = field(default_factory=dict)
    mentions: Counter[str] = field(default_factory=Counter)  # "units", "flagged"
    errors: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (batch, fp|fn, path)
    folds: int = 0
    predictions: list[Predicted] = field(default_factory=list)

    def add(self, predicted: Predicted) -> None:
        unit = predicted.unit
        self.predictions.append(predicted)
        self.overall.add(unit.risky, predicted.risky)
        self.by_batch.setdefault(unit.batch, Figures()).add(unit.risky, predicted.risky)
        self.by_kind.setdefault(unit.article_kind, Figures()).add(unit.risky, predicted.risky)
        for name in CATEGORIES:
            gold, guess = name in unit.categories, name in predicted.categories
            if gold or guess:
                self.by_category.setdefault(name, Figures()).add(gold, guess)
        if unit.mentions and not unit.risky:
            self.mentions["units"] += 1
            self.mentions["flagged"] += predicted.risky
        if predicted.risky != unit.risky:
            kind = "fp" if predicted.risky else "fn"
            self.errors[(unit.batch, kind, predicted.path.split(":")[0])] += 1

    def at_threshold(self, threshold: float) -> tuple[Figures, float]:
        """Overall figures and the flagged share of hard negatives at another threshold (the
        same cross-validated confidences: each fold's own threshold is replaced by this one)."""
        figures = Figures()
        hard = flagged = 0
        for predicted in self.predictions:
            guess = predicted.risky_at(threshold)
            figures.add(predicted.unit.risky, guess)
            if predicted.unit.mentions and not predicted.unit.risky:
                hard += 1
                flagged += guess
        return figures, flagged / hard if hard else 0.0

    @property
    def mentions_flagged(self) -> float:
        return self.mentions["flagged"] / self.mentions["units"] if self.mentions["units"] else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "folds": self.folds,
            "overall": self.overall.as_json(),
            "mentions_flagged": round(self.mentions_flagged, 4),
            "by_batch": {k: v.as_json() for k, v in sorted(self.by_batch.items())},
            "by_kind": {k: v.as_json() for k, v in sorted(self.by_kind.items())},
            "by_category": {k: v.as_json() for k, v in sorted(self.by_category.items())},
            "errors": {f"{b}/{k}/{p}": n for (b, k, p), n in sorted(self.errors.items())},
        }


def cross_validate(
    units: Sequence[LabelledUnit],
    rules: RuleSet,
    folds: int = 5,
    seed: int = 13,
    kinds: Mapping[str, str] | None = None,
    declared_share: float = DECLARED_SHARE,
) -> tuple[Evaluation, list[LinearModel]]:
    """Article-grouped k-fold: each fold scored by a model that never saw its articles.

    ``kinds`` declares the page kind of the test articles it names (as a source's ``voice`` or a
    page's schema.org type would); the others are scored without one. ``declared_share`` is the
    share of training articles that see their kind declared (:data:`DECLARED_SHARE`)."""
    articles = by_article(units)
    examples = examples_of(articles, rules)
    check_trainable(examples)
    evaluation = Evaluation(folds=folds)
    models: list[LinearModel] = []
    for fold in group_folds(list(articles), folds, seed):
        training = examples.without(fold)
        check_trainable(training)
        model = fit_examples(training, seed, declared_share=declared_share)
        models.append(model)
        for article_id in sorted(fold):
            kind = (kinds or {}).get(article_id)
            for predicted in predict_article(articles[article_id], rules, model, kind):
                evaluation.add(predicted)
    return evaluation, models


def evaluate(units: Sequence[LabelledUnit], rules: RuleSet, model: LinearModel) -> Evaluation:
    """A fixed model on these units (for data the model was *not* trained on)."""
    evaluation = Evaluation()
    for article_units in by_article(units).values():
        for predicted in predict_article(article_units, rules, model):
            evaluation.add(predicted)
    return evaluation
