"""The features a learned claim decision reads: what the rules saw, where, and in what voice.

:func:`unit_features` describes one sentence (a *unit*) of a scored document as a sparse mapping of
feature names to values. Everything comes from what the rule matcher already found, so a feature
can always be explained in the words of the rule file:

- ``fire:<rule>`` / ``fcat:<category>``: a rule fired; ``kept:<category>``: the judge kept it as a
  claim; ``drop:<reason>`` and ``drop:<category>:<reason>``: why it was set aside (negated,
  reported, no_context, warning_section, ...); ``ctx:<source>``: where product context came from.
- ``lex:<lexicon>``: a lexicon or cue occurs; ``tier:<tier>``: the severity of the conditions named;
  ``unlawful``: an ingredient outside the supplement definition.
- clause scope of the cues that change a sentence's force (negation, hedge, attribution, report,
  study, rebuttal, question, endorsement, warning): ``scope:<cue>:before`` when the cue stands before
  the claim words in the same clause, ``:after`` after them in the same clause, ``:apart`` in
  another clause; ``front:concessive`` for a fronted "although / while / even if" clause that holds
  the claim words ("Although it may ease pain, ...").
- ``kind:<block kind>``, ``implied`` (heading or table of contents), ``heading:question``,
  ``heading:warns``, ``heading:condition``, ``snippet`` (a document of one or two sentences).
- neighbours: ``prev:`` and ``next:`` versions of ``kept``, ``fired``, ``condition``, ``rebuts``
  in the same block; ``pronoun_subject`` (the sentence opens with "it", "this", "they" ...)
  and ``pronoun_after_substance`` when the sentence before named a substance.
- the page's voice, detected from the page itself (:mod:`pipeline.claims.voice`): the shares of its
  candidate sentences that report, attribute, rebut, cite studies or sell, and of first-person
  ("we", "our") and second-person ("you") sentences; ``voice:reportive×kept`` crosses it with
  the rules' verdict; the page kind the crawl declares (``page_kind:<kind>``, crossed with the
  verdict too) where it knows one. Voice is a feature, never a switch.
- ``ng:<n-gram>``: word 1- to 3-grams of the sentence with lexicon phrases replaced by their slot
  (``<substance>``, ``<condition>``, ``<drug>``, ``<group>``), so "kratom eases withdrawal" and
  "kava eases anxiety" share ``<substance> eases <condition>``. Training keeps only the n-grams
  seen in at least two articles, so no sentence can be memorised.

Only *candidate* units are described (:func:`is_candidate`): units where the eager lexicon scan
found a substance, condition, drug, group or claim vocabulary, or a rule fired. The rest are not
claims by construction, which keeps ordinary prose as cheap to score as before.

Scoring with a trained model (:mod:`pipeline.claims.learned`) passes the model's own n-grams as a
:class:`GramVocabulary`: the ``ng:`` names its heads weigh, in one table per n-gram length keyed
on the tokens, built once when the model is first used. The n-grams of a sentence are then looked
up as token tuples (in C: ``map`` over ``zip``), and only those the model knows become features, in the order the full list would give them; the
others, which no head weighs, are never built as strings. Every score, confidence and explanation
is the same as with the full list (a feature no head weighs adds nothing to any sum, and the
names that do are summed in the same order). Training, and a model without weights, get every
n-gram. A new feature needs nothing for this: only ``ng:`` n-grams are filtered, every other
feature is computed as before, whatever its name.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from pipeline.claims.judge import effective_tier, is_genuine_question, rebuts
from pipeline.claims.matcher import Sentence
from pipeline.claims.results import Features, UnitResult
from pipeline.claims.voice import Page, declared_kind_crosses, learned_voice_crosses

if TYPE_CHECKING:
    from pipeline.claims.judge import Setting
    from pipeline.claims.model import RuleSet

# The eager lexicons that make a unit a candidate for a claim: one strong one, or two weak ones
# (a "reduce" or an "oil" alone is everyday prose).
STRONG_LEXICONS = frozenset(
    {
        "condition", "disease_class", "substance", "drug", "group", "safety_claim",
        "certainty_claim", "status_claim", "dose_unit", "product_ref", "implicit_subject",
        "cure_word",
    }
)  # fmt: skip
WEAK_LEXICONS = frozenset(
    {
        "treat", "use_for", "product_noun", "medical_care", "immune_support", "drug_generic",
        "substitute_word", "replace_verb",
    }
)  # fmt: skip
# Lexicon phrases that become slots in the n-grams (longest first when they overlap).
SLOTS = {
    "substance": "<substance>",
    "condition": "<condition>",
    "disease_class": "<condition>",
    "drug": "<drug>",
    "group": "<group>",
}
# The words a claim is made with: the scope of a cue is measured against the first of these.
CORE_LEXICONS = (
    "condition", "disease_class", "treat", "cure_word", "safety_claim", "certainty_claim",
    "status_claim", "substitute_word", "replace_verb", "dose_unit", "immune_support", "use_for",
)  # fmt: skip
SCOPED_CUES = (
    "negation", "hedge", "attribution", "report", "study_report", "rebuttal", "endorsement",
    "warning", "group_warning", "outcome", "agent", "harm", "evidence_word", "interrogative",
)  # fmt: skip
CONCESSIVE = frozenset({"although", "though", "while", "whilst", "even", "despite", "whereas"})
PRONOUNS = frozenset({"it", "this", "they", "these", "its", "their", "such", "that", "those"})
MAX_NGRAM = 3
MAX_TOKENS = 80  # n-grams of the first tokens only: a runaway sentence costs no more than this
NGRAM = "ng:"


@dataclass(frozen=True, slots=True)
class GramVocabulary:
    """The ``ng:`` n-grams a model knows, one table per length keyed on the tokens (a word for
    unigrams, a tuple of words for longer grams), valued by the feature name (see the module
    docstring). :meth:`known` gives the names that ``grams_of(sentence, "ng:")`` would, restricted
    to these, in the same order; the lookups run in C (``map``, ``zip``, ``filter``)."""

    tables: tuple[dict[Any, str], ...]

    @classmethod
    def of(cls, names: Iterable[str]) -> GramVocabulary:
        tables: tuple[dict[Any, str], ...] = tuple({} for _ in range(MAX_NGRAM))
        for name in names:
            if not name.startswith(NGRAM):
                continue
            words = tuple(name[len(NGRAM) :].split(" "))
            if 1 <= len(words) <= MAX_NGRAM:  # other names are never produced by ngrams()
                tables[len(words) - 1][words[0] if len(words) == 1 else words] = name
        return cls(tables)

    @property
    def size(self) -> int:
        return sum(len(table) for table in self.tables)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(name for table in self.tables for name in table.values())

    def known(self, sentence: Sentence) -> list[str]:
        """The sentence's n-gram features this vocabulary holds: the unigrams in token order, then
        the bigrams, then the trigrams, as :func:`ngrams` orders them (repeats kept)."""
        toks = sentence.memo.get("slotted")
        if toks is None:
            toks = sentence.memo["slotted"] = slotted(sentence)
        found = list(filter(None, map(self.tables[0].get, toks)))
        for n in range(2, MAX_NGRAM + 1):
            table = self.tables[n - 1]
            if table and len(toks) >= n:
                keys = zip(*(toks[k:] for k in range(n)), strict=False)  # shorter by n - 1
                found.extend(filter(None, map(table.get, keys)))
        return found


def is_candidate(sentence: Sentence, fired: bool) -> bool:
    """Whether a unit can be a claim at all: a rule fired, or a strong claim lexicon occurs, or
    two weak ones do."""
    if fired:
        return True
    present = sentence.by_lex.keys()
    if not STRONG_LEXICONS.isdisjoint(present):
        return True
    return len(WEAK_LEXICONS.intersection(present)) >= 2


def grams_of(sentence: Sentence, prefix: str, longest: int = MAX_NGRAM) -> list[str]:
    """The slotted n-grams of a sentence as feature names (``prefix`` + gram), computed once per
    sentence, prefix and length."""
    key = f"{prefix}{longest}"
    found = sentence.memo.get(key)
    if found is None:
        base = sentence.memo.get("grams")
        if base is None:
            base = sentence.memo["grams"] = ngrams(slotted(sentence))
        grams = base if longest == MAX_NGRAM else [g for g in base if g.count(" ") < longest]
        found = sentence.memo[key] = [prefix + gram for gram in grams]
    return found


def slotted(sentence: Sentence) -> list[str]:
    """The sentence's tokens with lexicon phrases replaced by their slot names."""
    spans: list[tuple[int, int, str]] = []
    for lexicon, slot in SLOTS.items():
        for hit in sentence.by_lex.get(lexicon, ()):
            spans.append((hit.start, -hit.end, slot))
    toks = sentence.toks[:MAX_TOKENS]
    if not spans:
        return list(toks)
    spans.sort()
    out: list[str] = []
    position = 0
    for start, negative_end, slot in spans:
        if start < position or start >= len(toks):
            continue
        out.extend(toks[position:start])
        out.append(slot)
        position = -negative_end
    out.extend(toks[position:])
    return out


def ngrams(toks: Sequence[str], longest: int = MAX_NGRAM) -> list[str]:
    """Word 1- to ``longest``-grams (punctuation kept: it marks clauses and questions)."""
    grams: list[str] = []
    count = len(toks)
    for n in range(1, longest + 1):
        for i in range(count - n + 1):
            grams.append(" ".join(toks[i : i + n]))
    return grams


def _core(sentence: Sentence, result: UnitResult) -> int | None:
    positions = [firing.start for firing in result.firings]
    by_lex = sentence.by_lex
    for lexicon in CORE_LEXICONS:
        hits = by_lex.get(lexicon)
        if hits:
            positions.extend(hit.start for hit in hits)
    if not positions:
        positions = [hit.start for hit in sentence.by_lex.get("substance", ())]
    return min(positions) if positions else None


def scope_features(sentence: Sentence, result: UnitResult, out: Features) -> None:
    """Where each cue stands against the claim words: same clause before or after, or apart."""
    core = _core(sentence, result)
    breaks = sorted(hit.start for hit in sentence.get("clause_break"))
    exceptions = {hit.start for hit in sentence.get("negation_exception")}

    def clause(position: int) -> int:  # the number of breaks before it (breaks are sorted)
        return bisect_left(breaks, position)

    core_clause = clause(core) if core is not None else -1
    for cue in SCOPED_CUES:
        hits = sentence.get(cue)
        if cue == "negation":
            hits = [hit for hit in hits if hit.start not in exceptions]
        if not hits:
            continue
        out[f"lex:{cue}"] = 1.0
        if core is None:
            continue
        for hit in hits:
            if clause(hit.start) != core_clause:
                where = "apart"
            else:
                where = "before" if hit.start <= core else "after"
            out[f"scope:{cue}:{where}"] = 1.0
    toks = sentence.toks
    if toks and toks[0] in CONCESSIVE:
        out["front:concessive"] = 1.0
        first_break = next((b for b in breaks if b > 0), len(toks))
        if core is not None and core < first_break:
            out["front:concessive_core"] = 1.0
    if toks[-1:] == ["?"]:
        out["question"] = 1.0
        if is_genuine_question(sentence):
            out["question:genuine"] = 1.0


def rule_features(result: UnitResult, rules: RuleSet, out: Features) -> None:
    judgement = result.judgement
    for firing in result.firings:
        out[f"fire:{firing.rule.id}"] = 1.0
        out[f"fcat:{firing.rule.category}"] = 1.0
    for firing in judgement.kept:
        out[f"kept:{firing.rule.category}"] = 1.0
    if judgement.kept:
        out["kept"] = 1.0
    by_id = {firing.rule.id: firing.rule.category for firing in result.firings}
    for rule_id, reason in judgement.dropped:
        out[f"drop:{reason}"] = 1.0
        out[f"drop:{by_id.get(rule_id, '?')}:{reason}"] = 1.0
    if judgement.context:
        out[f"ctx:{judgement.context}"] = 1.0
    if judgement.groups:
        out["groups"] = 1.0


def lexicon_features(sentence: Sentence, rules: RuleSet, out: Features) -> None:
    for lexicon in sentence.lexicons:
        if lexicon != "^" and not lexicon.startswith("="):
            out[f"lex:{lexicon}"] = 1.0
    for hit in (*sentence.by_lex.get("condition", ()), *sentence.by_lex.get("disease_class", ())):
        out[f"tier:{effective_tier(sentence, hit, rules)}"] = 1.0
    for hit in sentence.by_lex.get("substance", ()):
        entry = rules.entry("substance", hit.key)
        if entry is not None and entry.unlawful:
            out["unlawful"] = 1.0
            break


def _neighbour(prefix: str, result: UnitResult | None, out: Features) -> None:
    if result is None:
        return
    sentence = result.unit.sentence
    if result.claim is not None:
        out[f"{prefix}:kept"] = 1.0
    if result.firings:
        out[f"{prefix}:fired"] = 1.0
    if "condition" in sentence.by_lex:
        out[f"{prefix}:condition"] = 1.0
    if "substance" in sentence.by_lex:
        out[f"{prefix}:substance"] = 1.0
    if result.firings and rebuts(sentence):
        out[f"{prefix}:rebuts"] = 1.0


def _context_words(same_block: UnitResult | None, before: UnitResult | None, out: Features) -> None:
    """What stands right before a sentence: a question heading frames its answer ("Is it safe for
    kids?" then "Yes!"). (The heading's and the previous sentence's words as n-grams were
    measured too, and added nothing under cross-validation.)"""
    if (
        before is not None
        and before.unit.kind == "heading"
        and before.unit.sentence.toks[-1:] == ["?"]
    ):
        out["prev:question_heading"] = 1.0
    if same_block is None:
        out["first_in_block"] = 1.0


LENGTHS = (3, 6, 12, 25, 40)


def _shape(sentence: Sentence, out: Features) -> None:
    """Length, capitals and what the sentence opens with."""
    words = sum(map(str.isalnum, map(itemgetter(0), sentence.toks)))  # tokens opening with one
    bucket = next((limit for limit in LENGTHS if words <= limit), 99)
    out[f"len:{bucket}"] = 1.0
    if words >= 2 and sentence.text.isupper():
        out["shape:caps"] = 1.0
    for lexicon, hits in sentence.by_lex.items():  # hits are in scan order: the first starts first
        if hits and hits[0].start == 0 and lexicon != "^" and not lexicon.startswith("="):
            out[f"start:{lexicon}"] = 1.0
    if "!" in sentence.toks:
        out["shape:exclamation"] = 1.0


def unit_features(
    results: Sequence[UnitResult],
    position: int,
    setting: Setting,
    page: Page,
    rules: RuleSet,
    heading: Sentence | None = None,
    vocabulary: GramVocabulary | None = None,
) -> Features:
    """The features of the unit at ``position`` (see the module docstring); with ``vocabulary``,
    only the n-grams it holds."""
    result = results[position]
    unit = result.unit
    sentence = unit.sentence
    out: Features = {f"kind:{unit.kind}": 1.0}
    flags = (
        (unit.implied, "implied"),
        (setting.snippet, "snippet"),
        (setting.warning_section, "heading:warns"),
        (setting.heading_condition, "heading:condition"),
        (setting.heading_substance, "heading:substance"),
        (setting.article_subject, "article:subject"),
    )
    out.update((name, 1.0) for present, name in flags if present)
    if heading is not None and heading.toks[-1:] == ["?"]:
        out["heading:question"] = 1.0
    rule_features(result, rules, out)
    lexicon_features(sentence, rules, out)
    scope_features(sentence, result, out)
    previous = results[position - 1] if position > 0 else None
    following = results[position + 1] if position + 1 < len(results) else None
    if previous is not None and previous.unit.block != unit.block:
        previous = None
    if following is not None and following.unit.block != unit.block:
        following = None
    _neighbour("prev", previous, out)
    _neighbour("next", following, out)
    if sentence.toks and sentence.toks[0] in PRONOUNS:
        out["pronoun_subject"] = 1.0
        if previous is not None and "substance" in previous.unit.sentence.by_lex:
            out["pronoun_after_substance"] = 1.0
    _context_words(previous, results[position - 1] if position > 0 else None, out)
    _shape(sentence, out)
    out.update(page.features)
    if "kept" in out:
        out["voice:reportive×kept"] = page.voice.reportive
    if page.learned is not None:
        learned_voice_crosses(out, page.learned)
    if page.declared is not None:
        declared_kind_crosses(out, page.declared)
    if vocabulary is None:
        out.update(dict.fromkeys(grams_of(sentence, NGRAM), 1.0))
    else:
        out.update(dict.fromkeys(vocabulary.known(sentence), 1.0))
    return out
