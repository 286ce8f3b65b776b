"""Seed sets: template articles, one file each, grouped into families.

A seed folder holds files (the file stem is the seed id) and, optionally, sub-folders, one per
family. Files directly in a folder form one family; it is named after the words its seeds' headings
share most (for example ``kratom-dopamine``), unless the folder holds a ``FAMILY`` file naming it.
``.html``/``.htm`` files are read as HTML, anything else as plain text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from core.document import Document, from_text
from pipeline.dedup.tokens import STOPWORDS, tokens
from pipeline.extract import extract_html

SEED_SUFFIXES = {".txt", ".md", ".html", ".htm"}


class SeedError(ValueError):
    pass


def read_seed(path: Path) -> Document:
    data = path.read_bytes()
    if path.suffix.lower() in (".html", ".htm"):
        outcome = extract_html(data, path.as_uri())
        if outcome.document is None:
            raise SeedError(f"{path}: no article text ({outcome.reason})")
        return outcome.document
    return from_text(data.decode("utf-8", errors="replace"))


def family_name(folder: Path, seeds: dict[str, Document]) -> str:
    named = folder / "FAMILY"
    if named.is_file():
        return named.read_text(encoding="utf-8").strip() or folder.name
    counts: Counter[str] = Counter()
    for doc in seeds.values():
        for block in doc.blocks:
            if block.kind in ("heading", "list_item"):
                counts.update({w for w in tokens(block.text) if w not in STOPWORDS and len(w) > 3})
    top = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:2]]
    return "-".join(top) or folder.name


def load_families(folders: Iterable[Path]) -> dict[str, dict[str, Document]]:
    """family name -> seed id -> document. Duplicate seed ids across folders are an error."""
    families: dict[str, dict[str, Document]] = {}
    seen: dict[str, Path] = {}

    def collect(folder: Path) -> None:
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SEED_SUFFIXES
        )
        seeds: dict[str, Document] = {}
        for path in files:
            if path.stem in seen:
                raise SeedError(f"{path}: seed id {path.stem!r} already used by {seen[path.stem]}")
            seen[path.stem] = path
            doc = read_seed(path)
            if doc.blocks:
                seeds[path.stem] = doc
        if seeds:
            name = family_name(folder, seeds)
            families.setdefault(name, {}).update(seeds)
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            collect(sub)

    for folder in folders:
        if not folder.is_dir():
            raise SeedError(f"{folder}: seed folder not found")
        collect(folder)
    return families
