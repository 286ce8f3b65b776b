"""Human-readable explanations and the rule self-check.

:func:`explain` scores one sentence on its own (as a one-paragraph document) and shows every
lexicon hit, every rule that fired, why a firing was set aside (negated, rebutted, reported, no
product context...), the learned decision's confidence and the features that weighed most, and,
for a claim, how its score was computed. :func:`check_rules` runs every rule's examples with the
rules alone (an example tests a rule, not the model) and returns the failures.
"""

from __future__ import annotations

from core.document import Block, Document
from pipeline.claims.article import analyse_document
from pipeline.claims.learned import LinearModel, default_model
from pipeline.claims.model import RuleSet, criterion_label
from pipeline.claims.results import UnitResult
from pipeline.claims.scoring import Claim

_SHOWN_LEXICONS_FIRST = ("substance", "condition", "disease_class", "drug", "group")


def sentence_document(sentence: str) -> Document:
    return Document(blocks=(Block("paragraph", " ".join(sentence.split())),))


def rules_fired(
    sentence: str, rules: RuleSet, model: LinearModel | None = None
) -> tuple[set[str], set[str]]:
    """(rule ids kept as claims, rule ids that fired but were set aside) for one sentence, by the
    rules alone unless a ``model`` is given."""
    kept: set[str] = set()
    fired: set[str] = set()
    model = model or LinearModel.rules_only()
    for result in analyse_document(sentence_document(sentence), rules, model):
        fired.update(firing.rule.id for firing in result.firings)
        if result.claim is not None:
            kept.update(result.claim.rules)
    return kept, fired - kept


def _hits_line(result: UnitResult) -> list[str]:
    sentence = result.unit.sentence
    names = sorted(
        sentence.lexicons,
        key=lambda n: (n not in _SHOWN_LEXICONS_FIRST, n.startswith("="), n),
    )
    lines = []
    for name in names:
        if name.startswith("="):
            continue
        found = sorted({" ".join(sentence.toks[h.start : h.end]) for h in sentence.get(name)})
        lines.append(f"    {name}: {', '.join(found)}")
    return lines


def _claim_lines(claim: Claim, rules: RuleSet) -> list[str]:
    scoring = rules.scoring
    lines = [
        f"  CLAIM score {claim.score:g}: {', '.join(claim.categories)}",
        f"    substance: {claim.substance or '-'} (context: {claim.context})",
        f"    condition: {claim.condition or '-'} (severity {claim.severity}"
        f" x{scoring.severity[claim.severity]:g}"
        + (f", from the {claim.condition_source}" if claim.condition_source else "")
        + ")",
    ]
    if claim.aggravators:
        factors = ", ".join(f"{a} x{scoring.aggravators[a]:g}" for a in claim.aggravators)
        lines.append(f"    aggravators: {factors}")
    if claim.mitigators:
        factors = ", ".join(f"{m} x{scoring.mitigators[m]:g}" for m in claim.mitigators)
        lines.append(f"    mitigators: {factors}")
    if claim.criteria:
        lines.append(f"    criterion: {'; '.join(criterion_label(c) for c in claim.criteria)}")
    if claim.escalations:
        lines.append(f"    escalations: {', '.join(claim.escalations)}")
    if claim.confidence is not None:
        lines.append(f"    confidence: {claim.confidence:.2f}")
    return lines


def _model_lines(result: UnitResult, model: LinearModel) -> list[str]:
    if result.confidence is None:
        return ["  model: not a candidate (no claim vocabulary)"] if not model.passthrough else []
    verdict = "claim" if result.confidence >= model.threshold else "not a claim"
    terms = ", ".join(f"{name} {weight:+.2f}" for name, weight in model.explain(result.features))
    lines = [
        f"  model: confidence {result.confidence:.2f} (threshold {model.threshold:.2f}):"
        f" {verdict}; rules alone: {'claim' if result.rules_claim else 'not a claim'}",
        f"    weighed most: {terms or '(intercept only)'}",
    ]
    return lines


def explain(sentence: str, rules: RuleSet, model: LinearModel | None = None) -> str:
    """Which rules fire on a sentence and why; the learned decision; whether it is a claim and
    how it scores."""
    model = default_model() if model is None else model
    results = analyse_document(sentence_document(sentence), rules, model)
    if not results:
        return "(no text)"
    header = f"rules {rules.version} sha256 {rules.sha256[:12]}"
    if not model.passthrough:
        header += f"; model sha256 {model.sha256[:12]}"
    out: list[str] = [header]
    for result in results:
        out.append(f"sentence: {result.unit.sentence.text}")
        out.append("  lexicon hits:")
        out.extend(_hits_line(result) or ["    (none)"])
        out.extend(_model_lines(result, model))
        if not result.firings:
            if result.claim is not None:
                out.extend(_claim_lines(result.claim, rules))
            else:
                out.append("  no rule fired: not a claim")
            continue
        by_rule = {firing.rule.id: firing for firing in result.firings}
        kept = {firing.rule.id: firing for firing in result.judgement.kept}
        dropped = dict(result.judgement.dropped)
        for rule_id, firing in by_rule.items():
            firing = kept.get(rule_id, firing)
            words = " ".join(result.unit.sentence.toks[firing.start : firing.end])
            status = "kept" if rule_id in kept else f"set aside: {dropped.get(rule_id, '?')}"
            out.append(f"  rule {rule_id} [{firing.rule.category}] on '{words}': {status}")
            out.append(f"    {firing.rule.message}")
        if result.claim is not None:
            out.extend(_claim_lines(result.claim, rules))
        else:
            out.append("  not a claim")
    return "\n".join(out)


def check_rules(rules: RuleSet) -> list[str]:
    """Run every rule's examples; each failure is one line naming the rule and the example."""
    failures: list[str] = []
    for rule in rules.rules:
        for example in rule.examples_match:
            kept, _ = rules_fired(example, rules)
            if rule.id not in kept:
                failures.append(f"{rules.source}: rule {rule.id}: should match: {example!r}")
        for example in rule.examples_no_match:
            kept, _ = rules_fired(example, rules)
            if rule.id in kept:
                failures.append(f"{rules.source}: rule {rule.id}: should not match: {example!r}")
    return failures
