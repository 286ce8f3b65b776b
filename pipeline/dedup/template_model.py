"""The template score: a logistic model over a document's evidence vector, shipped as data.

``score = 1 / (1 + exp(-(intercept + Σ weight[f] × value[f])))`` over the features of
:data:`FEATURES` (each 0..1), so no single feature is required and each one
counts for what it was worth on labelled pages. The weights are a JSON file (never a pickle),
validated on load; its SHA-256 names the weights that produced a score. The file holds feature
names and numbers only.

File format (``format = "claimwatch-template-linear/1"``)::

    {"format": "claimwatch-template-linear/1",
     "intercept": -6.1,
     "weights": {"toc": 0.4, "toc_echo": 2.3, ...},
     "trained": {"rows": 273, "positives": 36, "c": 1.0, ...}}

``bench/dedup_fit.py`` writes it from the development split (and cross-validates it by article).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

FORMAT = "claimwatch-template-linear/1"
DEFAULT_WEIGHTS_PATH = Path(__file__).with_name("template_weights.json")
FEATURES: tuple[str, ...] = (
    "toc",  # a bulleted list starts near the top
    "toc_echo",  # its first item comes back as the first heading after it
    "toc_coverage",  # the share of its items that come back as headings
    "toc_cut",  # an excerpt that ends inside that list (the echo cannot be checked)
    "toc_titles",  # the share of its (complete) items written as section titles
    "toc_full",  # echo × coverage × titles: every item a title that comes back as a heading
    "toc_size",  # as many items as the seeds' lists (1), or one more or less (0.5)
    "opening",  # prose blocks before the list (or the first heading) as in the seeds, no heading
    "summary",  # the first block is a paragraph as long as the seeds' summaries
    "heading_length",  # list items (else headings) of the seeds' heading length
    "heading_style",  # list items (else headings) start with the seeds' first words
    "paragraphs",  # the body's mean paragraph length is in the seeds' range
    "phrases",  # stock phrases of the template anywhere (4 or more: 1)
    "opening_phrases",  # stock phrases in the opening, before the list (2 or more: 1)
)


class TemplateModelError(ValueError):
    """A weights file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class TemplateModel:
    intercept: float
    weights: dict[str, float]
    sha256: str = ""
    trained: dict[str, Any] = field(default_factory=dict, repr=False)

    def margin(self, features: dict[str, float]) -> float:
        return self.intercept + sum(w * features.get(name, 0.0) for name, w in self.weights.items())

    def probability(self, features: dict[str, float]) -> float:
        z = self.margin(features)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "intercept": self.intercept,
            "weights": dict(self.weights),
            "trained": dict(self.trained),
        }

    @classmethod
    def parse(
        cls,
        raw: Any,
        *,
        features: tuple[str, ...] = FEATURES,
        source: str = "<weights>",
        sha256: str = "",
    ) -> TemplateModel:
        if not isinstance(raw, dict):
            raise TemplateModelError(f"{source}: expected a JSON object")
        if raw.get("format") != FORMAT:
            raise TemplateModelError(f"{source}: format must be {FORMAT!r}")
        unknown = set(raw) - {"format", "intercept", "weights", "trained"}
        if unknown:
            raise TemplateModelError(f"{source}: unknown keys {sorted(unknown)}")
        weights = raw.get("weights")
        if not isinstance(weights, dict):
            raise TemplateModelError(f"{source}: weights must be an object")
        names = set(weights)
        if names - set(features):
            raise TemplateModelError(f"{source}: unknown features {sorted(names - set(features))}")
        if set(features) - names:
            raise TemplateModelError(f"{source}: missing features {sorted(set(features) - names)}")
        values = {"intercept": raw.get("intercept"), **weights}
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TemplateModelError(f"{source}: {name} must be a number")
            if not math.isfinite(value):
                raise TemplateModelError(f"{source}: {name} must be finite")
        trained = raw.get("trained", {})
        if not isinstance(trained, dict):
            raise TemplateModelError(f"{source}: trained must be an object")
        return cls(
            float(raw["intercept"]),
            {name: float(weights[name]) for name in features},
            sha256,
            trained,
        )


def load_model(path: Path, features: tuple[str, ...] = FEATURES) -> TemplateModel:
    data = path.read_bytes()
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise TemplateModelError(f"{path}: not JSON ({exc})") from None
    return TemplateModel.parse(
        raw, features=features, source=str(path), sha256=hashlib.sha256(data).hexdigest()
    )


@lru_cache(maxsize=1)
def default_model() -> TemplateModel:
    """The shipped weights (read once per process)."""
    return load_model(DEFAULT_WEIGHTS_PATH, FEATURES)
