"""The settings lookup the Scrapy adapters share (the settings are derived from the config in
``crawler/scrapy_settings.py``, which documents each)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def required(settings: BaseSettings, name: str) -> Any:
    """A setting ``crawler/scrapy_settings.py`` always derives; ``KeyError`` naming it if absent."""
    if name not in settings:
        raise KeyError(f"Scrapy setting {name} is not set (see crawler/scrapy_settings.py)")
    return settings[name]
