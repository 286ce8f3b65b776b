"""Promote a candidate family (:mod:`pipeline.dedup.discovery`) to a seed family.

The candidate's articles become seed files in a sub-folder of the user's seed folder, named after
the family, with a ``FAMILY`` file holding the name (see :mod:`pipeline.dedup.seeds`): one file per
article, the file stem is the seed id. Each seed is written as plain text (one block per line) when
that reads back as the same blocks, and as simple HTML otherwise. Everything is written into a
hidden temporary folder first, read back and checked, and only then renamed into place: a failed
promotion leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.document import Block, Document, classify_line, from_text
from pipeline.dedup.discovery import Candidate, site_of
from pipeline.dedup.seeds import SeedError, load_families, read_seed

NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_NAME = 60
MAX_SEEDS = 12  # a family is learned from a handful of seeds; more add time, not evidence


class PromoteError(ValueError):
    """Why a candidate cannot be promoted, in words for the user."""


@dataclass(frozen=True)
class Promoted:
    name: str
    folder: Path
    seeds: dict[str, str]  # seed id -> the article URL it was written from


def check_name(name: str, existing: Sequence[str]) -> None:
    if not NAME.match(name) or len(name) > MAX_NAME:
        raise PromoteError(
            f"family name {name!r}: use lower-case letters, digits and single hyphens "
            f"(at most {MAX_NAME} characters), e.g. quick-answer"
        )
    if name in existing:
        raise PromoteError(f"family name {name!r} is already used by a seed family")


def as_text(doc: Document) -> str:
    lines = []
    for block in doc.blocks:
        prefix = {"list_item": "- ", "quote": "> "}.get(block.kind, "")
        lines.append(prefix + block.text)
    return "\n".join(lines) + "\n"


def as_html(doc: Document) -> str:
    """A minimal article page: headings as h2, list runs as one ul, quotes as blockquotes."""
    body: list[str] = []
    in_list = False
    for block in doc.blocks:
        if block.kind == "list_item" and not in_list:
            body.append("<ul>")
        if block.kind != "list_item" and in_list:
            body.append("</ul>")
        in_list = block.kind == "list_item"
        tag = {"heading": "h2", "list_item": "li", "quote": "blockquote"}.get(block.kind, "p")
        body.append(f"<{tag}>{html.escape(block.text)}</{tag}>")
    if in_list:
        body.append("</ul>")
    title = html.escape(doc.title or "")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><main><article><h1>{title}</h1>\n" + "\n".join(body) + "\n"
        "</article></main></body></html>\n"
    )


def _same(a: Sequence[Block], b: Sequence[Block]) -> bool:
    return [(x.kind, x.text) for x in a] == [(y.kind, y.text) for y in b]


def _plain_text_keeps(doc: Document) -> bool:
    return _same(from_text(as_text(doc)).blocks, doc.blocks) and all(
        classify_line(line) is not None for line in as_text(doc).splitlines()
    )


def pick(candidate: Candidate, limit: int = MAX_SEEDS) -> list[str]:
    """Up to ``limit`` member keys, taking the sites in turn, so each site is represented."""
    by_site: dict[str, list[str]] = {}
    for key in candidate.members:
        by_site.setdefault(site_of(key), []).append(key)
    out: list[str] = []
    while len(out) < limit and any(by_site.values()):
        for site in sorted(by_site):
            if by_site[site] and len(out) < limit:
                out.append(by_site[site].pop(0))
    return out


def promote(
    candidate: Candidate,
    documents: Mapping[str, Document],
    name: str,
    folder: Path,
    *,
    other_folders: Sequence[Path] = (),
) -> Promoted:
    """Write ``candidate`` as the seed family ``name`` into ``folder/name``. ``documents`` maps the
    candidate's member keys to their documents; ``other_folders`` are the other seed folders in
    use (for name and seed-id clashes)."""
    if not folder.is_dir():
        raise PromoteError(f"{folder}: seed folder not found")
    try:
        existing = load_families([*other_folders, folder])
    except SeedError as exc:
        raise PromoteError(f"the seed folders do not load: {exc}") from exc
    check_name(name, list(existing))
    target = folder / name
    if target.exists():
        raise PromoteError(f"{target} already exists")
    keys = [k for k in pick(candidate) if k in documents and documents[k].blocks]
    if len(keys) < 2:
        raise PromoteError(f"{candidate.id}: fewer than two of its articles have stored text")
    taken = {seed_id for seeds in existing.values() for seed_id in seeds}
    temp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=folder))
    try:
        seeds: dict[str, str] = {}
        for n, key in enumerate(keys):
            seed_id = f"{name}-{n:02d}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
            if seed_id in taken:
                raise PromoteError(f"seed id {seed_id!r} is already used")
            doc = documents[key]
            if _plain_text_keeps(doc):
                path = temp / f"{seed_id}.txt"
                path.write_text(as_text(doc), encoding="utf-8")
            else:
                path = temp / f"{seed_id}.html"
                path.write_text(as_html(doc), encoding="utf-8")
            try:
                read_back = read_seed(path).blocks
            except SeedError as exc:
                raise PromoteError(f"{key}: its text does not read back as a seed: {exc}") from exc
            if not read_back:
                raise PromoteError(f"{key}: its text does not read back as a seed")
            seeds[seed_id] = key
        (temp / "FAMILY").write_text(name + "\n", encoding="utf-8")
        try:
            loaded = load_families([temp])
        except SeedError as exc:
            raise PromoteError(f"the new seeds do not load: {exc}") from exc
        if list(loaded) != [name] or set(loaded[name]) != set(seeds):
            raise PromoteError(f"the new seeds do not read back as one family {name!r}")
        temp.rename(target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return Promoted(name, target, seeds)
