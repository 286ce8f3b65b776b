"""Lexicon entries, cue lists and scoring constants: parsing and validation for the rule file.

See :mod:`pipeline.claims.loader` for the file layout. Errors name the file and the entry, e.g.
``rules.toml: conditions.cancer: tier must be one of [...]``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from pipeline.claims.index import PhraseIndex
from pipeline.claims.model import (
    CATEGORIES,
    CLASS_LEXICON,
    ENTRY_TABLES,
    REQUIRED_CUES,
    TIERS,
    Entry,
    Scoring,
)
from pipeline.claims.text import tokens

_ENTRY_KEYS: dict[str, set[str]] = {
    "substances": {"synonyms", "unlawful", "note"},
    "conditions": {"synonyms", "tier", "escalation", "class_words", "note"},
    "drugs": {"synonyms", "class", "escalation", "condition", "note"},
    "groups": {"synonyms", "escalation", "note"},
}
_SCORING_KEYS = {
    "base": set(CATEGORIES),
    "severity": {*TIERS, "unspecified"},
    "aggravators": {"vulnerable", "emergency", "unlawful", "commercial", "mechanism"},
    "mitigators": {"hedged", "attributed", "rhetorical_question", "disclaimer"},
    "bands": {"priority", "review", "watch"},
}
ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


class RuleError(ValueError):
    """A rule file problem; the message names the file and the rule or entry."""


def inflections(word: str) -> list[str]:
    """The word and its regular verb and plural forms (over-generation is harmless)."""
    forms = [word]
    vowels = "aeiou"
    if word.endswith("e"):
        forms += [word + "s", word + "d", word[:-1] + "ing"]
    elif len(word) > 2 and word.endswith("y") and word[-2] not in vowels:
        forms += [word[:-1] + "ies", word[:-1] + "ied", word + "ing"]
    elif word.endswith(("s", "sh", "ch", "x", "z")):
        forms += [word + "es", word + "ed", word + "ing"]
    else:
        forms += [word + "s", word + "ed", word + "ing"]
        if (
            len(word) >= 3
            and word[-1] not in vowels + "wxy"
            and word[-2] in vowels
            and word[-3] not in vowels
        ):
            forms += [word + word[-1] + "ed", word + word[-1] + "ing"]
    return forms


def phrase_variants(phrase: str) -> list[tuple[str, ...]]:
    """The token sequences one phrase stands for (``+`` inflections expanded)."""
    options = [inflections(w[:-1]) if w.endswith("+") else [w] for w in phrase.split()]
    variants: list[tuple[str, ...]] = []
    for combo in itertools.product(*options):
        toks = tuple(tokens(" ".join(combo)))
        if toks and toks not in variants:
            variants.append(toks)
    return variants


class Checker:
    """Validation helpers whose errors name the file."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> RuleError:
        return RuleError(f"{self.source}: {where}: {problem}")

    def check_keys(self, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(where, f"unknown key {key!r}")

    def str_list(self, value: Any, where: str, *, empty_ok: bool = False) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, "must be a list of strings")
        if not value and not empty_ok:
            raise self.fail(where, "must not be empty")
        return list(value)

    def phrases(self, values: list[str], where: str) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for phrase in values:
            variants = phrase_variants(phrase)
            if not variants:
                raise self.fail(where, f"bad pattern {phrase!r}: no word characters")
            out.extend(variants)
        return out


def merge_extra(data: dict[str, Any], extra: Mapping[str, Any], check: Checker) -> None:
    """Merge user-supplied lexicon entries and cues into the parsed file (in place)."""
    for table, value in extra.items():
        if table == "cues":
            if not isinstance(value, Mapping):
                raise check.fail("extra.cues", "must be a table of phrase lists")
            cues = data.setdefault("cues", {})
            for name, phrases in value.items():
                more = check.str_list(phrases, f"extra.cues.{name}")
                cues[name] = [*cues.get(name, []), *more]
        elif table in ENTRY_TABLES:
            if not isinstance(value, Mapping):
                raise check.fail(f"extra.{table}", "must be a table of entries")
            target = data.setdefault(table, {})
            for key, entry in value.items():
                if not isinstance(entry, Mapping):
                    raise check.fail(f"extra.{table}.{key}", "must be a table")
                merged = dict(target.get(key, {}))
                for attr, attr_value in entry.items():
                    if attr == "synonyms" and "synonyms" in merged:
                        more = check.str_list(attr_value, f"extra.{table}.{key}.synonyms")
                        merged["synonyms"] = [*merged["synonyms"], *more]
                    else:
                        merged[attr] = attr_value
                target[key] = merged
        else:
            raise check.fail("extra", f"unknown key {table!r} (expected cues or {ENTRY_TABLES})")


def build_entries(
    data: dict[str, Any], check: Checker, index: PhraseIndex
) -> dict[str, dict[str, Entry]]:
    entries: dict[str, dict[str, Entry]] = {name: {} for name in ENTRY_TABLES.values()}
    entries[CLASS_LEXICON] = {}
    for table, lexicon in ENTRY_TABLES.items():
        section = data.get(table, {})
        if not isinstance(section, dict):
            raise check.fail(table, "must be a table of entries")
        for key, raw in section.items():
            where = f"{table}.{key}"
            if not isinstance(raw, dict):
                raise check.fail(where, "must be a table")
            check.check_keys(raw, _ENTRY_KEYS[table], where)
            if "synonyms" not in raw:
                raise check.fail(where, "missing key 'synonyms'")
            synonyms = check.str_list(raw["synonyms"], f"{where}.synonyms")
            tier = raw.get("tier")
            if table == "conditions" and tier not in TIERS:
                raise check.fail(where, f"tier must be one of {list(TIERS)}, not {tier!r}")
            for attr in ("escalation", "class", "condition"):
                if attr in raw and not isinstance(raw[attr], str):
                    raise check.fail(where, f"{attr} must be a string")
            if not isinstance(raw.get("unlawful", False), bool):
                raise check.fail(where, "unlawful must be true or false")
            entry = Entry(
                lexicon=lexicon,
                key=key,
                synonyms=tuple(synonyms),
                tier=tier,
                escalation=raw.get("escalation"),
                unlawful=raw.get("unlawful", False),
                drug_class=raw.get("class"),
                condition=raw.get("condition"),
            )
            entries[lexicon][key] = entry
            for toks in check.phrases(synonyms, f"{where}.synonyms"):
                index.add(toks, lexicon, key)
            if "class_words" in raw:
                words = check.str_list(raw["class_words"], f"{where}.class_words")
                entries[CLASS_LEXICON][key] = Entry(
                    CLASS_LEXICON, key, tuple(words), tier=tier, escalation=entry.escalation,
                    condition=key,
                )  # fmt: skip
                for toks in check.phrases(words, f"{where}.class_words"):
                    index.add(toks, CLASS_LEXICON, key)
    for entry in entries["drug"].values():
        if entry.condition is not None and entry.condition not in entries["condition"]:
            raise check.fail(f"drugs.{entry.key}", f"unknown condition {entry.condition!r}")
    return entries


def cue_lists(data: dict[str, Any], check: Checker) -> dict[str, tuple[str, ...]]:
    section = data.get("cues", {})
    if not isinstance(section, dict):
        raise check.fail("cues", "must be a table of phrase lists")
    cues: dict[str, tuple[str, ...]] = {}
    for name, values in section.items():
        if not ID.match(name) or name in ENTRY_TABLES.values():
            raise check.fail(f"cues.{name}", "bad cue name")
        cues[name] = tuple(check.str_list(values, f"cues.{name}"))
    for name in REQUIRED_CUES:
        if name not in cues:
            raise check.fail("cues", f"missing required cue list {name!r}")
    return cues


def index_cues(
    cues: dict[str, tuple[str, ...]], names: set[str], index: PhraseIndex, check: Checker
) -> None:
    for name in sorted(names):
        for phrase in cues[name]:
            for toks in check.phrases([phrase], f"cues.{name}"):
                index.add(toks, name, phrase)


def parse_scoring(data: dict[str, Any], check: Checker) -> Scoring:
    raw = data.get("scoring")
    if not isinstance(raw, dict):
        raise check.fail("scoring", "missing [scoring] table")
    check.check_keys(raw, {*_SCORING_KEYS, "extra_category_points", "rest_weight"}, "scoring")
    tables: dict[str, dict[str, float]] = {}
    for name, keys in _SCORING_KEYS.items():
        table = raw.get(name)
        if not isinstance(table, dict) or set(table) != keys:
            raise check.fail(f"scoring.{name}", f"must give exactly {sorted(keys)}")
        for key, value in table.items():
            if not isinstance(value, int | float) or value < 0:
                raise check.fail(f"scoring.{name}.{key}", "must be a non-negative number")
        tables[name] = {key: float(value) for key, value in table.items()}
    bands = tables["bands"]
    if not bands["priority"] > bands["review"] > bands["watch"] > 0:
        raise check.fail("scoring.bands", "must satisfy priority > review > watch > 0")
    extra_points = raw.get("extra_category_points", 0)
    rest_weight = raw.get("rest_weight", 0.25)
    for name, value in (("extra_category_points", extra_points), ("rest_weight", rest_weight)):
        if not isinstance(value, int | float) or value < 0:
            raise check.fail(f"scoring.{name}", "must be a non-negative number")
    return Scoring(
        base=tables["base"],
        extra_category_points=float(extra_points),
        severity=tables["severity"],
        aggravators=tables["aggravators"],
        mitigators=tables["mitigators"],
        rest_weight=float(rest_weight),
        bands=bands,
    )
