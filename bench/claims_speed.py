"""Claim-scoring speed: documents/s and MB/s on one core, and how it scales with lexicon size.

Corpus: the 181 article bodies (``articleBody``) of ``../shared/eval/aeb/ground-truth.json``, read
in place and parsed with :func:`core.document.from_text` before timing. MB counts the UTF-8 bytes
of ``Document.text``.

Rule sets: the shipped rules, and the same rules with the lexicons grown synthetically (made-up
substance and condition names passed through ``load_rules(..., extra=...)``, as a user's config
would) until the phrase index holds 5,000 and 20,000 phrases.

Rates are per CPU-second of this one process (``time.process_time``), i.e. per core, so other
load on the machine distorts them less (caches and memory bandwidth are still shared). For each rule
set, in the same run and process:

- ``learned``: :func:`pipeline.claims.score_document` with the shipped learned decision, and
  ``rules``: the same with :meth:`~pipeline.claims.learned.LinearModel.rules_only` (the scorer as
  it was before the learned layer), and ``every n-gram``: the learned decision with every n-gram of
  a sentence built as a feature string, as before the model's own n-gram tables
  (``every_ngram=True``; same scores). Their passes alternate, so all see the same machine; each
  rate is the best of ``--repeat`` passes, and ``learned ÷ rules`` is the ratio of the two;
- ``naive``: the scan a keyword tool would do: one compiled, case-insensitive, word-bounded regex
  per lexicon phrase, each searched over each sentence (sentences cut beforehand, so only the scan is
  timed). It finds hits only, no rules or context, so it is a lower bound on a per-pattern design.
  It runs on as many documents as fit in ``--naive-seconds`` and its rate is extrapolated.

The ratios printed are claimwatch/naive (speed-up) and each size against the shipped rules
(flatness: 1.0 means the cost does not grow with the number of patterns). ``--json`` prints the
figures as one JSON object instead; ``--shipped-only`` skips the grown rule sets. The script uses
only APIs older than the fast path, so ``bench/claims_speed_ab.py`` can run it against the
packages of another worktree (a base commit) to compare commits side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.document import Document, from_text
from pipeline.claims import DEFAULT_RULES_PATH, RuleSet, load_rules, score_document
from pipeline.claims.learned import LinearModel, default_model
from pipeline.claims.text import sentences

AEB = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aeb" / "ground-truth.json"
SIZES = (10_000, 20_000)
_SYLLABLES = "ka lo mi ra ve zu to ne shi pa dor en ix ul ba fe gi ro sa tem qua vy".split()


@dataclass
class Result:
    label: str
    phrases: int
    docs_per_s: float  # the learned decision
    mb_per_s: float
    rules_docs_per_s: float  # the rules alone
    naive_docs_per_s: float
    every_docs_per_s: float = float("nan")  # the learned decision building every n-gram


def load_corpus() -> list[Document]:
    data: dict[str, dict[str, Any]] = json.loads(AEB.read_text(encoding="utf-8"))
    return [from_text(row["articleBody"] or "") for _, row in sorted(data.items())]


def made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def grown_extra(base: RuleSet, target: int, seed: int = 7) -> dict[str, Any]:
    """Extra substances and conditions until the phrase index holds about ``target`` phrases."""
    rng = random.Random(seed)
    missing = max(0, target - base.index.size)
    substances: dict[str, Any] = {}
    conditions: dict[str, Any] = {}
    for i in range(missing // 2):
        substances[f"synthetic_substance_{i}"] = {
            "synonyms": [f"{made_up_word(rng)} {rng.choice(['root', 'extract', 'leaf', 'oil'])}"]
        }
    for i in range(missing - missing // 2):
        conditions[f"synthetic_condition_{i}"] = {
            "tier": rng.choice(["serious", "chronic", "minor"]),
            "synonyms": [f"{made_up_word(rng)} {rng.choice(['syndrome', 'disorder', 'fever'])}"],
        }
    return {"substances": substances, "conditions": conditions}


def all_phrases(rules: RuleSet) -> list[str]:
    phrases = [p for table in rules.entries.values() for e in table.values() for p in e.synonyms]
    phrases += [p for values in rules.cues.values() for p in values]
    return phrases


def time_ours(
    rules: RuleSet, docs: list[Document], repeat: int, models: list[LinearModel]
) -> list[float]:
    """CPU seconds of the best pass of each model, the passes alternating between the models."""
    best = [float("inf")] * len(models)
    for _ in range(repeat):
        for number, model in enumerate(models):
            started = time.process_time()
            for doc in docs:
                score_document(doc, rules, model)
            best[number] = min(best[number], time.process_time() - started)
    return best


def time_naive(rules: RuleSet, docs: list[Document], budget: float) -> float:
    """Docs/s of the per-pattern regex scan (extrapolated from the documents done in ``budget``)."""
    patterns = [
        re.compile(r"\b" + re.escape(p.replace("+", "")) + r"\b", re.IGNORECASE)
        for p in all_phrases(rules)
    ]
    texts = [
        [block.text[s.start : s.end] for block in doc.blocks for s in sentences(block.text)]
        for doc in docs
    ]
    done = 0
    started = time.process_time()
    for doc_sentences in texts:
        for sentence in doc_sentences:
            for pattern in patterns:
                pattern.search(sentence)
        done += 1
        if time.process_time() - started > budget and done >= 3:
            break
    return done / (time.process_time() - started)


def measure(label: str, rules: RuleSet, docs: list[Document], args: argparse.Namespace) -> Result:
    total_mb = sum(len(doc.text.encode("utf-8")) for doc in docs) / 1e6
    models = [default_model(), LinearModel.rules_only()]
    if any(f.name == "every_ngram" for f in dataclasses.fields(LinearModel)):  # older commits
        models.append(dataclasses.replace(models[0], every_ngram=True, _cache={}))
    timed = time_ours(rules, docs, args.repeat, models)
    learned, alone = timed[:2]
    every = len(docs) / timed[2] if len(timed) > 2 else float("nan")
    naive = time_naive(rules, docs, args.naive_seconds) if args.naive_seconds > 0 else float("nan")
    return Result(
        label,
        rules.index.size,
        len(docs) / learned,
        total_mb / learned,
        len(docs) / alone,
        naive,
        every,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive-seconds", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--shipped-only", action="store_true", help="skip the grown rule sets")
    args = parser.parse_args(argv)
    docs = load_corpus()
    mb = sum(len(doc.text.encode("utf-8")) for doc in docs) / 1e6
    if not args.json:
        print(f"corpus: {len(docs)} AEB article bodies, {mb:.2f} MB; one process, one core")
    base = load_rules(DEFAULT_RULES_PATH)
    rule_sets = [("shipped", base)]
    for size in () if args.shipped_only else SIZES:
        rule_sets.append(
            (f"grown to {size:,}", load_rules(DEFAULT_RULES_PATH, grown_extra(base, size)))
        )
    results = [measure(label, rules, docs, args) for label, rules in rule_sets]
    if args.json:
        print(json.dumps([dataclasses.asdict(result) for result in results]))
        return 0
    print(f"{'lexicons':16s} {'phrases':>8s} {'learned/s':>10s} {'MB/s':>6s} {'rules/s':>8s}"
          f" {'learned÷rules':>14s} {'every n-gram/s':>15s} {'naive/s':>8s} {'vs naive':>9s}"
          f" {'vs shipped':>11s}")  # fmt: skip
    for result in results:
        print(
            f"{result.label:16s} {result.phrases:8,d} {result.docs_per_s:10,.0f}"
            f" {result.mb_per_s:6.2f} {result.rules_docs_per_s:8,.0f}"
            f" {result.docs_per_s / result.rules_docs_per_s:14.2f}"
            f" {result.every_docs_per_s:15,.0f}"
            f" {result.naive_docs_per_s:8,.1f}"
            f" {result.docs_per_s / result.naive_docs_per_s:8,.0f}x"
            f" {result.docs_per_s / results[0].docs_per_s:10.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
