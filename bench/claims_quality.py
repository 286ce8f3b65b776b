"""Claim-detection quality on the development split in ``../shared/eval`` (read in place, never copied).

Every figure of the learned decision is **cross-validated by article**: the 207 articles of
``claims_dev.jsonl`` are dealt into ``--folds`` folds (seeded); each fold is scored end to end by a
model trained, with its own inner selection of C and threshold, on the other folds only. No figure
comes from a row a model was fitted on. The rules alone ("rules") are shown beside it in the same
run; they are not fitted here (they were hand-tuned on the first 13 articles, the ``first`` batch).

1. **Units**: precision, recall and F1 of "risky", overall, per batch, per article kind and per
   category, and the flagged share of the hard negatives (non-risky units with ``mentions``:
   claims reported, negated or warned against). An article is rebuilt from its units
   (:func:`pipeline.claims.units.rebuild`) and scored in full; a unit is predicted risky when a
   claim covers at least half of its characters.
2. **Regulator-cited claims** (``regulator_claims_dev.jsonl``): each claim scored alone, as a
   one-paragraph document (editorial brackets "[C]onquers" undone); the share flagged, by issuer.
   The model is trained on all of ``claims_dev.jsonl``, which holds none of these rows.
3. **Articles** (``articles_dev.jsonl``): the band of each, by label and kind; an article whose units
   are in ``claims_dev.jsonl`` is scored by the fold model that did not see it.

Targets (issue 10): unit F1 ≥ 0.85 with precision ≥ 0.85 and no batch below 0.75; mentions
flagged ≤ 10 %; regulator-cited claims flagged ≥ 0.90. ``--show fp|fn|reg`` prints the misses of
the cross-validated model (to the terminal only, for error analysis); ``--json FILE`` keeps the
figures.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from core.document import Block, Document, from_text
from pipeline.claims import RuleSet, default_rules, load_rules, score_document
from pipeline.claims.evaluation import Evaluation, cross_validate, evaluate
from pipeline.claims.learned import LinearModel
from pipeline.claims.training import group_folds, train
from pipeline.claims.units import CATEGORY_ALIASES, by_article, read_units

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
_EDITORIAL = re.compile(r"\[([A-Za-z])\]")  # the quoting convention "[C]onquers" -> "Conquers"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def line(name: str, figures: dict[str, Any]) -> str:
    return (
        f"    {name:24s} P {figures['precision']:.3f}  R {figures['recall']:.3f}  "
        f"F1 {figures['f1']:.3f}   ({figures['risky']} risky of {figures['units']})"
    )


def print_evaluation(title: str, evaluation: Evaluation) -> None:
    data = evaluation.as_json()
    print(f"{title}: mentions flagged {evaluation.mentions['flagged']}/"
          f"{evaluation.mentions['units']} = {evaluation.mentions_flagged:.1%}")  # fmt: skip
    print(line("overall", data["overall"]))
    for group in ("by_batch", "by_kind", "by_category"):
        print(f"  {group.replace('_', ' ')}:")
        for name, figures in data[group].items():
            print(line(name, figures))


OPERATING_POINTS = (0.25, 0.35, 0.45, 0.55, 0.65, 0.75)
ERROR_PATHS = {
    "fp": ("rules+model", "model_only"),
    "fn": ("not_candidate", "set_aside", "below_threshold", "overruled"),
}


def print_errors(evaluation: Evaluation) -> None:
    """Where the cross-validated errors come from, per batch (see evaluation.verdict_path)."""
    columns = [(kind, path) for kind, paths in ERROR_PATHS.items() for path in paths]
    print("  errors by batch and path (fp: flagged by; fn: missed because):")
    print("    " + f"{'batch':10s}" + "".join(f"{k}:{p:>16s}" for k, p in columns))
    batches = sorted({batch for batch, _, _ in evaluation.errors})
    for batch in [*batches, "all"]:
        cells = []
        for kind, path in columns:
            n = sum(
                count
                for (b, k, p), count in evaluation.errors.items()
                if k == kind and p == path and batch in (b, "all")
            )
            cells.append(f"{n:19d}")
        print(f"    {batch:10s}" + "".join(cells))
    fp_kinds: Counter[str] = Counter(
        p.unit.article_kind for p in evaluation.predictions if p.risky and not p.unit.risky
    )
    print(
        "  false positives by page kind: "
        + ", ".join(f"{k} {n}" for k, n in fp_kinds.most_common())
    )


def regulator_report(rules: RuleSet, models: dict[str, LinearModel]) -> dict[str, Any]:
    rows = read_jsonl(EVAL / "regulator_claims_dev.jsonl")
    out: dict[str, Any] = {}
    for label, model in models.items():
        flagged: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for row in rows:
            text = _EDITORIAL.sub(r"\1", " ".join(row["claim"].split()))
            document = Document(blocks=(Block("paragraph", text),))
            issuer = row["issuer"].split(" (")[0]
            total[issuer] += 1
            flagged[issuer] += bool(score_document(document, rules, model).claims)
        share = sum(flagged.values()) / len(rows)
        out[label] = {
            "flagged": round(share, 4),
            "by_issuer": {k: f"{flagged[k]}/{n}" for k, n in total.most_common()},
        }
        print(
            f"regulator claims, {label}: {sum(flagged.values())}/{len(rows)} flagged = {share:.3f}"
        )
        print("    " + ", ".join(f"{k} {flagged[k]}/{n}" for k, n in total.most_common()))
    return out


def show_regulator_misses(rules: RuleSet, model: LinearModel) -> None:
    for row in read_jsonl(EVAL / "regulator_claims_dev.jsonl"):
        text = _EDITORIAL.sub(r"\1", " ".join(row["claim"].split()))
        document = Document(blocks=(Block("paragraph", text),))
        if not score_document(document, rules, model).claims:
            print(f"  MISS {row['id']} [{row['category']}]: {row['claim'][:160]}")


def articles_report(
    rules: RuleSet, fold_model: dict[str, LinearModel], full: LinearModel
) -> dict[str, Any]:
    rows = read_jsonl(EVAL / "articles_dev.jsonl")
    bands: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        model = fold_model.get(row["id"], full)
        score = score_document(from_text(row["text"], title=row.get("title")), rules, model)
        bands[f"{row['label']}/{row['kind']}"][score.risk.band] += 1
    print("articles (label/kind: bands, learned decision):")
    for key in sorted(bands):
        counts = ", ".join(f"{band} {n}" for band, n in sorted(bands[key].items()))
        print(f"    {key:40s} {counts}")
    return {key: dict(value) for key, value in sorted(bands.items())}


def show_units(evaluation: Evaluation, show: set[str]) -> None:
    for predicted in evaluation.predictions:
        unit = predicted.unit
        if predicted.risky == unit.risky:
            continue
        kind = "fp" if predicted.risky else "fn"
        if kind in show or "all" in show:
            names = sorted(predicted.categories) or sorted(unit.categories)
            print(f"  {kind.upper()} {unit.article_id} {unit.batch} [{unit.unit_type}] {names}: "
                  f"{unit.text[:160]}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=Path, help="rule file (default: the shipped rules)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--show", action="append", default=[], choices=["fp", "fn", "reg", "all"])
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    rules = load_rules(args.rules) if args.rules else default_rules()
    units = read_units(EVAL / "claims_dev.jsonl")
    started = time.perf_counter()
    print(f"rules {rules.version} sha256 {rules.sha256[:12]}; {len(units)} units, "
          f"{len(by_article(units))} articles; {args.folds}-fold CV by article, seed {args.seed}")  # fmt: skip
    rules_only = evaluate(units, rules, LinearModel.rules_only())
    learned, models = cross_validate(units, rules, args.folds, args.seed)
    print_evaluation("rules alone (not fitted here)", rules_only)
    print_evaluation(f"learned decision, {args.folds}-fold CV by article", learned)
    print_errors(learned)
    print("  operating points (the same CV confidences, one threshold for every fold):")
    for threshold in OPERATING_POINTS:
        figures, hard = learned.at_threshold(threshold)
        print(f"    threshold {threshold:.2f}: P {figures.precision:.3f}  R {figures.recall:.3f}  "
              f"F1 {figures.f1:.3f}  mentions flagged {hard:.1%}")  # fmt: skip
    print("  fold models (C, threshold, inner CV F1): " + ", ".join(
        f"({m.trained['c']}, {m.threshold}, {m.trained['inner_cv_f1']})" for m in models))  # fmt: skip
    full = train(units, rules, args.seed)
    folds = group_folds(list(by_article(units)), args.folds, args.seed)
    fold_model = {article: models[n] for n, fold in enumerate(folds) for article in fold}
    regulator = regulator_report(rules, {"rules": LinearModel.rules_only(), "learned": full})
    articles = articles_report(rules, fold_model, full)
    show = set(args.show)
    show_units(learned, show)
    if "reg" in show or "all" in show:
        show_regulator_misses(rules, full)
    elapsed = time.perf_counter() - started
    print(f"({elapsed:.1f} s)")
    overall = learned.overall
    batches = learned.as_json()["by_batch"].values()
    met = (
        overall.f1 >= 0.85
        and overall.precision >= 0.85
        and min(b["f1"] for b in batches) >= 0.75
        and learned.mentions_flagged <= 0.10
        and regulator["learned"]["flagged"] >= 0.90
    )
    print("targets met" if met else "targets NOT met")
    if args.json:
        figures = {
            "rules_sha256": rules.sha256,
            "folds": args.folds,
            "seed": args.seed,
            "rules_only": rules_only.as_json(),
            "learned_cv": learned.as_json(),
            "regulator": regulator,
            "articles": articles,
            "category_aliases": CATEGORY_ALIASES,
            "seconds": round(elapsed, 1),
        }
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
