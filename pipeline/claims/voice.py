"""The page's voice: does the page make claims, or report on them?

A regulator's own page, a news story or a fact check names the same claims as a shop page, and means
the opposite. Two estimates reach every candidate sentence as features
(:mod:`pipeline.claims.features`), never as a switch:

- :class:`PageVoice`: the shares of the page's candidate sentences that report ("claims that"),
  attribute ("users say"), rebut, cite studies, sell, name the product, speak as "we" or to "you",
  or ask;
- the learned page voice: a linear head over the page's words (``pw:<word>``, in the weights file,
  see :mod:`pipeline.claims.learned`) estimating the probability that the page reports on claims
  (news, fact check, medical authority) rather than makes them, crossed with the rules' verdict
  (:func:`learned_voice_crosses`). A page of fewer than :data:`VOICE_MIN_WORDS` distinct words (a
  quoted ad line) has no voice to read;
- the declared page kind (:mod:`pipeline.page_kind`: the source's ``voice`` setting or the page's
  schema.org type), when the crawl knows one: ``page_kind:<kind>`` and, for the kinds that report
  on claims (news, authority), ``page_kind:reportive``, each crossed with the rules' verdict
  (:func:`declared_kind_crosses`). A page with a declared kind reads its learned voice as known
  (1 for a reportive kind, 0 for another) instead of estimating it from its words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.claims.matcher import Sentence
from pipeline.claims.results import Features
from pipeline.page_kind import REPORTIVE

FIRST_PERSON = frozenset({"we", "our", "us", "ours"})
SECOND_PERSON = frozenset({"you", "your", "yours"})
VOICE_CUES = ("report", "attribution", "rebuttal", "study_report", "commercial", "product_ref")
PAGE_WORD = "pw:"
KIND_PREFIX = "page_kind:"
VOICE_MIN_WORDS = 60  # distinct words a page needs before its learned voice is read


@dataclass(frozen=True, slots=True)
class PageVoice:
    """How the page speaks, as shares of its candidate sentences (0..1)."""

    report: float = 0.0
    attribution: float = 0.0
    rebuttal: float = 0.0
    study_report: float = 0.0
    commercial: float = 0.0
    product_ref: float = 0.0
    first_person: float = 0.0
    second_person: float = 0.0
    question: float = 0.0

    @property
    def reportive(self) -> float:
        """A page that reports, attributes, rebuts and cites studies (news, fact check, authority)."""
        return min(1.0, self.report + self.attribution + self.rebuttal + self.study_report)

    def features(self) -> Features:
        out = {f"voice:{name}": getattr(self, name) for name in self.__slots__}
        out["voice:reportive"] = self.reportive
        return out


@dataclass(frozen=True, slots=True)
class Page:
    """What every unit of one page shares: its voice, as features computed once, and the learned
    page voice (the probability that the page reports rather than promotes) when the model has a
    voice head."""

    voice: PageVoice
    features: Features
    learned: float | None = None
    declared: str | None = None  # the page kind the crawl knows (pipeline.page_kind)

    @classmethod
    def of(
        cls, sentences: Sequence[Sentence], learned: float | None = None,
        declared: str | None = None,
    ) -> Page:  # fmt: skip
        voice = page_voice(sentences)
        features = voice.features()
        if declared is not None:
            learned = declared_voice(declared)
        if learned is not None:
            features["voice:learned"] = learned
        return cls(voice, features, learned, declared)


def page_vocabulary(sentences: Iterable[Sentence]) -> set[str]:
    """Every word of the page, once (letters only: no numbers or punctuation)."""
    words: set[str] = set()
    for sentence in sentences:
        words.update(sentence.toks)
    return {word for word in words if word[0].isalpha()}


def page_words(sentences: Iterable[Sentence]) -> Features:
    """The page-voice head's features: every word of the page, once (``pw:<word>``)."""
    return {PAGE_WORD + word: 1.0 for word in page_vocabulary(sentences)}


def learned_voice_crosses(features: Features, learned: float) -> None:
    """The learned page voice crossed with the rules' verdict on the unit (a rule claim on a
    news or authority page weighs differently from one on a shop page)."""
    features["voice:learned"] = learned
    if "kept" in features:
        features["voice:learned×kept"] = learned
    if any(name.startswith("fire:") for name in features):
        features["voice:learned×fired"] = learned
    else:
        features["voice:learned×unfired"] = learned


def declared_voice(kind: str) -> float:
    """The learned page voice a declared kind stands for: 1 for a page that reports on claims."""
    return 1.0 if kind in REPORTIVE else 0.0


def declared_kind_crosses(features: Features, kind: str) -> None:
    """The declared page kind as features, crossed with the rules' verdict on the unit."""
    names = [f"{KIND_PREFIX}{kind}"]
    if kind in REPORTIVE:
        names.append(f"{KIND_PREFIX}reportive")
    fired = any(name.startswith("fire:") for name in features)
    kept = "kept" in features
    for name in names:
        features[name] = 1.0
        features[f"{name}×{'fired' if fired else 'unfired'}"] = 1.0
        if kept:
            features[f"{name}×kept"] = 1.0


def kind_features(features: Features, shown: Iterable[tuple[str, float]]) -> Features:
    """The declared-kind features of a unit that an explanation does not show yet."""
    skip = {name for name, _ in shown}
    return {
        name: value
        for name, value in features.items()
        if name.startswith(KIND_PREFIX) and name not in skip
    }


def page_voice(sentences: Sequence[Sentence]) -> PageVoice:
    """The voice of a page from its candidate sentences (scans their cues once)."""
    if not sentences:
        return PageVoice()
    n = len(sentences)
    shares = {name: sum(1 for s in sentences if s.has(name)) / n for name in VOICE_CUES}
    first = sum(1 for s in sentences if not FIRST_PERSON.isdisjoint(s.tokset)) / n
    second = sum(1 for s in sentences if not SECOND_PERSON.isdisjoint(s.tokset)) / n
    question = sum(1 for s in sentences if s.toks[-1:] == ["?"]) / n
    return PageVoice(**shares, first_person=first, second_person=second, question=question)
