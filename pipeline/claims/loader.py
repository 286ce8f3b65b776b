"""Load and validate a rule file (TOML) into a :class:`~pipeline.claims.model.RuleSet`.

Every problem is an error at load time that names the file and the rule or lexicon entry: an
unknown key, a bad kind, category, context or criterion, a duplicate id, empty examples, a pattern
that names an unknown lexicon or has a bad gap, a phrase without words.

The file holds four entry tables (``[substances.<key>]``, ``[conditions.<key>]``, ``[drugs.<key>]``,
``[groups.<key>]``), a ``[cues]`` table of phrase lists, a ``[scoring]`` table and ``[[rules]]``.
``extra`` (from the user's config) has the same shape for the entry tables and ``cues``: a new key
adds an entry, an existing key gets the extra synonyms appended (and any attribute given replaced).

A phrase word ending in ``+`` stands for its inflections (``treat+`` is treat, treats, treated,
treating; ``remedy+`` adds remedies). Patterns are words, ``a|b`` alternatives, ``@lexicon`` slots
and ``~N`` gaps (at most N tokens between the neighbouring elements); ``@number`` is any number
and a leading ``^`` anchors the pattern at the start of the sentence.

Indexing: the entry lexicons and the cues that patterns name go into the main phrase index, scanned
for every sentence; the other cues (negation, hedges, attribution, ...) go into a second index that
is scanned only for sentences where a rule fired. Each pattern is filed under one trigger (an entry
lexicon if it has one, else a specific literal word, else a cue), so a sentence tries only the
patterns whose trigger it contains.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.claims.index import PhraseIndex
from pipeline.claims.lexicons import (
    ID,
    Checker,
    RuleError,
    build_entries,
    cue_lists,
    index_cues,
    inflections,
    merge_extra,
    parse_scoring,
)
from pipeline.claims.model import (
    CATEGORIES,
    CONTEXTS,
    CRITERIA,
    ENTRY_TABLES,
    KINDS,
    Element,
    Rule,
    RuleSet,
)
from pipeline.claims.text import tokens

__all__ = ["RuleError", "load_rules"]

NUMBER_LEXICON = "number"
START = "^"
LITERAL_TRIGGER = "=trigger"  # the index's hits for the literal words patterns are filed under
MAX_GAP = 12
# Cues scanned with the entry lexicons although no pattern names them (the article needs them).
EAGER_CUES = ("disclaimer", "outcome", "treat_noun")
TRIGGER_PREFERENCE = ("disease_class", "group", "drug", "condition", "substance")
_TOP_KEYS = {"version", "scoring", "cues", "rules", *ENTRY_TABLES}
_RULE_KEYS = {
    "id", "category", "kind", "patterns", "all", "criterion", "context", "requires_any",
    "excludes", "condition", "message", "examples",
}  # fmt: skip
_GAP = re.compile(r"^~(\d+)$")

Triggers = dict[str, tuple[tuple[int, Rule, int], ...]]


def _literal(words: tuple[str, ...], gap: int) -> Element:
    return Element("=" + "|".join(sorted(set(words))), gap, frozenset(words))


def _inflections_of(word: str) -> list[str]:
    return inflections(word[:-1]) if word.endswith("+") else [word]


def _pattern(text: str, known: set[str], check: Checker, where: str) -> tuple[Element, ...]:
    elements: list[Element] = []
    gap: int | None = None
    bad = f"bad pattern {text!r}"
    for part in text.split():
        gap_match = _GAP.match(part)
        if gap_match:
            if not elements or gap is not None:
                raise check.fail(where, f"{bad}: a gap must sit between elements")
            gap = int(gap_match.group(1))
            if gap > MAX_GAP:
                raise check.fail(where, f"{bad}: gap larger than {MAX_GAP}")
            continue
        if part.startswith("~"):
            raise check.fail(where, f"{bad}: bad gap {part!r} (expected ~N)")
        if part == START:
            if elements:
                raise check.fail(where, f"{bad}: ^ (sentence start) must come first")
            elements.append(Element(START, 0))
        elif part.startswith("@"):
            if part[1:] not in known:
                raise check.fail(where, f"{bad}: unknown lexicon {part}")
            elements.append(Element(part[1:], gap or 0))
        else:
            options = [tuple(tokens(a)) for alt in part.split("|") for a in _inflections_of(alt)]
            if not options or not all(options):
                raise check.fail(where, f"{bad}: {part!r} has no word characters")
            if len(options) == 1 and len(options[0]) > 1:  # "side-effect": two words in a row
                for i, tok in enumerate(options[0]):
                    elements.append(_literal((tok,), (gap or 0) if i == 0 else 0))
            elif any(len(option) != 1 for option in options):
                raise check.fail(where, f"{bad}: alternatives must be single words")
            else:
                elements.append(_literal(tuple(o[0] for o in options), gap or 0))
        gap = None
    if not elements or gap is not None or elements == [Element(START, 0)]:
        raise check.fail(where, f"{bad}: empty, or ends with a gap")
    return tuple(elements)


def _examples(raw: Any, check: Checker, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise check.fail(where, "missing examples (examples.match and examples.no_match)")
    check.check_keys(raw, {"match", "no_match"}, f"{where}.examples")
    match = check.str_list(raw.get("match", []), f"{where}.examples.match", empty_ok=True)
    no_match = check.str_list(raw.get("no_match", []), f"{where}.examples.no_match", empty_ok=True)
    if not match or not no_match:
        raise check.fail(where, "empty examples: give examples.match and examples.no_match")
    return tuple(match), tuple(no_match)


def _rule(raw: Any, known: set[str], conditions: set[str], check: Checker) -> Rule:
    if not isinstance(raw, dict):
        raise check.fail("rules", "each [[rules]] must be a table")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not ID.match(rule_id):
        raise check.fail("rules", f"bad or missing rule id {rule_id!r}")
    where = f"rule {rule_id}"
    check.check_keys(raw, _RULE_KEYS, where)
    category, kind = raw.get("category"), raw.get("kind", "pattern")
    context, criterion = raw.get("context", "subject"), raw.get("criterion")
    if category not in CATEGORIES:
        raise check.fail(where, f"unknown category {category!r}")
    if kind not in KINDS:
        raise check.fail(where, f"bad kind {kind!r} (expected one of {list(KINDS)})")
    if context not in CONTEXTS:
        raise check.fail(where, f"bad context {context!r} (expected one of {list(CONTEXTS)})")
    if criterion is not None and criterion not in CRITERIA:
        raise check.fail(where, f"bad criterion {criterion!r} (expected i..x)")
    if raw.get("condition") is not None and raw["condition"] not in conditions:
        raise check.fail(where, f"unknown condition {raw['condition']!r}")
    message = raw.get("message")
    if not isinstance(message, str) or not message.strip():
        raise check.fail(where, "missing message")
    lists: dict[str, list[str]] = {}
    for key in ("requires_any", "excludes", "all"):
        lists[key] = check.str_list(raw.get(key, []), f"{where}.{key}", empty_ok=True)
        for name in lists[key]:
            if name not in known:
                raise check.fail(where, f"{key} names unknown lexicon {name!r}")
    patterns: tuple[tuple[Element, ...], ...] = ()
    if kind == "pattern":
        if "all" in raw:
            raise check.fail(where, "kind 'pattern' takes patterns, not all")
        texts = check.str_list(raw.get("patterns", []), f"{where}.patterns")
        patterns = tuple(_pattern(text, known, check, where) for text in texts)
        requires = frozenset.intersection(
            *(frozenset(e.lexicon for e in p if e.words is None) for p in patterns)
        )
    else:
        if "patterns" in raw or not lists["all"]:
            raise check.fail(where, "kind 'cooccur' takes a non-empty all, not patterns")
        requires = frozenset(lists["all"])
    match, no_match = _examples(raw.get("examples"), check, where)
    return Rule(
        id=rule_id,
        category=category,
        kind=kind,
        message=message.strip(),
        patterns=patterns,
        all_of=tuple(lists["all"]),
        criterion=criterion,
        context=context,
        requires_any=tuple(lists["requires_any"]),
        excludes=tuple(lists["excludes"]),
        condition=raw.get("condition"),
        examples_match=match,
        examples_no_match=no_match,
        requires=requires,
    )


def _trigger_of(pattern: tuple[Element, ...]) -> Element:
    """The element to file a pattern under: an entry lexicon, else a specific literal, else a cue.

    Only speed depends on the choice: a pattern is matched in full once it is looked up.
    """
    for name in TRIGGER_PREFERENCE:
        for element in pattern:
            if element.lexicon == name:
                return element
    for element in pattern:
        if element.words is not None and all(len(w) >= 4 or w == "%" for w in element.words):
            return element
    for element in pattern:
        if element.words is None and element.lexicon not in {START, NUMBER_LEXICON}:
            return element
    return next(e for e in pattern if e.lexicon != START)


def _triggers(rules: list[Rule]) -> tuple[Triggers, frozenset[str]]:
    """Each pattern as (order, rule, pattern number) under its trigger; the literal trigger words."""
    table: dict[str, list[tuple[int, Rule, int]]] = {}
    literal_tokens: set[str] = set()
    order = 0
    for rule in rules:
        if rule.kind == "cooccur":
            table.setdefault(rule.all_of[0], []).append((order, rule, -1))
            order += 1
            continue
        for number, pattern in enumerate(rule.patterns):
            element = _trigger_of(pattern)
            if element.words is not None:
                for word in element.words:
                    table.setdefault("=" + word, []).append((order, rule, number))
                literal_tokens |= element.words
            else:
                table.setdefault(element.lexicon, []).append((order, rule, number))
            order += 1
    return {key: tuple(value) for key, value in table.items()}, frozenset(literal_tokens)


def load_rules(path: str | Path, extra: Mapping[str, Any] | None = None) -> RuleSet:
    """Read, validate and index a rule file, with optional extra lexicon entries and cues."""
    path = Path(path)
    source = str(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise RuleError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    check = Checker(source)
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleError(f"{source}: invalid TOML: {exc}") from exc
    check.check_keys(data, _TOP_KEYS, "top level")
    digest = hashlib.sha256(raw_bytes)
    if extra:
        data = copy.deepcopy(data)
        merge_extra(data, extra, Checker(f"{source} (extra)"))
        digest.update(b"\0extra\0")
        digest.update(json.dumps(extra, sort_keys=True, default=str).encode("utf-8"))
    index = PhraseIndex()
    index.add(("0",), NUMBER_LEXICON, NUMBER_LEXICON)
    entries = build_entries(data, check, index)
    cues = cue_lists(data, check)
    scoring = parse_scoring(data, check)
    known = {*entries, *cues, NUMBER_LEXICON, START}
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        raise check.fail("rules", "no [[rules]]")
    rules: list[Rule] = []
    seen: set[str] = set()
    for raw in raw_rules:
        rule = _rule(raw, known, set(entries["condition"]), check)
        if rule.id in seen:
            raise check.fail(f"rule {rule.id}", "duplicate id")
        seen.add(rule.id)
        rules.append(rule)
    eager = {e.lexicon for r in rules for p in r.patterns for e in p if e.words is None}
    eager = ({*eager, *(n for r in rules for n in r.all_of), *EAGER_CUES}) & set(cues)
    lazy_index = PhraseIndex()
    index_cues(cues, eager, index, check)
    index_cues(cues, set(cues) - eager, lazy_index, check)
    triggers, literal_triggers = _triggers(rules)
    for word in sorted(literal_triggers):  # found by the same scan as everything else
        index.add((word,), LITERAL_TRIGGER, word)
    index.freeze()
    lazy_index.freeze()
    return RuleSet(
        source=source,
        version=str(data.get("version", "")),
        sha256=digest.hexdigest(),
        rules=tuple(rules),
        entries=entries,
        cues=cues,
        scoring=scoring,
        index=index,
        lazy_index=lazy_index,
        lazy_lexicons=frozenset(set(cues) - eager),
        triggers=triggers,
        literal_triggers=literal_triggers,
    )
