"""Risky-claim scoring: find the sentences that make risky health claims, explain them, rank articles.

Public API (the CLI, the Scrapy pipeline and the store use only these):

- :func:`load_rules` reads and validates a rule file, with optional extra lexicon entries from the
  config; :func:`default_rules` is the shipped ``rules.toml``, loaded once.
- :func:`score_document` turns a :class:`~core.document.Document` into an
  :class:`ArticleScore` (``.claims``, ``.risk``, ``.as_json()``, ``.rules_sha256``).
- :func:`explain` shows which rules fire on a sentence and why (``claimwatch rules explain``).
- :func:`check_rules` runs every rule's examples and returns the failures (``claimwatch rules
  check``).

The scoring formula is documented in :mod:`pipeline.claims.scoring`, the context logic in
:mod:`pipeline.claims.judge`, the rule syntax in :mod:`pipeline.claims.loader`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pipeline.claims.article import score_document
from pipeline.claims.explain import check_rules, explain
from pipeline.claims.loader import RuleError, load_rules
from pipeline.claims.model import RuleSet
from pipeline.claims.scoring import ArticleScore, Claim, Risk

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.toml")


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The shipped rule file, loaded and validated once per process."""
    return load_rules(DEFAULT_RULES_PATH)


__all__ = [
    "DEFAULT_RULES_PATH",
    "ArticleScore",
    "Claim",
    "Risk",
    "RuleError",
    "RuleSet",
    "check_rules",
    "default_rules",
    "explain",
    "load_rules",
    "score_document",
]
