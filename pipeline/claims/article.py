"""Scoring a whole document: sentences in their article context, then claims, then the risk.

Each block of the :class:`~core.document.Document` is cut into sentences whose offsets are
relative to ``Document.text`` (the blocks joined with ``"\\n"``), so ``doc.text[start:end]`` is the
claim's sentence. The article supplies what a sentence alone cannot: the heading above it (or the
lead-in paragraph before a list), whether that heading warns, the article's subject substance and
main condition, a rebuttal in the neighbouring sentence, a commercial cue nearby, the DSHEA
disclaimer, and whether the article speaks of opioids at all. Headings and table-of-contents items
(list items repeated later as headings) are *implied* claims.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from core.document import Document
from pipeline.claims.features import is_candidate, unit_features
from pipeline.claims.judge import (
    SNIPPET_SENTENCES,
    Judgement,
    Setting,
    best_condition,
    effective_tier,
    judge,
    rebuts,
    sentence_suppression,
)
from pipeline.claims.learned import LinearModel, default_model
from pipeline.claims.matcher import Firing, Sentence, analyse, fire
from pipeline.claims.model import CRITERIA, RuleSet
from pipeline.claims.results import Unit, UnitResult
from pipeline.claims.scoring import (
    EMERGENCY,
    ArticleScore,
    Claim,
    article_risk,
    claim_score,
    ordered_categories,
)
from pipeline.claims.text import sentences
from pipeline.claims.voice import VOICE_MIN_WORDS, Page, kind_features, page_vocabulary

MAX_CLAIMS_PER_ARTICLE = 200  # kept per article, the highest-scoring, in reading order
COMMERCIAL_REACH = 3  # sentences either side in which a buy link or coupon aggravates a claim
SUBJECT_MIN_MENTIONS = 2  # a substance named once is not what the article is about
TITLE_WEIGHT = 2
CLAIM_CATEGORIES_FOR_CHILDREN = frozenset(
    {"disease_treatment", "dosage_advice", "safety_assurance", "medical_substitution"}
)
OPIOID = "opioid_addiction_withdrawal"
ADDICTION = "addiction"  # escalates as opioid addiction when the article speaks of opioids


@dataclass(slots=True)
class _Article:
    subject: str | None
    condition: str | None
    opioid: bool
    disclaimer: bool


def _norm(text: str) -> str:
    return " ".join(text.casefold().strip(" .:;!?-").split())


def segment(doc: Document, rules: RuleSet) -> list[Unit]:
    """Every sentence of every block, analysed, with offsets into ``doc.text``."""
    later_headings: set[str] = set()
    toc_blocks: set[int] = set()
    for index in range(len(doc.blocks) - 1, -1, -1):
        block = doc.blocks[index]
        if block.kind == "heading":
            later_headings.add(_norm(block.text))
        elif block.kind == "list_item" and _norm(block.text) in later_headings:
            toc_blocks.add(index)
    units: list[Unit] = []
    offset = 0
    for index, block in enumerate(doc.blocks):
        implied = block.kind == "heading" or index in toc_blocks
        for start, end in sentences(block.text, colons=block.kind in ("paragraph", "quote")):
            sentence = analyse(block.text[start:end], rules)
            units.append(Unit(index, block.kind, offset + start, offset + end, sentence, implied))
        offset += len(block.text) + 1
    return units


def _best_condition_key(found: list[Sentence], rules: RuleSet) -> str | None:
    counts: Counter[str] = Counter()
    for sentence in found:
        for hit in sentence.get("condition"):
            if effective_tier(sentence, hit, rules) != "structure_function":
                counts[hit.key] += 1
    return counts.most_common(1)[0][0] if counts else None


def _article(doc: Document, units: list[Unit], rules: RuleSet) -> _Article:
    title = analyse(doc.title, rules) if doc.title else None
    counts: Counter[str] = Counter()
    every = [unit.sentence for unit in units] + ([title] if title else [])
    for unit in units:
        counts.update(hit.key for hit in unit.sentence.get("substance"))
    title_subjects: set[str] = set()
    if title:
        title_subjects = {hit.key for hit in title.get("substance")}
        for key in title_subjects:
            counts[key] += TITLE_WEIGHT
    subject = None
    if counts:
        key, count = counts.most_common(1)[0]
        if count >= SUBJECT_MIN_MENTIONS or key in title_subjects:
            subject = key
    opioid = False
    for sentence in every:
        for hit in sentence.get("drug"):
            entry = rules.entry("drug", hit.key)
            opioid = opioid or (entry is not None and entry.drug_class == "opioid")
        for hit in sentence.get("condition"):
            entry = rules.entry("condition", hit.key)
            opioid = opioid or (entry is not None and entry.escalation == OPIOID)
    disclaimer = any(sentence.has("disclaimer") for sentence in every)
    return _Article(subject, _best_condition_key(every, rules), opioid, disclaimer)


class _Settings:
    """The article around each sentence, computed on demand (only sentences with firings ask)."""

    def __init__(self, units: list[Unit], doc: Document, article: _Article, rules: RuleSet):
        self.units, self.article, self.rules = units, article, rules
        self.by_block: dict[int, list[Unit]] = {}
        for unit in units:
            self.by_block.setdefault(unit.block, []).append(unit)
        self.context: dict[int, tuple[int | None, int | None]] = {}  # block: (heading, lead-in)
        heading: int | None = None
        lead: int | None = None
        for index, block in enumerate(doc.blocks):
            if block.kind == "heading":
                self.context[index] = (heading, None)
                heading, lead = index, None
                continue
            if block.kind != "list_item":
                lead = index
            self.context[index] = (heading, lead if block.kind == "list_item" else None)
        self.snippet = len(units) <= SNIPPET_SENTENCES
        # per block: what the sentences of a heading or lead-in block say (each asked once)
        self._substances: dict[int | None, str | None] = {}
        self._conditions: dict[int | None, str | None] = {}
        self._warnings: dict[int | None, bool] = {}

    def _sentences(self, block: int | None) -> list[Sentence]:
        return [u.sentence for u in self.by_block.get(block, [])] if block is not None else []

    def _substance(self, block: int | None) -> str | None:
        if block in self._substances:
            return self._substances[block]
        found = None
        for sentence in self._sentences(block):
            hits = sentence.get("substance")
            if hits:
                found = hits[0].key
                break
        self._substances[block] = found
        return found

    def _condition(self, block: int | None) -> str | None:
        if block not in self._conditions:
            self._conditions[block] = _best_condition_key(self._sentences(block), self.rules)
        return self._conditions[block]

    def heading_sentence(self, position: int) -> Sentence | None:
        heading, _ = self.context[self.units[position].block]
        found = self._sentences(heading)
        return found[-1] if found else None

    def _warns(self, heading: int | None) -> bool:
        if heading not in self._warnings:
            self._warnings[heading] = any(
                s.has("warning_heading") for s in self._sentences(heading)
            )
        return self._warnings[heading]

    def setting(self, position: int, nearby_cues: bool = True) -> Setting:
        """The setting of one sentence; without ``nearby_cues`` the rebuttal and commercial cues
        of the sentences around it are not scanned (the features do not read them)."""
        unit = self.units[position]
        heading, lead = self.context[unit.block]
        neighbours = [
            self.units[i]
            for i in (position - 1, position + 1)
            if nearby_cues and 0 <= i < len(self.units) and self.units[i].block == unit.block
        ]
        nearby = (
            self.units[max(0, position - COMMERCIAL_REACH) : position + COMMERCIAL_REACH + 1]
            if nearby_cues
            else []
        )
        return Setting(
            heading_substance=self._substance(lead) or self._substance(heading),
            heading_condition=self._condition(heading),
            article_subject=self.article.subject,
            article_condition=self.article.condition,
            warning_section=self._warns(heading),
            rebuttal_nearby=any(rebuts(u.sentence) for u in neighbours),
            commercial_nearby=any(u.sentence.has("commercial") for u in nearby),
            implied=unit.implied,
            snippet=self.snippet,
        )


def _escalations(
    judgement: Judgement, condition: str | None, categories: tuple[str, ...],
    article: _Article, rules: RuleSet,
) -> tuple[str, ...]:  # fmt: skip
    flags: set[str] = set()
    keys = {condition} if condition else set()
    for firing in judgement.kept:
        keys.update(h.key for h in firing.hits if h.lexicon in {"condition", "disease_class"})
        if firing.rule.condition:
            keys.add(firing.rule.condition)
        if firing.rule.category == "medical_substitution":
            for hit in firing.slot("drug"):
                entry = rules.entry("drug", hit.key)
                if entry and entry.escalation:
                    flags.add(entry.escalation)
    for key in keys:
        entry = rules.entry("condition", key)
        if entry is None or not entry.escalation:
            continue
        if entry.escalation == ADDICTION:
            if article.opioid:
                flags.add(OPIOID)
        else:
            flags.add(entry.escalation)
    if CLAIM_CATEGORIES_FOR_CHILDREN & set(categories):
        for group in judgement.groups:
            entry = rules.entry("group", group.key)
            if entry and entry.escalation:
                flags.add(entry.escalation)
    return tuple(sorted(flags))


def _claim(
    unit: Unit,
    judgement: Judgement,
    setting: Setting,
    article: _Article,
    rules: RuleSet,
    extra_categories: frozenset[str] = frozenset(),
) -> Claim:
    sentence = unit.sentence
    names = {firing.rule.category for firing in judgement.kept} | set(extra_categories)
    if judgement.groups:
        names.add("vulnerable_groups")
    categories = ordered_categories(names)
    condition, tier = best_condition(sentence, judgement.kept, rules)
    source: str | None = "sentence" if condition else None
    for fallback, where in ((setting.heading_condition, "heading"), (article.condition, "article")):
        if condition is None and fallback:
            entry = rules.entry("condition", fallback)
            condition, tier, source = fallback, (entry.tier if entry else None), where
    severity = tier or "unspecified"
    escalations = _escalations(judgement, condition, categories, article, rules)
    aggravators: list[str] = []
    if judgement.groups:
        aggravators.append("vulnerable")
    if EMERGENCY & set(escalations):
        aggravators.append("emergency")
    substance = rules.entry("substance", judgement.substance) if judgement.substance else None
    if substance and substance.unlawful:
        aggravators.append("unlawful")
    if setting.commercial_nearby:
        aggravators.append("commercial")
    if (
        "disease_treatment" in categories
        and sentence.has("mechanism")
        and severity not in {"structure_function", "unspecified"}
    ):
        aggravators.append("mechanism")
    mitigators = list(judgement.mitigators)
    if article.disclaimer and "disease_treatment" in categories:
        mitigators.append("disclaimer")
    criteria = {f.rule.criterion for f in judgement.kept if f.rule.criterion}
    return Claim(
        sentence=sentence.text,
        start=unit.start,
        end=unit.end,
        categories=categories,
        substance=judgement.substance,
        condition=condition,
        severity=severity,
        score=claim_score(
            categories, severity, tuple(aggravators), tuple(mitigators), rules.scoring
        ),
        rules=tuple(sorted({firing.rule.id for firing in judgement.kept})),
        hedged=judgement.hedged,
        criteria=tuple(code for code in CRITERIA if code in criteria),
        aggravators=tuple(aggravators),
        mitigators=tuple(mitigators),
        implied=unit.implied,
        context=judgement.context or "none",
        condition_source=source,
        escalations=escalations,
    )


# Reasons the rules set a firing aside that the learned decision may not overturn: the sentence
# itself says the claim is false, asks it, warns against it or is the DSHEA disclaimer.
FINAL_REASONS = frozenset(
    {
        "question",
        "rebutted",
        "warning",
        "disclaimer",
        "negated",
        "reported",
        "quoted",
        "attributed",
        "rebutted_nearby",
    }
)


def is_final(result: UnitResult) -> bool:
    """Whether the rules' "not a claim" on a sentence stands whatever the model says."""
    dropped = result.judgement.dropped
    if dropped and not result.judgement.kept:
        return all(reason in FINAL_REASONS for _, reason in dropped)
    return not result.firings and sentence_suppression(result.unit.sentence) is not None


def _rescue(sentence: Sentence, firings: list[Firing], setting: Setting) -> Judgement:
    """The judgement of a sentence the rules set aside but the learned decision calls a claim:
    every firing kept, the product context the sentence or its setting has, and the modifiers."""
    verdict = Judgement(kept=list(firings), context="model")
    substances = sentence.get("substance")
    verdict.substance = (
        substances[0].key if substances else setting.heading_substance or setting.article_subject
    )
    verdict.hedged = sentence.has("hedge")
    if verdict.hedged:
        verdict.mitigators.append("hedged")
    if sentence.has("attribution"):
        verdict.mitigators.append("attributed")
    if sentence.toks[-1:] == ["?"]:
        verdict.mitigators.append("rhetorical_question")
    verdict.groups = list(sentence.get("group"))
    return verdict


def _decide(
    results: list[UnitResult],
    settings: _Settings,
    article: _Article,
    rules: RuleSet,
    model: LinearModel,
    kind: str | None = None,
) -> None:
    """The learned decision over every candidate unit, with the rules' verdicts as features."""
    candidates = [r.unit.sentence for r in results if r.candidate]
    learned = None
    if model.voice is not None and kind is None:
        words = page_vocabulary(r.unit.sentence for r in results)
        if len(words) >= VOICE_MIN_WORDS:  # a quoted ad line has no voice to read
            learned = model.voice_probability(words)
    page = Page.of(candidates, learned, kind)
    vocabulary = model.ngram_vocabulary()
    for position, result in enumerate(results):
        if not result.candidate:
            continue
        setting = result.setting or settings.setting(position, nearby_cues=False)
        result.setting = setting
        features = unit_features(
            results, position, setting, page, rules, settings.heading_sentence(position), vocabulary
        )
        confidence = model.confidence(features)
        result.features, result.confidence = features, confidence
    for position, result in enumerate(results):
        if result.confidence is None or result.setting is None:
            continue
        claimed = result.confidence >= model.threshold
        confidence = round(result.confidence, 3)
        if claimed and result.claim is None and not is_final(result):
            if not result.firings:  # the light setting: now the cues around it count
                result.setting = settings.setting(position, nearby_cues=True)
            judgement = _rescue(result.unit.sentence, result.firings, result.setting)
            extra = frozenset() if judgement.kept else frozenset(
                model.category_names(result.features)
            )  # fmt: skip
            result.judgement = judgement
            result.claim = _claim(result.unit, judgement, result.setting, article, rules, extra)
        elif not claimed and result.claim is not None:
            result.judgement.dropped += [(f.rule.id, "model") for f in result.judgement.kept]
            result.judgement.kept = []
            result.claim = None
        if result.claim is not None:
            terms = tuple(model.explain(result.features))
            if kind is not None:  # the declared kind is shown whenever it weighed
                terms += tuple(model.explain(kind_features(result.features, terms), top=2))
            result.claim = replace(result.claim, confidence=confidence, features=terms)


def analyse_document(
    doc: Document, rules: RuleSet, model: LinearModel | None = None, kind: str | None = None
) -> list[UnitResult]:
    """Every sentence with its firings, the judgement on them and the claim (if any).

    ``model`` is the learned decision (default: the shipped weights); with
    :meth:`LinearModel.rules_only` the rules' verdict is final. ``kind`` is the page kind the
    crawl declares (:mod:`pipeline.page_kind`; ``None``: not known), a feature of the decision.
    """
    model = default_model() if model is None else model
    units = segment(doc, rules)
    article = _article(doc, units, rules)
    settings = _Settings(units, doc, article, rules)
    results: list[UnitResult] = []
    for position, unit in enumerate(units):
        firings = fire(unit.sentence, rules)
        candidate = not model.passthrough and is_candidate(unit.sentence, bool(firings))
        if not firings:
            results.append(UnitResult(unit, firings, Judgement(), None, candidate=candidate))
            continue
        setting = settings.setting(position)
        judgement = judge(unit.sentence, firings, setting, rules)
        claim = _claim(unit, judgement, setting, article, rules) if judgement.kept else None
        results.append(
            UnitResult(unit, firings, judgement, claim, setting, candidate, None, {}, bool(claim))
        )
    if not model.passthrough:
        _decide(results, settings, article, rules, model, kind)
    return results


def score_document(
    doc: Document, rules: RuleSet, model: LinearModel | None = None, kind: str | None = None
) -> ArticleScore:
    """The claims of a document and its risk, with the hashes of the rules and the model.

    ``kind`` is the page kind the crawl declares (the source's ``voice``, or the page's schema.org
    type: :func:`pipeline.page_kind.page_kind`); the score carries it.
    """
    model = default_model() if model is None else model
    results = analyse_document(doc, rules, model, kind)
    found = [result.claim for result in results if result.claim is not None]
    claims = tuple(found)
    if len(found) > MAX_CLAIMS_PER_ARTICLE:  # the risk is of them all; the top ones are kept
        ranked = sorted(range(len(found)), key=lambda i: (-found[i].score, i))
        kept = sorted(ranked[:MAX_CLAIMS_PER_ARTICLE])
        claims = tuple(found[i] for i in kept)
    return ArticleScore(
        claims=claims,
        risk=article_risk(tuple(found), rules.scoring),
        rules_sha256=rules.sha256,
        rules_version=rules.version,
        model_sha256=model.sha256,
        page_kind=kind,
        stats={
            "sentences": len(results),
            "claims": len(found),
            "claims_dropped": len(found) - len(claims),
            "model_only": sum(1 for r in results if r.claim is not None and not r.rules_claim),
            "overruled": sum(1 for r in results if r.claim is None and r.rules_claim),
        },
    )
