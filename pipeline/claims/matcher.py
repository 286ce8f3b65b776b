"""Sentence-level matching: lexicon hits, rule firings, and negation scope.

:func:`analyse` tokenises a sentence once and finds the phrases of the entry lexicons and of the
cues that patterns use with one trie scan (:class:`~pipeline.claims.index.PhraseIndex`).
:func:`fire` looks up only the patterns filed under a lexicon or a literal word the sentence holds,
and matches each with a few dictionary lookups per element (literal words are compared with the
tokens directly). The other cues (negation, hedges, attribution, ...) are scanned lazily, the first
time the judge asks for one, which in practice means only for sentences where a rule fired. So the
cost of an ordinary sentence is one tokenisation, one set intersection and a short loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.claims.index import Hit
from pipeline.claims.model import Element, Rule, RuleSet
from pipeline.claims.text import tokens

MAX_MATCHES = 8  # per pattern and sentence: enough to explain, bounded on hostile input
NEGATION_WINDOW = 8  # tokens before the claim in which "not", "no", "never" count
START = "^"  # the zero-width hit at a sentence's start (pattern element ``^``)
START_HIT = Hit(START, START, 0, 0)
LITERAL_TRIGGER = "=trigger"  # see pipeline.claims.loader
_START_HITS = [START_HIT]  # shared: never appended to
OUTCOME_GAP = 3  # "can cause severe liver damage"
_RELATIVES = frozenset({"that", "which", "what"})
CAUSE_GAP = 0  # "kratom addiction": a condition right after a substance is its harm, not its use


@dataclass(slots=True)
class Sentence:
    """One sentence with its tokens and its lexicon hits (the lazy cues scanned on demand)."""

    text: str
    toks: list[str]
    by_lex: dict[str, list[Hit]]
    rules: RuleSet = field(repr=False)
    lazy_done: bool = False
    _starts: dict[str, dict[int, list[Hit]]] | None = None
    _tokset: frozenset[str] | None = None
    tiers: dict[Hit, str] = field(default_factory=dict)  # condition tiers, memoised by the judge
    memo: dict[str, list[str]] = field(default_factory=dict)  # derived token lists (features)

    @property
    def tokset(self) -> frozenset[str]:
        if self._tokset is None:
            self._tokset = frozenset(self.toks)
        return self._tokset

    def _scan_lazy(self) -> None:
        self.lazy_done = True
        self.rules.lazy_index.scan_into(self.toks, self.by_lex, self.tokset)

    def has(self, lexicon: str) -> bool:
        if not self.lazy_done and lexicon in self.rules.lazy_lexicons:
            self._scan_lazy()
        return lexicon in self.by_lex

    def get(self, lexicon: str) -> list[Hit]:
        if not self.lazy_done and lexicon in self.rules.lazy_lexicons:
            self._scan_lazy()
        return self.by_lex.get(lexicon, [])

    @property
    def lexicons(self) -> list[str]:
        """Every lexicon hit (scanning the lazy cues first)."""
        if not self.lazy_done:
            self._scan_lazy()
        return list(self.by_lex)

    def starts(self, lexicon: str) -> dict[int, list[Hit]]:
        """The hits of one lexicon by start position (built once per lexicon and sentence)."""
        if self._starts is None:
            self._starts = {}
        table = self._starts.get(lexicon)
        if table is None:
            table = {}
            for hit in self.get(lexicon):
                table.setdefault(hit.start, []).append(hit)
            self._starts[lexicon] = table
        return table


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule that matched: the hit for each pattern element and the token span they cover."""

    rule: Rule
    hits: tuple[Hit, ...]
    start: int
    end: int

    def slot(self, lexicon: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.lexicon == lexicon]


def analyse(text: str, rules: RuleSet) -> Sentence:
    """Tokenise once, scan once, and drop condition hits that name a harm of a substance."""
    toks = tokens(text)
    by_lex: dict[str, list[Hit]] = {START: _START_HITS}
    rules.index.scan_into(toks, by_lex)
    sentence = Sentence(text, toks, by_lex, rules)
    if "condition" in by_lex and ("substance" in by_lex or "outcome" in by_lex):
        _drop_caused_conditions(sentence)
    if "disease_class" in by_lex and "drug" in by_lex:  # "anti-anxiety medication" names a drug
        drugs = [(hit.start, hit.end) for hit in by_lex["drug"]]
        kept = [
            h
            for h in by_lex["disease_class"]
            if not any(s <= h.start and h.end <= e for s, e in drugs)
        ]
        if kept:
            by_lex["disease_class"] = kept
        else:
            del by_lex["disease_class"]
    return sentence


def _prevented(outcome: Hit, treats: list[Hit], relatives: list[int]) -> bool:
    """Whether the outcome is what is treated ("reduces the risk of", "blocks what leads to")."""
    for treat in treats:
        if treat.start <= outcome.start and outcome.end <= treat.end:
            return True
        if treat.end <= outcome.start and any(treat.end <= r < outcome.start for r in relatives):
            return True
    return False


def _drop_caused_conditions(sentence: Sentence) -> None:
    """Conditions that are harms, not targets: ``kratom withdrawal``, ``kratom addiction
    treatment`` (a condition right after a substance), ``may experience withdrawal``, ``risk of
    seizures`` (a condition at most OUTCOME_GAP tokens after an outcome word)."""
    substance_ends = {hit.end for hit in sentence.get("substance")}
    treats = sentence.get("treat")
    relatives = [i for i, tok in enumerate(sentence.toks) if tok in _RELATIVES]
    toks = sentence.toks
    outcome_ends = {
        hit.end
        for hit in sentence.get("outcome")
        if not _prevented(hit, treats, relatives) and toks[hit.end : hit.end + 1] != ["of"]
    }  # "the root cause of diabetes" names a target, not an outcome
    kept = []
    for hit in sentence.get("condition"):
        if any(hit.start - gap in substance_ends for gap in range(CAUSE_GAP + 1)):
            continue
        if any(hit.start - gap in outcome_ends for gap in range(OUTCOME_GAP + 1)):
            continue
        kept.append(hit)
    if len(kept) != len(sentence.get("condition")):
        if kept:
            sentence.by_lex["condition"] = kept
        else:
            del sentence.by_lex["condition"]


def _at(sentence: Sentence, element: Element, position: int) -> list[Hit]:
    if element.words is not None:
        if position < len(sentence.toks) and sentence.toks[position] in element.words:
            return [Hit(element.lexicon, sentence.toks[position], position, position + 1)]
        return []
    return sentence.starts(element.lexicon).get(position, [])


def _extend(
    sentence: Sentence,
    pattern: tuple[Element, ...],
    chain: list[Hit],
    out: list[tuple[Hit, ...]],
) -> None:
    if len(out) >= MAX_MATCHES:
        return
    if len(chain) == len(pattern):
        out.append(tuple(chain))
        return
    element = pattern[len(chain)]
    last = chain[-1].end
    for position in range(last, last + element.gap + 1):
        for hit in _at(sentence, element, position):
            chain.append(hit)
            _extend(sentence, pattern, chain, out)
            chain.pop()


def _first_hits(sentence: Sentence, element: Element) -> list[Hit]:
    if element.words is None:
        return sentence.by_lex.get(element.lexicon, [])
    return [
        Hit(element.lexicon, tok, i, i + 1)
        for i, tok in enumerate(sentence.toks)
        if tok in element.words
    ]


def _pattern_matches(sentence: Sentence, pattern: tuple[Element, ...]) -> list[tuple[Hit, ...]]:
    by_lex = sentence.by_lex
    for element in pattern:
        if element.words is None:
            if element.lexicon not in by_lex:
                return []
        elif element.words.isdisjoint(sentence.tokset):
            return []
    out: list[tuple[Hit, ...]] = []
    for hit in _first_hits(sentence, pattern[0]):
        _extend(sentence, pattern, [hit], out)
        if len(out) >= MAX_MATCHES:
            break
    return out


def _candidates(sentence: Sentence, rules: RuleSet) -> list[tuple[int, Rule, int]]:
    """The (order, rule, pattern number) filed under a lexicon or literal the sentence holds."""
    triggers = rules.triggers
    keys = [name for name in sentence.by_lex if name in triggers]
    literals = sentence.by_lex.get(LITERAL_TRIGGER)
    if literals:
        keys += ["=" + hit.key for hit in literals]
    if not keys:
        return []
    found = {item[0]: item for key in keys for item in triggers[key]}
    return [found[order] for order in sorted(found)]


def fire(sentence: Sentence, rules: RuleSet) -> list[Firing]:
    """Every rule that matches the sentence (context and modifiers are judged later)."""
    firings: list[Firing] = []
    if len(sentence.by_lex) == 1:  # nothing but the sentence start
        return firings
    for _, rule, number in _candidates(sentence, rules):
        if not rule.requires <= sentence.by_lex.keys():
            continue
        if rule.kind == "cooccur":
            chains = [tuple(sentence.get(name)[0] for name in rule.all_of)]
        else:
            chains = _pattern_matches(sentence, rule.patterns[number])
        if not chains:
            continue
        if rule.requires_any and not any(sentence.has(name) for name in rule.requires_any):
            continue
        if rule.excludes and any(sentence.has(name) for name in rule.excludes):
            continue
        for chain in chains:
            start = min(hit.start for hit in chain)
            end = max(hit.end for hit in chain)
            firings.append(Firing(rule, chain, start, end))
    return firings


def negation_of(sentence: Sentence, firing: Firing) -> Hit | None:
    """A negation cue that scopes over the firing, or ``None``.

    A cue counts when it sits inside the firing's span or at most NEGATION_WINDOW tokens before
    it, with no clause break (a comma, "but", "however") between it and the claim words after it,
    and it does not overlap the matched words themselves ("no side effects", "won't lead to
    addiction") nor is an exception ("not only", "no doubt").
    """
    if not sentence.has("negation"):
        return None
    own = [(h.start, h.end) for h in firing.hits if h.end > h.start]
    exceptions = {h.start for h in sentence.get("negation_exception")}
    treat_starts = {h.start for h in sentence.get("treat")}
    breaks = sorted(  # "not ... diagnose, treat, cure, or prevent": a list of verbs is one clause
        h.start
        for h in sentence.get("clause_break")
        if not (
            sentence.toks[h.start] == ","
            and (h.end in treat_starts or sentence.toks[h.end : h.end + 1] in (["or"], ["and"]))
        )
    )
    for cue in sentence.get("negation"):
        if cue.start in exceptions:
            continue
        if any(cue.start < e and s < cue.end for s, e in own):  # part of the matched words
            continue
        if not firing.start - NEGATION_WINDOW <= cue.start < firing.end:
            continue
        following = [h.start for h in firing.hits if h.start >= cue.end]
        if not following:
            continue
        target = following[0]
        if any(cue.end <= b < target for b in breaks):
            continue
        return cue
    return None
