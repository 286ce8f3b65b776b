"""Training and honest evaluation of the learned claim decision (scikit-learn, offline only).

:func:`train` fits the shipped kind of model from labelled units (:mod:`pipeline.claims.units`):

1. Every article is rebuilt as a document and scored by the rules; each candidate sentence gets
   its features (:mod:`pipeline.claims.features`) and the label of the units it covers.
2. Features seen in fewer than ``min_articles`` (2) training articles are dropped, so no n-gram
   particular to one page, let alone one sentence, reaches the weights.
3. An L2 logistic regression is fitted; its regularisation ``C`` and the decision threshold are
   chosen by article-grouped cross-validation *inside* the training data (best F1 of the
   out-of-fold predictions). One-vs-rest heads for the categories are fitted on the risky units.

The figures to report come from :mod:`pipeline.claims.evaluation` (article-grouped
cross-validation, end to end); nothing here reports a figure on rows it was fitted on.

Everything is seeded; the same data, seed and rules give the same weights file.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from pipeline.claims.article import analyse_document
from pipeline.claims.learned import Head, LinearModel
from pipeline.claims.model import CATEGORIES, RuleSet
from pipeline.claims.results import Features
from pipeline.claims.units import LabelledUnit, align, by_article, rebuild
from pipeline.claims.voice import (
    VOICE_MIN_WORDS,
    declared_kind_crosses,
    declared_voice,
    learned_voice_crosses,
    page_words,
)
from pipeline.page_kind import data_kind

C_GRID = (0.02, 0.05, 0.15, 0.5)
MIN_ARTICLES = 2
MIN_ARTICLES_PER_CLASS = 2  # articles with risky, and with other, candidate sentences
REPORTIVE_KINDS = frozenset({"news", "medical_authority"})  # pages that report on claims
# The share of training articles (of a known kind) that see their kind declared, as the crawl
# declares it (a source's ``voice``, a page's schema.org type); the others do not, so one model
# scores pages with and without a declared kind. Drawn per article, seeded.
DECLARED_SHARE = 0.5
VOICE_C = 1.0
VOICE_MIN_ARTICLES = 3  # a page word must occur on this many training pages
MENTION_WEIGHT = 1.0  # reported, negated or warned-against claims weigh as much as any other unit
INNER_FOLDS = 4
CATEGORY_C = 1.0  # the category heads: L1, so each keeps only the features that name its category
WEIGHT_DIGITS = 4
_FEATURE_ONLY = LinearModel(Head(0.0, {}), threshold=0.999999, source="features")


@dataclass(slots=True)
class Example:
    """One candidate sentence of one article: its features and its labels."""

    article: str
    features: Features
    risky: bool
    categories: frozenset[str]
    weight: float = 1.0


@dataclass(slots=True)
class Page:
    """One article as the page-voice head sees it: its words, and whether it reports (``None``:
    the unit file gives no article kind)."""

    article: str
    words: Features
    reportive: bool | None
    kind: str | None = None  # the page kind (pipeline.page_kind) of the unit file's article_kind


class Corpus(list[Example]):
    """The candidate sentences of a set of articles, and the articles' pages."""

    pages: dict[str, Page]

    def __init__(self, examples: Sequence[Example] = (), pages: dict[str, Page] | None = None):
        super().__init__(examples)
        self.pages = pages or {}

    def without(self, articles: set[str]) -> Corpus:
        return Corpus(
            [e for e in self if e.article not in articles],
            {k: v for k, v in self.pages.items() if k not in articles},
        )


def examples_of(articles: dict[str, list[LabelledUnit]], rules: RuleSet) -> Corpus:
    """The candidate sentences of every article, labelled from the units they cover."""
    out = Corpus()
    for article_id, units in articles.items():
        document, spans = rebuild(units)
        results = analyse_document(document, rules, _FEATURE_ONLY)
        kind = units[0].article_kind
        out.pages[article_id] = Page(
            article_id,
            page_words(r.unit.sentence for r in results),
            None if kind == "unknown" else kind in REPORTIVE_KINDS,
            data_kind(kind),
        )
        mapping = align(spans, [(r.unit.start, r.unit.end) for r in results])
        for result, covered in zip(results, mapping, strict=True):
            if not result.candidate or not covered:
                continue
            risky = any(spans[i].unit.risky for i in covered)
            names = frozenset().union(*(spans[i].unit.categories for i in covered))
            mention = not risky and any(spans[i].unit.mentions for i in covered)
            weight = MENTION_WEIGHT if mention else 1.0
            out.append(
                Example(article_id, result.features, risky, names if risky else frozenset(), weight)
            )
    return out


def vocabulary(examples: Sequence[Example], min_articles: int = MIN_ARTICLES) -> dict[str, int]:
    seen: dict[str, set[str]] = {}
    for example in examples:
        for name in example.features:
            seen.setdefault(name, set()).add(example.article)
    names = sorted(name for name, articles in seen.items() if len(articles) >= min_articles)
    return {name: index for index, name in enumerate(names)}


def matrix(examples: Sequence[Example], vocab: dict[str, int]) -> csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for row, example in enumerate(examples):
        for name, value in example.features.items():
            column = vocab.get(name)
            if column is not None and value:
                rows.append(row)
                cols.append(column)
                values.append(value)
    return csr_matrix((values, (rows, cols)), shape=(len(examples), len(vocab)), dtype=np.float64)


def group_folds(groups: Sequence[str], k: int, seed: int) -> list[set[str]]:
    """``k`` disjoint sets of groups, shuffled with ``seed``, balanced by count."""
    names = sorted(set(groups))
    random.Random(seed).shuffle(names)
    folds: list[set[str]] = [set() for _ in range(min(k, len(names)))]
    for number, name in enumerate(names):
        folds[number % len(folds)].add(name)
    return folds


def _fit(
    x: csr_matrix, y: np.ndarray, c: float, seed: int, weights: np.ndarray | None = None,
    penalty: str = "l2",
) -> LogisticRegression:  # fmt: skip
    model = LogisticRegression(
        C=c,
        l1_ratio=1.0 if penalty == "l1" else 0.0,
        max_iter=2000,
        solver="liblinear",
        random_state=seed,
    )
    model.fit(x, y, sample_weight=weights)
    return model


def _weights(examples: Sequence[Example]) -> np.ndarray:
    return np.array([e.weight for e in examples])


def best_threshold(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The threshold with the best F1 on these predictions, and that F1."""
    best = (0.5, -1.0)
    positives = labels.sum()
    for threshold in np.arange(0.2, 0.81, 0.025):
        predicted = probabilities >= threshold
        tp = float((predicted & labels).sum())
        fp = float((predicted & ~labels).sum())
        f1 = 2 * tp / (2 * tp + fp + (positives - tp)) if positives else 0.0
        if f1 > best[1]:
            best = (round(float(threshold), 3), f1)
    return best


def _select(examples: Sequence[Example], seed: int) -> tuple[float, float, float]:
    """C and the threshold, by article-grouped cross-validation within ``examples``."""
    groups = [e.article for e in examples]
    labels = np.array([e.risky for e in examples])
    folds = group_folds(groups, INNER_FOLDS, seed)
    best = (C_GRID[0], 0.5, -1.0)
    for c in C_GRID:
        probabilities = np.zeros(len(examples))
        for fold in folds:
            train_rows = [i for i, g in enumerate(groups) if g not in fold]
            test_rows = [i for i, g in enumerate(groups) if g in fold]
            if len(set(labels[train_rows].tolist())) < 2:  # one class only: nothing to learn
                probabilities[test_rows] = float(labels[train_rows].mean())
                continue
            train_examples = [examples[i] for i in train_rows]
            vocab = vocabulary(train_examples)
            fitted = _fit(
                matrix(train_examples, vocab), labels[train_rows], c, seed, _weights(train_examples)
            )
            test_x = matrix([examples[i] for i in test_rows], vocab)
            probabilities[test_rows] = fitted.predict_proba(test_x)[:, 1]
        threshold, f1 = best_threshold(probabilities, labels)
        if f1 > best[2]:
            best = (c, threshold, f1)
    return best


def _head(fitted: LogisticRegression, vocab: dict[str, int]) -> Head:
    names = list(vocab)
    coefficients = fitted.coef_[0]
    weights = {
        names[i]: round(float(w), WEIGHT_DIGITS)
        for i, w in enumerate(coefficients)
        if abs(w) >= 10**-WEIGHT_DIGITS
    }
    return Head(round(float(fitted.intercept_[0]), WEIGHT_DIGITS), weights)


def fit_voice(pages: Sequence[Page], seed: int) -> Head | None:
    """The page-voice head from the pages whose kind is known (``None`` when too few)."""
    known = [page for page in pages if page.reportive is not None]
    labels = np.array([bool(page.reportive) for page in known])
    if labels.sum() < 3 or (~labels).sum() < 3:
        return None
    examples = [
        Example(page.article, page.words, bool(page.reportive), frozenset()) for page in known
    ]
    vocab = vocabulary(examples, VOICE_MIN_ARTICLES)
    return _head(_fit(matrix(examples, vocab), labels, VOICE_C, seed), vocab)


def out_of_fold_voice(pages: dict[str, Page], seed: int) -> dict[str, float]:
    """Each page's learned voice from a head fitted without it (so no unit of the training data
    sees a voice estimate its own page helped to fit)."""
    out: dict[str, float] = {}
    for fold in group_folds(list(pages), INNER_FOLDS, seed):
        head = fit_voice([p for a, p in pages.items() if a not in fold], seed)
        for article in fold:
            out[article] = 0.5 if head is None else head.probability(pages[article].words)
    return out


def declared_articles(pages: dict[str, Page], share: float, seed: int) -> dict[str, str]:
    """The articles whose kind training declares (a seeded ``share`` of those of a known kind)."""
    draw = random.Random(seed)
    out: dict[str, str] = {}
    for article in sorted(pages):
        kind = pages[article].kind
        if draw.random() < share and kind is not None:
            out[article] = kind
    return out


def with_voice(
    examples: Corpus, seed: int, declared_share: float = DECLARED_SHARE
) -> tuple[Corpus, Head | None]:
    """The examples with their page's out-of-fold learned voice, or for a seeded share of the
    articles their declared kind instead, and the voice head on all."""
    head = fit_voice(list(examples.pages.values()), seed)
    declared = declared_articles(examples.pages, declared_share, seed)
    if head is None and not declared:
        return examples, None
    voice = out_of_fold_voice(examples.pages, seed) if head is not None else {}
    augmented = Corpus(pages=examples.pages)
    for example in examples:
        features = dict(example.features)
        kind = declared.get(example.article)
        if kind is not None:
            learned_voice_crosses(features, declared_voice(kind))
            declared_kind_crosses(features, kind)
        elif head is not None and len(examples.pages[example.article].words) >= VOICE_MIN_WORDS:
            learned_voice_crosses(features, voice[example.article])
        augmented.append(
            Example(example.article, features, example.risky, example.categories, example.weight)
        )
    return augmented, head


def fit_examples(
    examples: Corpus,
    seed: int = 13,
    c: float | None = None,
    threshold: float | None = None,
    declared_share: float = DECLARED_SHARE,
) -> LinearModel:
    """A model from labelled examples (C and threshold chosen by inner CV unless given)."""
    examples, voice = with_voice(examples, seed, declared_share)
    inner_f1 = None
    if c is None or threshold is None:
        c, threshold, inner_f1 = _select(examples, seed)
    vocab = vocabulary(examples)
    x = matrix(examples, vocab)
    labels = np.array([e.risky for e in examples])
    head = _head(_fit(x, labels, c, seed, _weights(examples)), vocab)
    categories: dict[str, Head] = {}
    risky_rows = [i for i, e in enumerate(examples) if e.risky]
    for name in CATEGORIES:
        y = np.array([name in examples[i].categories for i in risky_rows])
        if y.sum() >= 5 and (~y).sum() >= 5:
            fitted = _fit(x[risky_rows], y, CATEGORY_C, seed, penalty="l1")
            categories[name] = _head(fitted, vocab)
    return LinearModel(
        head=head,
        threshold=float(threshold),
        categories=categories,
        voice=voice,
        source="trained",
        trained={
            "examples": len(examples),
            "articles": len({e.article for e in examples}),
            "positives": int(labels.sum()),
            "features": len(vocab),
            "c": c,
            "inner_cv_f1": None if inner_f1 is None else round(float(inner_f1), 4),
            "seed": seed,
            "min_articles": MIN_ARTICLES,
            "declared_share": declared_share,
        },
    )


class TrainingError(ValueError):
    """Labelled units a model cannot be fitted on (the message says what is missing)."""


def check_trainable(examples: Corpus) -> None:
    """Both classes, each in several articles: otherwise no fold could learn or be scored."""
    for label, name in ((True, "risky"), (False, "not risky")):
        articles = {e.article for e in examples if e.risky == label}
        if len(articles) < MIN_ARTICLES_PER_CLASS:
            raise TrainingError(
                f"need candidate sentences labelled {name} in at least "
                f"{MIN_ARTICLES_PER_CLASS} articles; found {len(articles)}"
            )


def train(units: Sequence[LabelledUnit], rules: RuleSet, seed: int = 13) -> LinearModel:
    """The shipped kind of model, fitted on every unit given."""
    examples = examples_of(by_article(units), rules)
    check_trainable(examples)
    model = fit_examples(examples, seed)
    trained = dict(model.trained)
    trained.update(rules_sha256=rules.sha256, units=len(units))
    return LinearModel(
        model.head, model.threshold, model.categories, "", "trained", trained, voice=model.voice
    )
