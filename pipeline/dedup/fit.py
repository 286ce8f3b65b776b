"""Fitting the template score (:mod:`pipeline.dedup.template_model`) and cross-validating it.

Only training imports scikit-learn; scoring runs on the shipped JSON weights alone. The fit is an
L2-regularised logistic regression over the evidence features; the cross-validation is stratified
and grouped (by article, or any other grouping such as the site), and every figure it gives comes
from rows the fold's model was not fitted on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from pipeline.dedup.template_model import FEATURES, TemplateModel

DEFAULT_C = 1.0
DEFAULT_FOLDS = 5
DEFAULT_SEED = 13


def matrix(rows: Sequence[dict[str, float]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array([[row.get(name, 0.0) for name in FEATURES] for row in rows], dtype=np.float64)


def fit(
    rows: Sequence[dict[str, float]],
    labels: Sequence[bool],
    *,
    c: float = DEFAULT_C,
    trained: dict[str, Any] | None = None,
) -> TemplateModel:
    """The logistic model fitted on ``rows`` (evidence vectors) and ``labels``."""
    y = np.array(labels, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("fitting needs both positive and negative rows")
    model = LogisticRegression(C=c, max_iter=10_000)
    model.fit(matrix(rows), y)
    weights = {name: round(float(w), 4) for name, w in zip(FEATURES, model.coef_[0], strict=True)}
    info = {"rows": len(y), "positives": int(y.sum()), "c": c, **(trained or {})}
    return TemplateModel(round(float(model.intercept_[0]), 4), weights, trained=info)


def out_of_fold(
    rows: Sequence[dict[str, float]],
    labels: Sequence[bool],
    groups: Sequence[str],
    *,
    folds: int = DEFAULT_FOLDS,
    seed: int = DEFAULT_SEED,
    c: float = DEFAULT_C,
) -> list[float]:
    """Each row's score from a model fitted on the other folds (rows of one group stay together)."""
    y = np.array(labels, dtype=bool)
    scores = [0.0] * len(y)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(matrix(rows), y, groups=list(groups)):
        model = fit([rows[i] for i in train], [bool(y[i]) for i in train], c=c)
        for i in test:
            scores[i] = model.probability(rows[i])
    return scores
