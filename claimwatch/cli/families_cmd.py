"""``claimwatch families``: the seed families and what matched them; ``--candidates`` proposes new
ones among the unmatched articles, and ``families promote`` makes a candidate a seed family."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from claimwatch.cli.common import EX_CONFIG, EX_FAILURE, Context, fail, pass_ctx

if TYPE_CHECKING:
    from core.document import Document
    from pipeline.dedup.template import TemplateMatcher


@click.group(invoke_without_command=True)
@click.option(
    "--candidates",
    "show_candidates",
    is_flag=True,
    help="Propose new families: groups of unmatched articles that share a template.",
)
@click.pass_context
def families(ctx: click.Context, show_candidates: bool) -> None:
    """Template families: their seeds, and the articles and sites matched to each, by week."""
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.find_object(Context)
    assert obj is not None
    from reports.listings import family_weeks

    seeds = _seed_families(obj)
    if show_candidates:
        _candidates(obj)
        return
    with obj.session() as session:
        weeks = family_weeks(session)
    for name, members in seeds.items():
        click.secho(f"{name}  ({len(members)} seeds)", bold=True)
        for seed_id in members:
            click.echo(f"  seed {seed_id}")
        rows = [w for w in weeks if w.family == name]
        if not rows:
            click.echo("  no articles matched yet")
        for row in rows:
            click.echo(
                f"  {row.week}  {row.articles:>4} articles  {row.reposts:>3} reposts  "
                f"{len(row.sites)} sites: {', '.join(row.sites)}"
            )


def _seed_families(obj: Context) -> dict[str, dict[str, Document]]:
    from pipeline.dedup.seeds import SeedError, load_families

    try:
        return load_families(obj.config.seed_folders)
    except SeedError as exc:
        fail(f"seeds: {exc}", EX_CONFIG)


def _matcher(obj: Context) -> TemplateMatcher:
    from pipeline.dedup.template import Family, TemplateMatcher

    seeds = _seed_families(obj)
    return TemplateMatcher(
        [Family.learn(name, members) for name, members in seeds.items()],
        obj.config.dedup.template_threshold,
    )


def _candidates(obj: Context) -> None:
    """Stored articles that match no family and copy no other article, grouped by template."""
    from pipeline.dedup.stored import stored_candidates

    matcher = _matcher(obj)
    with obj.session() as session:
        found, documents = stored_candidates(session, matcher=matcher)
    click.echo(f"{len(found)} candidate families among {len(documents)} unmatched articles")
    for candidate in found:
        click.secho(
            f"{candidate.id}  ({len(candidate.members)} articles, {len(candidate.sites)} sites: "
            f"{', '.join(candidate.sites)})",
            bold=True,
        )
        for line in candidate.evidence:
            click.echo(f"  {line}")
        for url in candidate.examples:
            click.echo(f"  example {url}")
    if found:
        click.echo("promote one with: claimwatch families promote ID --name NAME")


@families.command()
@click.argument("candidate_id", metavar="ID")
@click.option("--name", required=True, help="The new family's name, e.g. quick-answer.")
@pass_ctx
def promote(obj: Context, candidate_id: str, name: str) -> None:
    """Write candidate ID (from ``families --candidates``) as the seed family NAME, in the first
    folder of ``[seeds] paths``; later articles of its template match it."""
    from pipeline.dedup.promote import PromoteError, check_name
    from pipeline.dedup.promote import promote as write_family
    from pipeline.dedup.stored import stored_candidates

    config = obj.config
    if not config.seeds.paths:
        fail(
            "families promote: no seed folder of your own to write to: add one to "
            '[seeds] paths (e.g. paths = ["seeds-local"]) in the config',
            EX_CONFIG,
        )
    folder = config.seeds.paths[0]
    seeds = _seed_families(obj)
    try:
        check_name(name, list(seeds))
    except PromoteError as exc:
        fail(f"families promote: {exc}")
    matcher = _matcher(obj)
    with obj.session() as session:
        found, documents = stored_candidates(session, matcher=matcher)
    chosen = next((c for c in found if c.id == candidate_id), None)
    if chosen is None:
        known = ", ".join(c.id for c in found) or "none"
        fail(
            f"families promote: no candidate {candidate_id!r} among the stored articles "
            f"(candidates now: {known}; see claimwatch families --candidates)",
            EX_FAILURE,
        )
    others = [f for f in config.seed_folders if f != folder]
    try:
        promoted = write_family(chosen, dict(documents), name, folder, other_folders=others)
    except PromoteError as exc:
        fail(f"families promote: {exc}")
    promoted_matcher = _matcher(obj)
    by_key = dict(documents)
    matched = sum(1 for key in chosen.members if promoted_matcher.match(by_key[key]).family == name)
    click.echo(
        f"promoted {chosen.id} as family {name!r}: {len(promoted.seeds)} seeds in {promoted.folder}"
    )
    for seed_id, url in promoted.seeds.items():
        click.echo(f"  seed {seed_id}  from {url}")
    click.echo(
        f"the family matches {matched} of the candidate's {len(chosen.members)} articles; "
        "articles crawled from now on are matched against it"
    )
