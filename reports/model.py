"""The digest as plain data: what a period's digest says, ready for any renderer.

:func:`reports.digest.build_digest` fills these from the database; the templates, the exports and
the e-mail only read them. Every string here is plain text (already cleaned of control characters,
see :mod:`reports.text`); escaping is left to the renderer. ``href`` fields hold only http(s) URLs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from pipeline.health import health_label, is_failing
from reports.period import Period

BAND_ORDER: tuple[str, ...] = ("priority", "review", "watch")  # flagged bands, highest first
CATEGORY_LABELS: dict[str, str] = {
    "disease_treatment": "treats a disease",
    "medical_substitution": "replaces medical care",
    "safety_assurance": "assures safety",
    "efficacy_certainty": "promises results",
    "dosage_advice": "gives dosage advice",
    "vulnerable_groups": "targets vulnerable groups",
    "drug_interaction": "speaks of drug interactions",
    "regulatory_status": "claims a regulatory status",
}


def bands_from(min_band: str) -> tuple[str, ...]:
    """The flagged bands at or above ``min_band``."""
    return BAND_ORDER[: BAND_ORDER.index(min_band) + 1]


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    href: str | None  # an http(s) URL, or None: show the text without a link


@dataclass(frozen=True, slots=True)
class Figures:
    total_articles: int  # stored by the end of the period
    new_articles: int  # first seen in the period
    changed_articles: int  # seen before, text changed in the period
    flagged: int  # new or changed in the period, risk band watch or higher
    priority: int
    review: int
    watch: int
    escalated: int  # flagged articles with an escalation flag (cancer, opioids, children...)
    family_matches: int  # new articles matched to a template family
    new_family_sites: int  # sites seen in a family for the first time
    reposts: int  # new articles that repeat another article's text exactly
    near_duplicates: int  # new articles close to a seed or another article


@dataclass(frozen=True, slots=True)
class ClaimView:
    score: float
    before: str  # paragraph text before the claim (only for articles shown in full)
    text: str  # the claim sentence: the part to highlight
    after: str
    categories: tuple[str, ...]  # category ids, see CATEGORY_LABELS
    substance: str | None
    condition: str | None
    severity: str
    hedged: bool
    rules: tuple[str, ...]
    reasons: tuple[str, ...]  # the rules' messages, when the rule file is known
    criteria: tuple[str, ...]  # "21 CFR 101.93(g)(2)(vi)"
    aggravators: tuple[str, ...]
    mitigators: tuple[str, ...]
    confidence: float | None = None  # the learned decision's probability (None: rules alone)

    @property
    def category_labels(self) -> tuple[str, ...]:
        return tuple(CATEGORY_LABELS.get(c, c.replace("_", " ")) for c in self.categories)


@dataclass(frozen=True, slots=True)
class FlaggedArticle:
    rank: int
    article_id: int
    band: str
    score: float
    escalations: tuple[str, ...]
    title: str
    page: Link  # the article on its site
    site: str  # punycode host
    source: str | None
    first_seen: datetime
    published: str | None
    status: str  # "new" or "changed"
    version: int
    claim_count: int
    substances: tuple[str, ...]  # of all its claims
    categories: tuple[str, ...]
    claims: tuple[ClaimView, ...]  # the strongest ones
    family: str | None
    family_score: float | None
    family_evidence: tuple[str, ...]
    near: Link | None  # the nearest seed (no href) or stored article
    near_similarity: float | None
    repost_of: Link | None  # the first copy of an exact repost
    shared_passages: tuple[str, ...]
    raw_sha256: str
    rules_sha256: str | None
    model_sha256: str | None = None
    review_status: str | None = None  # the workspace's status (None: decisions not read)
    false_positives: int = 0  # claims left out as false positives

    @property
    def evidence_path(self) -> str:
        """The stored-evidence page, relative to the digest folder."""
        return f"evidence/{self.article_id}-{self.raw_sha256[:12]}.html"


@dataclass(frozen=True, slots=True)
class RemovedClaims:
    """An article changed in the period that no longer makes claims it made (see
    reports/removed_claims.py)."""

    article_id: int
    title: str
    page: Link
    site: str
    since: str  # "first flagged" or "last reviewed"
    since_version: int
    version: int  # the current one
    band: str | None  # now (None: unscored)
    sentences: tuple[str, ...]  # the claims gone


@dataclass(frozen=True, slots=True)
class SiteMark:
    host: str
    new: bool  # first seen in this family during the period


@dataclass(frozen=True, slots=True)
class FamilyRow:
    name: str
    articles: int  # new or changed in the period
    total: int  # ever, by the end of the period
    reposts: int  # of the period's, copies of another article or a seed
    first_seen: datetime
    sites: tuple[SiteMark, ...]

    @property
    def new_sites(self) -> int:
        return sum(1 for site in self.sites if site.new)


@dataclass(frozen=True, slots=True)
class CandidateRow:
    """A possible new template family: unmatched articles of the period that share a template
    (:mod:`pipeline.dedup.discovery`)."""

    id: str  # what ``claimwatch families promote ID --name NAME`` takes
    articles: int
    sites: tuple[str, ...]
    evidence: tuple[str, ...]  # the shape and the shared topic-free phrases
    examples: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class TrendRow:
    name: str
    counts: tuple[int, ...]  # one per window, oldest first; the last is this period

    @property
    def current(self) -> int:
        return self.counts[-1]

    @property
    def average(self) -> float:
        history = self.counts[:-1]
        return sum(history) / len(history) if history else 0.0

    @property
    def change(self) -> str:
        """``new``, ``up``, ``down`` or ``same`` against the average of the earlier windows."""
        if self.current and not any(self.counts[:-1]):
            return "new"
        if self.current > self.average * 1.25 + 0.5:
            return "up"
        if self.current < self.average * 0.75 - 0.5:
            return "down"
        return "same"


@dataclass(frozen=True, slots=True)
class Trend:
    title: str
    windows: tuple[str, ...]  # column labels, oldest first; the last is this period
    rows: tuple[TrendRow, ...]


@dataclass(frozen=True, slots=True)
class SourceRow:
    name: str
    runs: int  # in the period
    pages: int
    items: int
    errors: int
    error_reasons: tuple[tuple[str, int], ...]  # most frequent first
    last_status: str | None  # of the last run before the period's end
    last_run: datetime | None
    failing_runs: int  # the failed streak up to the period's end (see pipeline.health)
    failing_after: int  # schedule.failing_after: the streak at which a source is failing
    last_note: str = ""  # the last run: why it failed, or "0 new of 12 listed" (pipeline.health)

    @property
    def health(self) -> str:
        if self.last_status is not None and not self.failing and self.runs == 0:
            return "not crawled this period"
        return health_label(self.last_status, self.failing_runs, self.failing_after)

    @property
    def failing(self) -> bool:
        return is_failing(self.failing_runs, self.failing_after)


@dataclass(frozen=True, slots=True)
class Audience:
    """The recipient list a digest is filtered for."""

    name: str
    min_band: str = "watch"
    substances: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        parts = [f"band {self.min_band} or higher"]
        if self.substances:
            parts.append("claims about " + ", ".join(self.substances))
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Digest:
    period: Period
    generated_at: datetime
    figures: Figures
    previous: Figures  # the period before, for the comparison
    articles: tuple[FlaggedArticle, ...]  # every flagged article, ranked
    max_articles: int  # how many are shown in full
    families: tuple[FamilyRow, ...]
    substances: Trend
    categories: Trend
    sources: tuple[SourceRow, ...]
    changes: tuple[str, ...]  # what changed since the last digest, one sentence each
    rules: tuple[str, ...]  # the rule-file hashes that scored the flagged articles
    audience: Audience | None = None
    notes: tuple[str, ...] = field(default=())
    dismissed: int = 0  # flagged articles left out: dismissed in the review workspace
    candidates: tuple[CandidateRow, ...] = ()  # possible new template families
    removed_claims: tuple[RemovedClaims, ...] = ()  # articles whose flagged claims went

    @property
    def false_positives(self) -> int:
        """Claims left out of the articles shown: marked false positives in review."""
        return sum(a.false_positives for a in self.articles)

    @property
    def shown(self) -> tuple[FlaggedArticle, ...]:
        return self.articles[: self.max_articles]

    @property
    def not_shown(self) -> int:
        return max(0, len(self.articles) - self.max_articles)

    @property
    def failing_sources(self) -> tuple[SourceRow, ...]:
        return tuple(s for s in self.sources if s.failing)

    def for_audience(self, audience: Audience) -> Digest:
        """The same digest with only the articles this recipient list asked for, re-ranked."""
        bands = bands_from(audience.min_band)
        wanted = set(audience.substances)
        kept = [
            a
            for a in self.articles
            if a.band in bands and (not wanted or wanted.intersection(a.substances))
        ]
        ranked = tuple(replace(a, rank=i) for i, a in enumerate(kept, 1))
        return replace(self, articles=ranked, audience=audience)
