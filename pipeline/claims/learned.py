"""The learned claim decision: a linear model over :mod:`pipeline.claims.features`, shipped as data.

The rules name what a sentence claims (category, condition, criterion); the model decides whether
a candidate sentence makes a claim at all, from what the rules saw and where. It is a logistic
regression: ``confidence = 1 / (1 + exp(-(intercept + Σ weight[f] × value[f])))``, and a sentence is
a claim when ``confidence ≥ threshold``. Every decision can be explained by its largest terms
``weight[f] × value[f]`` (:meth:`LinearModel.explain`), which the claim carries as ``features``.

The weights are a JSON file (never a pickle), validated on load; its SHA-256 is stored with every
score, as the rule file's is. The file holds feature names and numbers only: rule ids, lexicon
names, and word n-grams (each seen in at least two training articles), never a training sentence.

File format (``format = "claimwatch-linear/1"``)::

    {"format": "claimwatch-linear/1",
     "intercept": -1.2, "threshold": 0.5,
     "weights": {"kept": 1.9, "drop:negated": -1.1, "ng:<substance> cures": 0.8, ...},
     "categories": {"disease_treatment": {"intercept": -0.3, "weights": {...}}, ...},
     "trained": {"rows": 4049, "articles": 207, "seed": 13, "c": 0.5, ...}}

``categories`` (optional) are one-vs-rest heads that name the categories of a claim the rules did
not name (a sentence no rule fired on, or one the rules set aside). ``voice`` (optional) is the
page-voice head: from the words of the whole page (``pw:<word>``), the probability that the page
reports on claims (news, fact check, medical authority) rather than makes them; every unit of the
page gets it as the feature ``voice:learned``, crossed with the rules' verdict.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.claims.features import GramVocabulary
from pipeline.claims.results import Features
from pipeline.claims.voice import PAGE_WORD

FORMAT = "claimwatch-linear/1"
DEFAULT_MODEL_PATH = Path(__file__).with_name("weights.json")
EXPLAIN_TOP = 5  # features shown with a claim
CATEGORY_THRESHOLD = 0.5


class ModelError(ValueError):
    """A weights file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Head:
    """One linear scorer: intercept plus weights."""

    intercept: float
    weights: dict[str, float] = field(repr=False)

    def margin(self, features: Features) -> float:
        weights = self.weights
        total = self.intercept
        for name, value in features.items():
            weight = weights.get(name)
            if weight is not None:
                total += weight * value
        return total

    def probability(self, features: Features) -> float:
        return _sigmoid(self.margin(features))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True, slots=True)
class LinearModel:
    """The claim decision and the category heads, with the hash of the file they came from."""

    head: Head
    threshold: float = 0.5
    categories: dict[str, Head] = field(default_factory=dict)
    sha256: str = ""
    source: str = ""
    trained: dict[str, Any] = field(default_factory=dict)
    passthrough: bool = False  # rules only: the rules' verdict is the decision
    voice: Head | None = None  # P(the page reports rather than promotes), from its words
    every_ngram: bool = False  # describe units with every n-gram, known or not (the full path)
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def rules_only(cls) -> LinearModel:
        """No learned decision: a sentence is a claim exactly when the rules keep a firing."""
        return cls(Head(0.0, {}), passthrough=True, source="rules only")

    def voice_probability(self, words: set[str]) -> float:
        """The page-voice head on a page's words (``pw:<word>`` features, all of value 1)."""
        if self.voice is None:
            return 0.5
        bare = self._cache.get("voice")
        if bare is None:
            bare = self._cache["voice"] = {
                name[len(PAGE_WORD) :]: weight
                for name, weight in self.voice.weights.items()
                if name.startswith(PAGE_WORD)
            }
        get = bare.get
        return _sigmoid(self.voice.intercept + sum(get(word, 0.0) for word in words))

    def ngram_vocabulary(self) -> GramVocabulary | None:
        """The n-grams the decision and category heads weigh, as tables built on first use
        (:class:`~pipeline.claims.features.GramVocabulary`): scoring builds only these. ``None``
        (every n-gram) for a model without weights, which training and tests use to read
        features, and with ``every_ngram``."""
        if self.every_ngram:
            return None
        if "grams" not in self._cache:
            names = set(self.head.weights)
            for head in self.categories.values():
                names.update(head.weights)
            self._cache["grams"] = GramVocabulary.of(sorted(names)) if names else None
        vocabulary: GramVocabulary | None = self._cache["grams"]
        return vocabulary

    def confidence(self, features: Features) -> float:
        return self.head.probability(features)

    def explain(self, features: Features, top: int = EXPLAIN_TOP) -> list[tuple[str, float]]:
        """The largest terms of the decision, by absolute size, as (feature, weight × value)."""
        weights = self.head.weights
        terms = [
            (name, weights[name] * value)
            for name, value in features.items()
            if name in weights and value
        ]
        terms.sort(key=lambda term: -abs(term[1]))
        return [(name, round(term, 3)) for name, term in terms[:top]]

    def category_names(self, features: Features) -> set[str]:
        """The categories the heads name for a claim the rules did not categorise."""
        scored = {name: head.probability(features) for name, head in self.categories.items()}
        chosen = {name for name, p in scored.items() if p >= CATEGORY_THRESHOLD}
        if not chosen and scored:
            chosen = {max(scored, key=scored.__getitem__)}
        return chosen

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "intercept": self.head.intercept,
            "threshold": self.threshold,
            "weights": dict(sorted(self.head.weights.items())),
            "categories": {
                name: {"intercept": head.intercept, "weights": dict(sorted(head.weights.items()))}
                for name, head in sorted(self.categories.items())
            },
            "voice": None
            if self.voice is None
            else {
                "intercept": self.voice.intercept,
                "weights": dict(sorted(self.voice.weights.items())),
            },
            "trained": self.trained,
        }

    def dumps(self) -> str:
        return json.dumps(self.as_json(), indent=0, sort_keys=False, ensure_ascii=False) + "\n"


def _head(data: Any, where: str) -> Head:
    if not isinstance(data, dict):
        raise ModelError(f"{where}: must be a table with 'intercept' and 'weights'")
    intercept = data.get("intercept")
    weights = data.get("weights")
    if not isinstance(intercept, int | float) or isinstance(intercept, bool):
        raise ModelError(f"{where}.intercept: must be a number")
    if not isinstance(weights, dict):
        raise ModelError(f"{where}.weights: must be a table of feature names to numbers")
    clean: dict[str, float] = {}
    for name, weight in weights.items():
        if (
            not isinstance(weight, int | float)
            or isinstance(weight, bool)
            or not math.isfinite(weight)
        ):
            raise ModelError(f"{where}.weights[{name!r}]: must be a finite number")
        clean[str(name)] = float(weight)
    return Head(float(intercept), clean)


def parse_model(raw: bytes, source: str) -> LinearModel:
    """Validate a weights file's bytes; errors name ``source`` and the key."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ModelError(f"{source}: must be a JSON object")
    if data.get("format") != FORMAT:
        raise ModelError(f"{source}: format must be {FORMAT!r}, got {data.get('format')!r}")
    head = _head(data, source)
    threshold = data.get("threshold", 0.5)
    if not isinstance(threshold, int | float) or not 0.0 < float(threshold) < 1.0:
        raise ModelError(f"{source}: threshold must be a number in (0, 1)")
    categories_data = data.get("categories", {})
    if not isinstance(categories_data, dict):
        raise ModelError(f"{source}: categories must be a table")
    categories = {
        str(name): _head(value, f"{source}: categories.{name}")
        for name, value in categories_data.items()
    }
    voice_data = data.get("voice")
    voice = None if voice_data is None else _head(voice_data, f"{source}: voice")
    trained = data.get("trained", {})
    return LinearModel(
        head=head,
        threshold=float(threshold),
        categories=categories,
        sha256=hashlib.sha256(raw).hexdigest(),
        source=source,
        trained=trained if isinstance(trained, dict) else {},
        voice=voice,
    )


def load_model(path: Path) -> LinearModel:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_model(raw, str(path))


@lru_cache(maxsize=1)
def default_model() -> LinearModel:
    """The shipped weights, loaded once per process; rules only when none are shipped."""
    if not DEFAULT_MODEL_PATH.exists():
        return LinearModel.rules_only()
    return load_model(DEFAULT_MODEL_PATH)
