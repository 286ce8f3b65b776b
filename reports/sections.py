"""The digest's other sections: template families, substance and category trends, source health,
and what changed since the last digest. Read-only queries; plain data out."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from core.models import Article, Claim, CrawlRun, Source
from pipeline.health import failed_streak, run_note
from reports.model import (
    BAND_ORDER,
    CATEGORY_LABELS,
    FamilyRow,
    Figures,
    FlaggedArticle,
    SiteMark,
    SourceRow,
    Trend,
    TrendRow,
)
from reports.period import Period
from reports.query import execute, flagged_in, in_period, loads, raw
from reports.text import site_of

MAX_SITES_NAMED = 8


def families(session: Session, period: Period) -> tuple[FamilyRow, ...]:
    """Families with articles new or changed in the period: counts, sites, new sites."""
    query = select(
        Article.family, Article.canonical_url, Article.first_seen_at, Article.changed_at
    ).where(Article.family.is_not(None), Article.first_seen_at < period.end)
    first: dict[str, datetime] = {}
    total: Counter[str] = Counter()
    before: defaultdict[str, set[str]] = defaultdict(set)
    now: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for name, url, seen, changed in execute(session, query):
        family = str(name)
        total[family] += 1
        if family not in first or seen < first[family]:
            first[family] = seen
        if seen < period.start:
            before[family].add(site_of(url))
        if seen >= period.start or period.start <= changed < period.end:
            now[family][site_of(url)] += 1
    copies = select(Article.family, func.count()).where(
        Article.family.is_not(None),
        in_period(period),
        or_(Article.duplicate_of.is_not(None), Article.near_of.is_not(None)),
    )
    reposts = dict(execute(session, copies.group_by(Article.family)).all())
    rows = [
        FamilyRow(
            name=family,
            articles=sum(sites.values()),
            total=total[family],
            reposts=int(reposts.get(family, 0)),
            first_seen=first[family],
            sites=tuple(
                SiteMark(host, host not in before[family])
                for host, _ in sorted(sites.items(), key=lambda kv: (-kv[1], kv[0]))
            ),
        )
        for family, sites in now.items()
    ]
    return tuple(sorted(rows, key=lambda r: (-r.articles, r.name)))


def trends(
    session: Session, period: Period, history: int, current: Sequence[FlaggedArticle]
) -> tuple[Trend, Trend]:
    """Flagged articles per substance and per claim category, this period (from ``current``, the
    period's flagged articles) and the ``history`` periods before (queried)."""
    windows = [*period.history(history), period]
    starts = [w.start for w in windows]
    start, end = windows[0].start, period.start
    in_range = or_(
        and_(Article.first_seen_at >= start, Article.first_seen_at < end),
        and_(Article.changed_at >= start, Article.changed_at < end),
    )
    query = (
        select(
            Claim.article_id,
            Article.first_seen_at,
            Article.changed_at,
            Claim.substance,
            raw(Claim.categories),
        )
        .join(Article, Article.id == Claim.article_id)
        .where(in_range, Article.risk_band.in_(BAND_ORDER))
    )
    substances: defaultdict[str, set[tuple[int, int]]] = defaultdict(set)
    categories: defaultdict[str, set[tuple[int, int]]] = defaultdict(set)
    last = len(windows) - 1
    for article_id, seen, changed, substance, cats in execute(session, query):
        slots = set()
        for moment in (seen, changed):
            index = bisect_right(starts, moment) - 1
            if 0 <= index < last and moment < windows[index].end:
                slots.add(index)
        for index in slots:
            if substance:
                substances[substance].add((index, article_id))
            for category in loads(cats) or ():
                categories[category].add((index, article_id))
    for article in current:
        for substance in article.substances:
            substances[substance].add((last, article.article_id))
        for category in article.categories:
            categories[category].add((last, article.article_id))
    labels = tuple(w.short for w in windows)
    return (
        Trend("Flagged articles by substance", labels, _rows(substances, len(windows))),
        Trend(
            "Flagged articles by kind of claim",
            labels,
            _rows(categories, len(windows), CATEGORY_LABELS),
        ),
    )


def _rows(
    seen: dict[str, set[tuple[int, int]]], width: int, labels: dict[str, str] | None = None
) -> tuple[TrendRow, ...]:
    rows = []
    for name, pairs in seen.items():
        counts = [0] * width
        for index, _ in pairs:
            counts[index] += 1
        rows.append(TrendRow((labels or {}).get(name, name), tuple(counts)))
    rows.sort(key=lambda r: (-r.current, -sum(r.counts), r.name))
    return tuple(rows)


def source_rows(session: Session, period: Period, failing_after: int) -> tuple[SourceRow, ...]:
    """Each source's crawl runs in the period, its last run and its failed streak (failing from
    ``failing_after`` runs on)."""
    in_runs = and_(CrawlRun.started_at >= period.start, CrawlRun.started_at < period.end)
    totals = {
        source_id: (runs, pages or 0, items or 0, errors or 0)
        for source_id, runs, pages, items, errors in session.execute(
            select(
                CrawlRun.source_id,
                func.count(),
                func.sum(CrawlRun.pages),
                func.sum(CrawlRun.items),
                func.sum(CrawlRun.errors),
            )
            .where(in_runs)
            .group_by(CrawlRun.source_id)
        )
    }
    reasons: defaultdict[int, Counter[str]] = defaultdict(Counter)
    for source_id, stats in session.execute(
        select(CrawlRun.source_id, CrawlRun.stats).where(in_runs)
    ):
        own = (stats or {}).get("source", {})
        for key, value in own.items():
            if key.startswith("errors/") and key != "errors/total" and isinstance(value, int):
                reasons[source_id][key.removeprefix("errors/")] += value
    rows = []
    for source in session.scalars(select(Source).order_by(Source.name)):
        last = session.execute(
            select(CrawlRun.status, CrawlRun.started_at, CrawlRun.stats)
            .where(CrawlRun.source_id == source.id, CrawlRun.started_at < period.end)
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(1)
        ).first()
        failing = failed_streak(session, source.id, before=period.end).failed
        runs, pages, items, errors = totals.get(source.id, (0, 0, 0, 0))
        rows.append(
            SourceRow(
                name=source.name,
                runs=runs,
                pages=int(pages),
                items=int(items),
                errors=int(errors),
                error_reasons=tuple(reasons[source.id].most_common(3)),
                last_status=last[0] if last else None,
                last_run=last[1] if last else None,
                failing_runs=failing,
                failing_after=failing_after,
                last_note=run_note(last[0], last[2]) if last else "",
            )
        )
    rows.sort(key=lambda r: (not r.failing, r.name))
    return tuple(rows)


def _compare(label: str, now: int, before: int) -> str | None:
    if now == before:
        return None
    direction = "up" if now > before else "down"
    return f"{label}: {now}, {direction} from {before} the period before."


def changes(
    session: Session,
    period: Period,
    current: Figures,
    previous: Figures,
    family_rows: tuple[FamilyRow, ...],
    substances: Trend,
    sources: tuple[SourceRow, ...],
    failing_after: int,
) -> tuple[str, ...]:
    """What is different from the last digest (the period before), one sentence each."""
    out = [
        line
        for line in (
            _compare("Flagged articles", current.flagged, previous.flagged),
            _compare("Priority articles", current.priority, previous.priority),
            _compare("New articles", current.new_articles, previous.new_articles),
        )
        if line
    ]
    for family in family_rows:
        if family.first_seen >= period.start:
            sites = "1 site" if len(family.sites) == 1 else f"{len(family.sites)} sites"
            out.append(f"New template family {family.name}: {family.articles} articles on {sites}.")
        elif family.new_sites:
            hosts = [s.host for s in family.sites if s.new]
            named = ", ".join(hosts[:MAX_SITES_NAMED])
            more = (
                f" and {len(hosts) - MAX_SITES_NAMED} more" if len(hosts) > MAX_SITES_NAMED else ""
            )
            sites = "a new site" if len(hosts) == 1 else f"{len(hosts)} new sites"
            out.append(f"Family {family.name} spread to {sites}: {named}{more}.")
    had_history = any(any(row.counts[:-1]) for row in substances.rows)
    for row in substances.rows:
        if row.change == "new" and had_history:
            out.append(f"First flagged claims about {row.name} in {len(row.counts) - 1} periods.")
        elif row.change == "up":
            out.append(
                f"Claims about {row.name} rose: {row.current} flagged articles against "
                f"{row.average:.1f} on average before."
            )
    before = {s.name: s for s in source_rows(session, period.previous(), failing_after)}
    for source in sources:
        earlier = before.get(source.name)
        if source.failing and not (earlier and earlier.failing):
            out.append(f"Source {source.name} is failing: its last {source.failing_runs} runs.")
        elif earlier and earlier.failing and not source.failing:
            out.append(f"Source {source.name} recovered.")
    out.extend(_rule_change(session, period))
    return tuple(out)


def _rule_change(session: Session, period: Period) -> list[str]:
    def hashes(p: Period) -> set[str]:
        query = select(Article.rules_sha256).where(flagged_in(p)).distinct()
        return {h for (h,) in session.execute(query) if h}

    now, before = hashes(period), hashes(period.previous())
    if now and before and now != before:
        new = ", ".join(h[:12] for h in sorted(now - before)) or "(none)"
        return [f"The claim rules changed since the last digest (rule file sha256 {new}…)."]
    return []
