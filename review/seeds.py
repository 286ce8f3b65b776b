"""The configured seed families, read once when first asked for (the seed files do not change
while the workspace runs); a seed folder that cannot be read is a message on the page, not a
failed request."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from threading import Lock

from core.document import Document
from pipeline.dedup.seeds import SeedError, load_families

Families = dict[str, dict[str, Document]]


class SeedFamilies:
    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = list(folders)
        self._lock = Lock()
        self._loaded: tuple[Families, str | None] | None = None

    def load(self) -> tuple[Families, str | None]:
        """The families (name -> seed id -> document), and what went wrong reading them."""
        with self._lock:
            if self._loaded is None:
                try:
                    self._loaded = (load_families(self.folders), None)
                except (SeedError, OSError) as exc:
                    self._loaded = ({}, f"seeds: {exc}")
            return self._loaded
