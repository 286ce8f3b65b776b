"""Context, not keywords: deciding which rule firings in a sentence are claims, and how strong.

A firing is **not a claim** when the sentence

- is a genuine question (ends in ``?`` and opens with an interrogative: "Does kratom treat pain?");
- rebuts ("there is no evidence that...", "has not been proven", or a negation before an evidence
  word), warns ("red flag", "warning sign") or is the DSHEA disclaimer itself;
- reports a claim ("claims that", "marketed as", "warning letters", "the FDA warns", "used for
  centuries", a study's participants) in the same coordinate clause as the claim words (a report
  does not reach across "; ", ", and", "but");
- negates the claim words ("is not a cure", "does not treat"; see
  :func:`pipeline.claims.matcher.negation_of`), or holds them inside a short quotation;
- sits in a section whose heading warns ("Known risks", "Side effects", "What to watch for"), for
  every category but safety assurance;
- is a disease firing whose only condition is a structure/function one ("supports focus",
  "occasional sleeplessness"): a lawful structure/function statement;
- lacks product context. Context is, in order: a substance in the sentence; a product reference
  ("this product", "our formula", ``[product]``, a supplement noun such as capsules or extract, a
  brand-like CamelCase or trade-marked word); an implicit subject (a sentence or list item that
  opens with a claim verb: "Relieves joint pain."); then, unless the rule asks for the sentence
  itself, the substance of the heading above (or of the lead-in before a list) and last the
  article's subject (its most frequent substance). Heading and subject context do not apply when
  another agent (a drug, therapy, exercise, medication) comes before the claim words.

Attribution to others ("users say", "some believe", "parents report") in the same coordinate clause
reports a claim rather than making it: such a sentence is not a claim, unless the writer endorses
it ("and you can definitely use it"); then it is a claim with the ``attributed`` mitigator (and a
rebuttal in a neighbouring sentence, "..., but there is no evidence", clears even that). Hedges mark the claim ``hedged`` but do not clear it. A sentence whose
subject is a treatment activity ("Treating anxiety requires ...") needs product context in the
sentence itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.claims.index import Hit
from pipeline.claims.matcher import Firing, Sentence, negation_of
from pipeline.claims.model import TIERS, RuleSet

EVIDENCE_WINDOW = 3  # "no (good) evidence", "not (yet) proven"
GROUP_WARNING_BEFORE = 6  # "avoid ... if you are pregnant", "keep out of reach of children"
GROUP_WARNING_AFTER = 4  # "pregnant women should avoid it"
QUOTE_SHARE = 0.6  # a quotation shorter than this share of the sentence marks reported words
SF_QUALIFIER_GAP = 2  # "occasional sleeplessness", "healthy blood sugar"
_QUOTES = frozenset({'"', "“", "”"})
_BRAND = re.compile(r"\b[A-Z][a-z]+[A-Z][A-Za-z]*\b|\w[™®]|\[[Pp]roduct\]")
SNIPPET_SENTENCES = 2
FRAGMENT_WORDS = 5  # "Miracle cure", "FDA accepted": label copy, not prose
TITLE_CASE_SHARE = 0.8
# In a snippet, a capitalised multi-word name after the first word names a product.
_PRODUCT_NAME = re.compile(r"(?<=\w[ ,])[A-Z][a-z]+(?:[ -][A-Z][\w-]*)+")
SEVERITY_ORDER = {tier: rank for rank, tier in enumerate(TIERS)}
_NEGATING_CLAIMS = ("safety_claim", "replace_verb")  # claim phrases that contain a negation


@dataclass(slots=True)
class Setting:
    """What the article around a sentence tells the judge (built by :mod:`pipeline.claims.article`)."""

    heading_substance: str | None = None
    heading_condition: str | None = None
    article_subject: str | None = None
    article_condition: str | None = None
    warning_section: bool = False
    rebuttal_nearby: bool = False
    commercial_nearby: bool = False
    implied: bool = False
    snippet: bool = False  # the document is at most SNIPPET_SENTENCES sentences: ad copy alone


@dataclass(slots=True)
class Judgement:
    """The firings kept as claims, the ones set aside (rule id, reason), and the modifiers."""

    kept: list[Firing] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)
    context: str | None = None
    substance: str | None = None
    hedged: bool = False
    mitigators: list[str] = field(default_factory=list)
    groups: list[Hit] = field(default_factory=list)


def is_question(sentence: Sentence) -> bool:
    return "?" in sentence.toks[-2:]


def is_genuine_question(sentence: Sentence) -> bool:
    """A question that asks ("Does CBD cure cancer?"), not a teaser ("COVID relief with CBD?")."""
    if not is_question(sentence):
        return False
    toks = sentence.toks
    clause_start = 0
    for i, tok in enumerate(toks[:-1]):
        if tok in {":", ";"} or (tok in _QUOTES and i + 1 < len(toks)):
            clause_start = i + 1
    starts = {hit.start for hit in sentence.get("interrogative")}
    return 0 in starts or clause_start in starts


def rebuts(sentence: Sentence) -> bool:
    """A rebuttal phrase, or a negation shortly before an evidence word ("no good evidence")."""
    if sentence.has("rebuttal"):
        return True
    if not (sentence.has("negation") and sentence.has("evidence_word")):
        return False
    exceptions = {hit.start for hit in sentence.get("negation_exception")}
    evidence = [hit.start for hit in sentence.get("evidence_word")]
    claimed = [  # "no side effects, as proven": the negation belongs to a safety claim
        (hit.start, hit.end) for name in _NEGATING_CLAIMS for hit in sentence.get(name)
    ]
    for cue in sentence.get("negation"):
        if cue.start in exceptions or any(s < cue.end and cue.start < e for s, e in claimed):
            continue
        if any(0 <= start - cue.end <= EVIDENCE_WINDOW for start in evidence):
            return True
    return False


def sentence_suppression(sentence: Sentence) -> str | None:
    """Why no firing in this sentence is a claim, or ``None``."""
    if is_genuine_question(sentence):
        return "question"
    if rebuts(sentence):
        return "rebutted"
    if sentence.has("warning"):
        return "warning"
    if sentence.has("disclaimer"):
        return "disclaimer"
    return None


def _in_scope(sentence: Sentence, cues: list[Hit], firing: Firing) -> bool:
    """Whether a report or attribution cue governs the firing: it sits in the same coordinate
    clause ("Sellers say kratom cures pain"; "Kratom cures pain, sellers say"), not across "; ",
    ", and", "but" ("It was used for centuries, and science confirms it fights tumors")."""
    coordinators = [hit.start for hit in sentence.get("coordinator")]
    for cue in cues:
        low, high = sorted((cue.start, firing.start))
        if not any(low < c < high for c in coordinators):
            return True
    return False


def reported(sentence: Sentence, firing: Firing) -> bool:
    """A report of someone else's claim or of a study ("claims that", "marketed as", "for
    centuries", "participants were given") governs the firing."""
    cues = [*sentence.get("report"), *sentence.get("study_report")]
    return bool(cues) and _in_scope(sentence, cues, firing)


def _quoted(sentence: Sentence, firing: Firing) -> bool:
    if _QUOTES.isdisjoint(sentence.tokset):
        return False
    marks = [i for i, tok in enumerate(sentence.toks) if tok in _QUOTES]
    if len(marks) < 2:
        return False
    limit = QUOTE_SHARE * len(sentence.toks)
    for opening, closing in zip(marks[::2], marks[1::2], strict=False):
        if closing - opening < limit and opening < firing.start and firing.end <= closing:
            return True
    return False


def _agent_before(sentence: Sentence, firing: Firing) -> bool:
    own = set(firing.hits)
    for lexicon in ("agent", "drug"):
        for hit in sentence.get(lexicon):
            if hit.start < firing.start and hit not in own:
                return True
    return False


def _word_count(sentence: Sentence) -> int:
    return sum(1 for tok in sentence.toks if tok[0].isalnum())


def product_context(sentence: Sentence, snippet: bool = False) -> str | None:
    """Product context in the sentence itself, or ``None``.

    ``product``: a product reference, a supplement noun or a brand-like word. ``implicit_subject``:
    ad copy whose subject is the product left unsaid, i.e. a sentence that opens with a claim verb
    in the third person or a disease-class word ("Relieves joint pain.", "Anti-inflammatory and
    ..."). In a ``snippet`` (a document of at most two sentences, such as a quoted ad line) also an
    imperative or label opening ("Prevent infection", "Natural relief for ..."), a fragment that
    starts in lower case (quoted from the middle of a sentence), a fragment of at most
    FRAGMENT_WORDS words ("Miracle cure"), a line in Title Case (a product name or headline), and a
    capitalised multi-word name inside the sentence ("using Emergency Relief Plan provokes ...").
    """
    if sentence.has("product_ref") or sentence.has("product_noun"):
        return "product"
    if _BRAND.search(sentence.text):
        return "product"
    openers = ("implicit_subject", "disease_class", "ad_copy_start") if snippet else (
        "implicit_subject", "disease_class")  # fmt: skip
    for lexicon in openers:
        if any(hit.start == 0 for hit in sentence.get(lexicon)):
            return "implicit_subject"
    if snippet:
        if _PRODUCT_NAME.search(sentence.text):
            return "product"
        first = next((ch for ch in sentence.text if ch.isalpha()), "")
        if first.islower() or _word_count(sentence) <= FRAGMENT_WORDS or _title_case(sentence):
            return "implicit_subject"
    return None


def _title_case(sentence: Sentence) -> bool:
    """A line in Title Case reads as a product name or a headline ("Joint Pain Relief Formula")."""
    words = [w for w in sentence.text.split() if w[:1].isalpha() and len(w) > 3]
    return len(words) >= 2 and sum(w[0].isupper() for w in words) >= TITLE_CASE_SHARE * len(words)


def _gerund_subject(sentence: Sentence) -> bool:
    """A gerund subject ("Treating anxiety requires ..."): the activity, not a product."""
    return (
        bool(sentence.toks)
        and sentence.toks[0].endswith("ing")
        and any(hit.start == 0 for hit in sentence.get("treat"))
    )


def find_context(
    sentence: Sentence, firing: Firing, setting: Setting
) -> tuple[str, str | None] | None:
    """Where the product context of a firing comes from, and the substance if one is named."""
    rule = firing.rule
    substances = sentence.get("substance")
    if substances:
        before = [hit for hit in substances if hit.start <= firing.start]
        return "sentence", (before[-1] if before else substances[0]).key
    if rule.context == "none":
        return "none", setting.article_subject
    source = product_context(sentence, setting.snippet)
    if source:
        return source, setting.heading_substance or setting.article_subject
    if rule.context == "sentence" or _agent_before(sentence, firing) or _gerund_subject(sentence):
        return None
    if setting.heading_substance:
        return "heading", setting.heading_substance
    if setting.article_subject:
        return "subject", setting.article_subject
    return None


def effective_tier(sentence: Sentence, hit: Hit, rules: RuleSet) -> str:
    """The condition's tier, lowered to structure/function after "occasional", "healthy", ..."""
    known = sentence.tiers.get(hit)
    if known is not None:
        return known
    entry = rules.entry(hit.lexicon, hit.key)
    tier = (entry.tier if entry else None) or "chronic"
    for cue in sentence.get("sf_qualifier"):
        if 0 <= hit.start - cue.end <= SF_QUALIFIER_GAP:
            tier = "structure_function"
            break
    sentence.tiers[hit] = tier
    return tier


def condition_hits(sentence: Sentence) -> list[Hit]:
    return [*sentence.get("condition"), *sentence.get("disease_class")]


def best_condition(
    sentence: Sentence, firings: list[Firing], rules: RuleSet
) -> tuple[str | None, str | None]:
    """The most severe condition the sentence names, as (condition key, tier)."""
    best: tuple[int, int, str, str] | None = None
    for firing in firings:
        if firing.rule.condition:
            entry = rules.entry("condition", firing.rule.condition)
            tier = (entry.tier if entry else None) or "chronic"
            rank = (SEVERITY_ORDER[tier], 0, firing.rule.condition, tier)
            best = rank if best is None or rank < best else best
        for hit in firing.slot("drug"):  # "replaces your statin" implies heart disease
            drug = rules.entry("drug", hit.key)
            implied = rules.entry("condition", drug.condition) if drug and drug.condition else None
            if implied and implied.tier:
                rank = (SEVERITY_ORDER[implied.tier], 1, implied.key, implied.tier)
                best = rank if best is None or rank < best else best
    for hit in condition_hits(sentence):
        tier = effective_tier(sentence, hit, rules)
        rank = (SEVERITY_ORDER[tier], hit.start - hit.end, hit.key, tier)
        best = rank if best is None or rank < best else best
    if best is None:
        return None, None
    return best[2], best[3]


def _firing_condition_tier(sentence: Sentence, firing: Firing, rules: RuleSet) -> str | None:
    """The best tier among the conditions a disease firing names (its slots, or the sentence)."""
    tiers: list[str] = []
    if firing.rule.condition:
        entry = rules.entry("condition", firing.rule.condition)
        tiers.append((entry.tier if entry else None) or "chronic")
    for hit in firing.hits:
        if hit.lexicon in {"condition", "disease_class"}:
            tiers.append(effective_tier(sentence, hit, rules))
    if not tiers:
        tiers = [effective_tier(sentence, hit, rules) for hit in condition_hits(sentence)]
    if not tiers:
        return None
    return min(tiers, key=SEVERITY_ORDER.__getitem__)


def _warned(sentence: Sentence, group: Hit) -> bool:
    for cue in sentence.get("group_warning"):
        if 0 <= group.start - cue.end <= GROUP_WARNING_BEFORE:
            return True
        if 0 <= cue.start - group.end <= GROUP_WARNING_AFTER:
            return True
    return False


def judge(sentence: Sentence, firings: list[Firing], setting: Setting, rules: RuleSet) -> Judgement:
    """Keep the firings that are claims; record why the others are not."""
    verdict = Judgement()
    if not firings:
        return verdict
    reason = sentence_suppression(sentence)
    if reason:
        verdict.dropped = [(f.rule.id, reason) for f in firings]
        return verdict
    for firing in firings:
        rule = firing.rule
        if reported(sentence, firing):
            verdict.dropped.append((rule.id, "reported"))
            continue
        negation = negation_of(sentence, firing)
        if negation is not None:
            verdict.dropped.append((rule.id, "negated"))
            continue
        if _quoted(sentence, firing):
            verdict.dropped.append((rule.id, "quoted"))
            continue
        if setting.warning_section and rule.category != "safety_assurance":
            verdict.dropped.append((rule.id, "warning_section"))
            continue
        if rule.category == "disease_treatment":
            tier = _firing_condition_tier(sentence, firing, rules)
            if tier == "structure_function":
                verdict.dropped.append((rule.id, "structure_function"))
                continue
        context = find_context(sentence, firing, setting)
        if context is None:
            verdict.dropped.append((rule.id, "no_context"))
            continue
        if verdict.context is None or (verdict.substance is None and context[1]):
            verdict.context, verdict.substance = context
        verdict.kept.append(firing)
    if not verdict.kept:
        return verdict
    attribution = sentence.get("attribution")
    if attribution and any(_in_scope(sentence, attribution, f) for f in verdict.kept):
        if setting.rebuttal_nearby or not sentence.has("endorsement"):
            reason = "rebutted_nearby" if setting.rebuttal_nearby else "attributed"
            verdict.dropped += [(f.rule.id, reason) for f in verdict.kept]
            verdict.kept = []
            return verdict
        verdict.mitigators.append("attributed")
    if is_question(sentence):
        verdict.mitigators.append("rhetorical_question")
    verdict.hedged = sentence.has("hedge")
    if verdict.hedged:
        verdict.mitigators.append("hedged")
    verdict.groups = [g for g in sentence.get("group") if not _warned(sentence, g)]
    return verdict
