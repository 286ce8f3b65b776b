"""Fit the template score on the development split and write the shipped weights.

Each row of ``../shared/eval/articles_dev.jsonl`` (read in place; none of its text is kept) is parsed
with ``core.document.from_text``, marked as an excerpt (``meta={"excerpt": True}``: the rows are
about 2,000 characters cut mid-word), and measured against the seed family nearest to it
(:meth:`pipeline.dedup.template.Family.measure`). The evidence vectors and the labels
(``same_template`` against all others) fit the logistic model of
:mod:`pipeline.dedup.template_model`, which is written as JSON (feature names and numbers only)
to ``pipeline/dedup/template_weights.json``. ``bench/dedup_quality.py`` reports it cross-validated.

Run: ``python bench/dedup_fit.py [--out PATH] [--c C]`` (a few seconds); prints the weights and the
file's SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.document import Document, from_text
from pipeline.dedup.fit import DEFAULT_C, fit
from pipeline.dedup.seeds import load_families
from pipeline.dedup.template import Family
from pipeline.dedup.template_model import DEFAULT_WEIGHTS_PATH

REPO = Path(__file__).resolve().parents[1]
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
THRESHOLD = 0.5  # the configured default (core.config Dedup.template_threshold)


@dataclass
class Vector:
    id: str
    batch: str
    label: str
    kind: str
    url: str
    document: Document
    features: dict[str, float]

    @property
    def positive(self) -> bool:
        return self.label == "same_template"


def families() -> list[Family]:
    return [Family.learn(name, seeds) for name, seeds in load_families([REPO / "seeds"]).items()]


def nearest(learned: list[Family], document: Document) -> Family:
    return max(learned, key=lambda f: (f.overlap(document), f.name))


def dev_vectors(path: Path, learned: list[Family]) -> list[Vector]:
    out: list[Vector] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw: dict[str, Any] = json.loads(line)
        document = from_text(raw["text"], title=raw.get("title"), url=raw.get("url"))
        document = replace(document, meta={"excerpt": True})
        measured = nearest(learned, document).measure(document)
        out.append(
            Vector(
                raw["id"],
                raw.get("batch") or "first",
                raw["label"],
                raw["kind"],
                raw["url"],
                document,
                measured.features,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", type=Path, default=EVAL / "articles_dev.jsonl")
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS_PATH)
    parser.add_argument("--c", type=float, default=DEFAULT_C, help="inverse L2 strength")
    args = parser.parse_args()
    vectors = dev_vectors(args.eval, families())
    model = fit(
        [v.features for v in vectors],
        [v.positive for v in vectors],
        c=args.c,
        trained={
            "data": args.eval.name,
            "data_sha256": hashlib.sha256(args.eval.read_bytes()).hexdigest(),
            "threshold": THRESHOLD,
            "seeds": "seeds/",
        },
    )
    text = json.dumps(model.as_json(), indent=1, sort_keys=False) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(json.dumps(model.as_json(), indent=1))
    print(f"wrote {args.out} sha256 {hashlib.sha256(text.encode()).hexdigest()}")


if __name__ == "__main__":
    main()
