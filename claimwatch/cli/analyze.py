"""``claimwatch analyze``: documents through the pipeline's pure stages, printed, never stored."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from claimwatch.cli.common import EX_CONFIG, EX_FAILURE, EX_OK, Context, fail, pass_ctx
from core.config import Config, Voice

if TYPE_CHECKING:
    from pipeline.dedup.engine import Deduper

logger = logging.getLogger(__name__)
Resolve = Callable[[int], tuple[str, str] | None]


def dedup_context(config: Config) -> tuple[Deduper, Resolve | None]:
    """The dedup engine with the seeds, plus the stored articles when a database exists."""
    from sqlalchemy.engine import make_url

    from core.db import engine_for, has_schema
    from pipeline.dedup.pipeline import build_deduper, load_index, resolver

    deduper = build_deduper(
        config.seed_folders, config.dedup.near_threshold, config.dedup.template_threshold
    )
    url = make_url(config.db_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return deduper, None
    try:
        engine = engine_for(config.db_url)
        if has_schema(engine):
            load_index(deduper, engine)
            return deduper, resolver(engine)
    except Exception as exc:  # an unreachable database must not stop a one-off analysis
        logger.warning("stored articles not compared: %s", exc)
    return deduper, None


def read_input(name: str, config: Config) -> tuple[bytes, bool]:
    from crawler.fetch import fetch_url
    from pipeline.analysis import HTML_SUFFIXES

    if name.startswith(("http://", "https://")):
        return fetch_url(name, config.crawl)
    return Path(name).read_bytes(), name.lower().endswith(HTML_SUFFIXES)


def run_analyze(
    config: Config,
    inputs: Iterable[str],
    *,
    as_json: bool,
    excerpt: bool = False,
    voice: str = "auto",
) -> int:
    """Analyse each input; return the exit code (1 when an input could not be read). ``voice``
    declares the inputs' page kind (``auto``: an HTML input's own metadata tells)."""
    from crawler.fetch import FetchError
    from pipeline.analysis import NO_MATCH, load_document
    from pipeline.analysis import analyze as analyze_document
    from pipeline.claims.pipeline import model_from_config, rules_from_config
    from pipeline.page_kind import page_kind

    deduper, resolve = dedup_context(config)
    rules = rules_from_config(config)
    model = model_from_config(config)
    failed = False
    for name in inputs:
        try:
            content, is_html = read_input(name, config)
        except (OSError, FetchError) as exc:
            failed = True
            click.echo(f"claimwatch: {name}: {exc}", err=True)
            if as_json:
                failure: dict[str, Any] = {"source": name, "title": None, "blocks": []}
                failure.update(text_chars=0, error=str(exc), **NO_MATCH)
                click.echo(json.dumps(failure, ensure_ascii=False))
            continue
        document, reason = load_document(name, content, is_html=is_html)
        if document is not None and excerpt:
            document = replace(document, meta={**document.meta, "excerpt": True})
        kind = page_kind(voice, content if is_html else b"")
        result = analyze_document(
            name, document, reason, deduper=deduper, resolve=resolve, rules=rules, model=model,
            kind=kind,
        )  # fmt: skip
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            print_analysis(result)
    return EX_FAILURE if failed else EX_OK


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input, one per line.")
@click.option(
    "--excerpt",
    is_flag=True,
    help="The inputs are excerpts that may stop mid-article (a list at the end may be cut short).",
)
@click.option(
    "--kind",
    "voice",
    type=click.Choice([voice.value for voice in Voice]),
    default=Voice.auto.value,
    show_default=True,
    help="The inputs' page kind, as a source's `voice` declares it (auto: an HTML input's "
    "schema.org type or og:type tells; a feature of the claim decision, never a switch).",
)
@click.argument("inputs", nargs=-1, required=True)
@pass_ctx
def analyze(
    obj: Context, as_json: bool, excerpt: bool, voice: str, inputs: tuple[str, ...]
) -> None:
    """Run documents through the pipeline without storing them.

    Each input is a file (.html/.htm as HTML, anything else as plain text: one block per line,
    "- " bullets, short unpunctuated lines as headings) or an http(s) URL. Each is compared with the
    seed templates and the stored articles. Exits non-zero when an input could not be read.
    """
    from pipeline.claims import RuleError
    from pipeline.claims.learned import ModelError
    from pipeline.dedup.seeds import SeedError

    try:
        code = run_analyze(obj.config, inputs, as_json=as_json, excerpt=excerpt, voice=voice)
    except SeedError as exc:
        fail(f"seeds: {exc}", EX_CONFIG)
    except (RuleError, ModelError) as exc:
        fail(str(exc), EX_CONFIG)
    sys.exit(code)


def print_analysis(result: dict[str, Any]) -> None:
    click.secho(f"== {result['source']}", bold=True)
    if result.get("error"):
        click.echo(f"   no article text ({result['error']})")
        return
    click.echo(f"   title: {result['title'] or '-'}   {result['text_chars']} characters")
    template, near = result["template"], result["near_duplicate"]
    if template["match"]:
        click.secho(
            f"   template family {template['family']} (score {template['score']:.2f},"
            f" nearest seed {template['nearest_seed']})",
            fg="yellow",
        )
        for line in template["evidence"]:
            click.echo(f"     - {line}")
    if near["of"]:
        click.secho(
            f"   near-duplicate of {near['of']} (similarity {near['similarity']:.2f})", fg="yellow"
        )
    risk = result.get("risk")
    if risk:
        flags = f", escalations: {', '.join(risk['escalations'])}" if risk["escalations"] else ""
        colour = {"priority": "red", "review": "yellow"}.get(risk["band"])
        click.secho(f"   risk {risk['score']:.0f}/100: {risk['band']}{flags}", fg=colour, bold=True)
    if result.get("page_kind"):
        click.echo(f"   page kind: {result['page_kind']}")
    claims = result.get("claims", [])
    offset = 0
    for block in result["blocks"]:
        kind, text = block["kind"], block["text"]
        shown = highlight(text, offset, claims)
        offset += len(text) + 1
        if kind == "heading":
            click.echo("\n## " + shown)
        elif kind == "list_item":
            click.echo(f"  • {shown}")
        elif kind == "quote":
            click.echo(f"  > {shown}")
        else:
            click.echo(f"\n{shown}")
        for claim in claims:
            if offset - len(text) - 1 <= claim["start"] < offset:
                click.secho(
                    f"    ↳ potential {', '.join(claim['categories']) or 'claim'}"
                    f" (score {claim['score']:.0f}, {claim['severity']}"
                    f"{', hedged' if claim['hedged'] else ''}; rules: {', '.join(claim['rules'])})",
                    fg="cyan",
                )
    click.echo()


def highlight(text: str, offset: int, claims: list[dict[str, Any]]) -> str:
    """The block's text with the claim sentences that fall in it styled for the terminal."""
    spans = sorted(
        (max(c["start"] - offset, 0), min(c["end"] - offset, len(text)))
        for c in claims
        if c["end"] > offset and c["start"] < offset + len(text)
    )
    out, cursor = [], 0
    for start, end in spans:
        if start < cursor:
            continue
        out.append(text[cursor:start])
        out.append(click.style(text[start:end], fg="red", bold=True, underline=True))
        cursor = end
    out.append(text[cursor:])
    return "".join(out)
