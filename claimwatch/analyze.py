"""``claimwatch analyze``: documents through the pipeline's pure stages, printed, never stored."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from claimwatch.config import Config
from claimwatch.fetch import FetchError, fetch_url
from pipeline.analysis import HTML_SUFFIXES, NO_MATCH, analyze, load_document
from pipeline.claims.pipeline import rules_from_config
from pipeline.db import has_schema, make_engine
from pipeline.dedup.engine import Deduper
from pipeline.dedup.pipeline import build_deduper, load_index, resolver

logger = logging.getLogger(__name__)
Resolve = Callable[[int], tuple[str, str] | None]


def dedup_context(config: Config) -> tuple[Deduper, Resolve | None]:
    """The dedup engine with the seeds, plus the stored articles when a database exists."""
    deduper = build_deduper(config)
    url = make_url(config.db_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return deduper, None
    try:
        engine = make_engine(config.db_url)
        if has_schema(engine):
            load_index(deduper, engine)
            return deduper, resolver(engine)
    except Exception as exc:  # an unreachable database must not stop a one-off analysis
        logger.warning("stored articles not compared: %s", exc)
    return deduper, None


def read_input(name: str, config: Config) -> tuple[bytes, bool]:
    if name.startswith(("http://", "https://")):
        return fetch_url(name, config.crawl)
    return Path(name).read_bytes(), name.lower().endswith(HTML_SUFFIXES)


def run_analyze(
    config: Config, inputs: Iterable[str], *, as_json: bool, excerpt: bool = False
) -> int:
    """Analyse each input; return the exit code (1 when an input could not be read)."""
    deduper, resolve = dedup_context(config)
    rules = rules_from_config(config)
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
        result = analyze(name, document, reason, deduper=deduper, resolve=resolve, rules=rules)
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        else:
            print_analysis(result)
    return 1 if failed else 0


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
