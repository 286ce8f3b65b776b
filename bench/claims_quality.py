"""Claim-scoring quality on the development split in ``../shared/eval`` (read in place, never copied).

Three measurements, with the shipped rules (or ``--rules PATH``):

1. **Units** (``claims_dev.jsonl``: every unit of 13 real articles, labelled). Units are grouped by
   ``article_id`` and rebuilt, in order, as one :class:`~pipeline.document.Document` per article:
   a ``heading`` unit is a heading block, a ``list_item`` unit a list-item block (its bullet
   stripped), and each run of ``sentence``/``fragment`` units one paragraph (the units joined by a
   space), so the scorer has to segment them itself. The article is scored in full; a unit is
   predicted risky when a claim's span covers at least half of the unit's characters. Reported:
   precision, recall and F1 of "risky"; per-category precision and recall (a unit's predicted
   categories are the union over the claims mapped to it); and the false-positive rate on the hard
   negatives, the non-risky units with non-empty ``mentions`` (claims reported, negated or warned
   against).
2. **Regulator claims** (``regulator_claims_dev.jsonl``): each claim is scored alone, as a
   one-paragraph document; recall is the share flagged (at least one claim). Such quotes rarely name
   the substance, so product context comes from the claim itself: a product reference ("this
   product", "our formula", ``[product]``), a supplement noun (capsules, extract, oil), a brand-like
   word, an ad-copy fragment that opens with a claim verb or starts in lower case, or a fragment of
   at most five words, a Title Case line, a capitalised product name inside the sentence (see
   :func:`pipeline.claims.judge.product_context`). The quotes' editorial brackets ("[C]onquers")
   are undone first; "[product]" stays and counts as a product reference.
3. **Articles** (``articles_dev.jsonl``, 36 excerpts): the band of each, by label and kind.

Targets: unit F1 ≥ 0.85 with precision ≥ 0.85; regulator recall ≥ 0.95; mentions FP ≤ 10%.
``--show fp|fn|reg|all`` prints the misses (to the terminal only) for error analysis.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.document import Block, BlockKind, Document, from_text
from pipeline.claims import ArticleScore, RuleSet, default_rules, load_rules, score_document

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
CATEGORY_ALIASES = {
    "drug_interaction_or_combination": "drug_interaction",
    "other": "regulatory_status",
}
_BULLET = re.compile(r"^\s*(?:[-–—•*▪‣]|\d{1,2}[.)])\s*")
_EDITORIAL = re.compile(r"\[([A-Za-z])\]")  # the quoting convention "[C]onquers" -> "Conquers"
COVER = 0.5  # share of a unit's characters a claim must cover to mark the unit


@dataclass
class UnitPrediction:
    row: dict[str, Any]
    start: int
    end: int
    risky: bool = False
    categories: frozenset[str] = frozenset()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def gold_categories(names: list[str]) -> frozenset[str]:
    return frozenset(CATEGORY_ALIASES.get(name, name) for name in names)


def rebuild(rows: list[dict[str, Any]]) -> tuple[Document, list[UnitPrediction]]:
    """One article's units as a document, and each unit's span in ``Document.text``."""
    blocks: list[Block] = []
    units: list[UnitPrediction] = []
    offset = 0
    paragraph: list[tuple[dict[str, Any], str]] = []

    def add(kind: BlockKind, parts: list[tuple[dict[str, Any], str]]) -> None:
        nonlocal offset
        position = offset
        for index, (row, text) in enumerate(parts):
            if index:
                position += 1
            units.append(UnitPrediction(row, position, position + len(text)))
            position += len(text)
        text = " ".join(part for _, part in parts)
        blocks.append(Block(kind, text))
        offset += len(text) + 1

    for row in sorted(rows, key=lambda r: r["sentence_index"]):
        text = " ".join(row["sentence"].split())
        kind = row["unit_type"]
        if kind in ("heading", "list_item"):
            if paragraph:
                add("paragraph", paragraph)
                paragraph = []
            if kind == "list_item":
                text = _BULLET.sub("", text) or text
            add(kind, [(row, text)])
        else:
            paragraph.append((row, text))
    if paragraph:
        add("paragraph", paragraph)
    return Document(blocks=tuple(blocks)), units


def map_claims(score: ArticleScore, units: list[UnitPrediction]) -> None:
    for unit in units:
        length = max(1, unit.end - unit.start)
        names: set[str] = set()
        for claim in score.claims:
            covered = min(unit.end, claim.end) - max(unit.start, claim.start)
            if covered >= COVER * length:
                unit.risky = True
                names.update(claim.categories)
        unit.categories = frozenset(names)


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def units_report(rules: RuleSet, show: set[str]) -> dict[str, float]:
    rows = read_jsonl(EVAL / "claims_dev.jsonl")
    by_article: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_article[row["article_id"]].append(row)
    predictions: list[UnitPrediction] = []
    for article_rows in by_article.values():
        document, units = rebuild(article_rows)
        map_claims(score_document(document, rules), units)
        predictions.extend(units)
    tp = sum(1 for u in predictions if u.risky and u.row["risky"])
    fp = sum(1 for u in predictions if u.risky and not u.row["risky"])
    fn = sum(1 for u in predictions if not u.risky and u.row["risky"])
    precision, recall, f1 = prf(tp, fp, fn)
    hard = [u for u in predictions if u.row["mentions"] and not u.row["risky"]]
    hard_fp = sum(1 for u in hard if u.risky)
    print(f"units: {len(predictions)} in {len(by_article)} articles, {tp + fn} risky")
    print(f"  risky   P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}   (tp {tp}, fp {fp}, fn {fn})")
    print(
        f"  mentions (hard negatives): {hard_fp}/{len(hard)} flagged = {hard_fp / max(1, len(hard)):.1%}"
    )
    print("  per category (P / R, support):")
    categories = sorted({c for u in predictions for c in gold_categories(u.row["categories"])})
    for category in categories:
        gold = [category in gold_categories(u.row["categories"]) for u in predictions]
        pred = [category in u.categories for u in predictions]
        ctp = sum(1 for g, p in zip(gold, pred, strict=True) if g and p)
        cfp = sum(1 for g, p in zip(gold, pred, strict=True) if p and not g)
        cfn = sum(1 for g, p in zip(gold, pred, strict=True) if g and not p)
        cp, cr, _ = prf(ctp, cfp, cfn)
        print(f"    {category:22s} {cp:.2f} / {cr:.2f}  ({sum(gold)})")
    for unit in predictions:
        wrong = unit.risky != unit.row["risky"]
        kind = "fp" if unit.risky else "fn"
        if wrong and (kind in show or "all" in show):
            print(
                f"  {kind.upper()} {unit.row['article_id']} [{unit.row['unit_type']}] "
                f"{sorted(unit.categories) or unit.row['categories']}: {unit.row['sentence'][:160]}"
            )
    return {"precision": precision, "recall": recall, "f1": f1,
            "mentions_fp": hard_fp / max(1, len(hard))}  # fmt: skip


def regulator_report(rules: RuleSet, show: set[str]) -> dict[str, float]:
    rows = read_jsonl(EVAL / "regulator_claims_dev.jsonl")
    hits = 0
    by_category: Counter[str] = Counter()
    found_by_category: Counter[str] = Counter()
    for row in rows:
        text = _EDITORIAL.sub(r"\1", " ".join(row["claim"].split()))
        document = Document(blocks=(Block("paragraph", text),))
        flagged = bool(score_document(document, rules).claims)
        category = CATEGORY_ALIASES.get(row["category"], row["category"])
        by_category[category] += 1
        if flagged:
            hits += 1
            found_by_category[category] += 1
        elif "reg" in show or "all" in show:
            print(f"  MISS {row['id']} [{category}]: {row['claim'][:160]}")
    recall = hits / len(rows)
    print(f"regulator claims: {hits}/{len(rows)} flagged, recall {recall:.3f}")
    for category, total in by_category.most_common():
        print(f"    {category:22s} {found_by_category[category]}/{total}")
    return {"regulator_recall": recall}


def articles_report(rules: RuleSet) -> None:
    rows = read_jsonl(EVAL / "articles_dev.jsonl")
    bands: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        score = score_document(from_text(row["text"], title=row.get("title")), rules)
        bands[f"{row['label']}/{row['kind']}"][score.risk.band] += 1
    print("articles (label/kind: bands):")
    for key in sorted(bands):
        counts = ", ".join(f"{band} {n}" for band, n in sorted(bands[key].items()))
        print(f"    {key:40s} {counts}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=Path, help="rule file (default: the shipped rules)")
    parser.add_argument("--show", action="append", default=[], choices=["fp", "fn", "reg", "all"])
    args = parser.parse_args(argv)
    rules = load_rules(args.rules) if args.rules else default_rules()
    print(f"rules {rules.version} sha256 {rules.sha256[:12]} ({len(rules.rules)} rules)")
    started = time.perf_counter()
    figures = units_report(rules, set(args.show))
    figures.update(regulator_report(rules, set(args.show)))
    articles_report(rules)
    print(f"({time.perf_counter() - started:.2f} s)")
    met = (
        figures["f1"] >= 0.85
        and figures["precision"] >= 0.85
        and figures["regulator_recall"] >= 0.95
        and figures["mentions_fp"] <= 0.10
    )
    print("targets met" if met else "targets NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
