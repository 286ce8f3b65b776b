"""``claimwatch demo``: serve the bundled demo sites on loopback and run the pipeline over them.

The demo is re-runnable with the same result: each run starts from a fresh demo folder,
``<data_dir>/demo/`` (its own SQLite database, digests and a config file that points at them), so a
second run neither doubles the data nor mixes with the configured database. The demo sites get new
ports on every run; their pages are gone once the demo exits, so the demo's digest links each page
to its stored evidence instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.config import Config, Source, SourceKind

DEMO_SOURCES = {
    "herbal-wellness-hub": (SourceKind.sitemap, "/robots.txt"),
    "natural-remedy-daily": (SourceKind.feed, "/feed.xml"),
    "city-health-news": (SourceKind.site, "/"),
}
DEMO_FOLDER = "demo"
MARKER = ".claimwatch-demo"  # only a folder holding this file is ever emptied


class DemoFolderError(Exception):
    pass


def demo_folder(config: Config) -> Path:
    return config.data_dir / DEMO_FOLDER


def fresh_folder(folder: Path) -> Path:
    """Empty ``folder`` (only when an earlier demo made it) and return it."""
    if folder.exists():
        if not (folder / MARKER).exists():
            raise DemoFolderError(f"{folder} exists and was not made by `claimwatch demo`")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by `claimwatch demo`; emptied on every run\n")
    return folder


def demo_config(config: Config, urls: dict[str, str], folder: Path | None = None) -> Config:
    """The user's config with the demo sites as its sources, loopback allowed and no politeness
    delay (the servers are ours); with ``folder``, its data (SQLite) and digests go there."""
    sources = [
        Source(name=name, kind=kind, start_urls=[urls[name] + path], max_pages=200)
        for name, (kind, path) in DEMO_SOURCES.items()
        if name in urls
    ]
    crawl = config.crawl.model_copy(
        update={
            "allow_addresses": ["127.0.0.1/32"],
            "download_delay": 0.0,
            "autothrottle": False,
            "concurrency_per_domain": 4,
        }
    )
    update: dict[str, object] = {"sources": sources, "crawl": crawl}
    if folder is not None:
        update |= {"data_dir": folder, "database_url": None}
    return config.model_copy(update=update)


def demo_config_file(folder: Path, config: Config) -> Path:
    """A config file for looking at the demo's results afterwards (``claimwatch --config ...``):
    its data folder, and the demo sources, disabled (their sites were served only during the run)."""
    lines = [
        "# Written by `claimwatch demo`: its results, to look at with",
        f"#   claimwatch --config {folder / 'claimwatch.toml'} sources | articles | families | digest",
        'data_dir = "."',
    ]
    for source in config.sources:
        lines += [
            "",
            "[[sources]]",
            f'name = "{source.name}"',
            f'kind = "{source.kind.value}"',
            f'start_urls = ["{source.start_urls[0]}"]',
            "enabled = false                # served only while `claimwatch demo` ran",
        ]
    path = folder / "claimwatch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
