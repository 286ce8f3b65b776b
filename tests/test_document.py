"""core/document.py: the plain-text format, normalisation for hashing, and the bundled seeds."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from core.document import Block, Document, classify_line, from_text, normalise_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
LONG_SENTENCE = "Kratom is sold online as a natural way to support mood and energy levels"


def kinds(document: Document) -> list[str]:
    return [block.kind for block in document.blocks]


# --- the plain-text format ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            "Kratom is a tropical tree whose leaves are sold as a supplement.",
            Block("paragraph", "Kratom is a tropical tree whose leaves are sold as a supplement."),
            id="paragraph",
        ),
        pytest.param("- Dosage and safety", Block("list_item", "Dosage and safety"), id="dash"),
        pytest.param("* Dosage and safety", Block("list_item", "Dosage and safety"), id="star"),
        pytest.param("• Dosage and safety", Block("list_item", "Dosage and safety"), id="bullet"),
        pytest.param("1. Dosage and safety", Block("list_item", "Dosage and safety"), id="number"),
        pytest.param("12) Dosage and safety", Block("list_item", "Dosage and safety"), id="paren"),
        pytest.param(
            "  - Indented item ends with a stop.",
            Block("list_item", "Indented item ends with a stop."),
            id="indented-bullet",
        ),
        pytest.param(
            "> Consult a doctor first.", Block("quote", "Consult a doctor first."), id="gt-quote"
        ),
        pytest.param(
            f"“{LONG_SENTENCE}.”", Block("quote", f"“{LONG_SENTENCE}.”"), id="curly-quoted-line"
        ),
        pytest.param(
            f'"{LONG_SENTENCE}".', Block("quote", f'"{LONG_SENTENCE}".'), id="straight-quoted-line"
        ),
        pytest.param(f"«{LONG_SENTENCE}»", Block("quote", f"«{LONG_SENTENCE}»"), id="guillemets"),
        pytest.param(
            "Understanding Kratom and Dopamine",
            Block("heading", "Understanding Kratom and Dopamine"),
            id="short-unpunctuated",
        ),
        pytest.param("What is Kratom?", Block("heading", "What is Kratom?"), id="question"),
        pytest.param(
            "“Short quoted phrase”", Block("paragraph", "“Short quoted phrase”"), id="short-quote"
        ),
        pytest.param(
            " ".join(["word"] * 17),
            Block("paragraph", " ".join(["word"] * 17)),
            id="too-many-words",
        ),
        pytest.param("x" * 121, Block("paragraph", "x" * 121), id="too-long-for-heading"),
        pytest.param("Ends with a colon:", Block("paragraph", "Ends with a colon:"), id="colon"),
    ],
)
def test_classify_line(line: str, expected: Block) -> None:
    assert classify_line(line) == expected


@pytest.mark.parametrize("line", ["", "   ", "\t", "\u00a0", "> ", ">"])
def test_blank_lines_are_skipped(line: str) -> None:
    assert classify_line(line) is None


@pytest.mark.parametrize("line", ["- ", "* ", "1. "])
def test_empty_bullet_is_skipped(line: str) -> None:
    # classify_line drops a bullet with no text rather than keeping the marker as a block.
    assert classify_line(line) is None


def test_whitespace_and_nfc() -> None:
    decomposed = "Cafe\u0301   au\tlait\u00a0is strong."
    block = classify_line(f"  {decomposed}  ")
    assert block == Block("paragraph", "Café au lait is strong.")
    assert block is not None and unicodedata.is_normalized("NFC", block.text)


def test_from_text_blocks_in_order() -> None:
    text = (
        "Intro paragraph that ends properly.\n"
        "\n"
        "   \n"
        "- First point\n"
        "* Second point\n"
        "First point\n"
        "> A warning from the editor.\n"
        "What about dosage?\n"
        "Closing paragraph, also punctuated.\n"
    )
    document = from_text(text, title="T", url="https://example.com/a")
    assert document.blocks_as_dicts() == [
        {"kind": "paragraph", "text": "Intro paragraph that ends properly."},
        {"kind": "list_item", "text": "First point"},
        {"kind": "list_item", "text": "Second point"},
        {"kind": "heading", "text": "First point"},
        {"kind": "quote", "text": "A warning from the editor."},
        {"kind": "heading", "text": "What about dosage?"},
        {"kind": "paragraph", "text": "Closing paragraph, also punctuated."},
    ]
    assert document.title == "T"
    assert document.url == document.canonical_url == "https://example.com/a"
    assert document.text.splitlines()[0] == "Intro paragraph that ends properly."


def test_from_text_empty() -> None:
    document = from_text("\n\n  \n")
    assert document.blocks == ()
    assert document.text_chars == 0


def test_text_chars_counts_block_text_only() -> None:
    document = from_text("- abc\n\nHello world.\n")
    assert document.text_chars == len("abc") + len("Hello world.")


# --- normalisation and the exact-duplicate hash ---------------------------------------------


def test_normalise_text_unifies_trivial_differences() -> None:
    fancy = "  Kratom’s “natural” boost — really\u00a0works\n"
    plain = 'KRATOM\'S "NATURAL" BOOST - REALLY   WORKS'
    assert (
        normalise_text(fancy) == normalise_text(plain) == 'kratom\'s "natural" boost - really works'
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("‘single’ quotes", "'single' quotes"),
        ("en–dash", "en-dash"),
        ("ﬁne print", "fine print"),  # NFKC folds the ligature
        ("Cafe\u0301", "café"),
        ("Straße", "STRASSE"),  # casefold, not lower
    ],
)
def test_normalise_text_pairs(a: str, b: str) -> None:
    assert normalise_text(a) == normalise_text(b)


def test_text_sha256_equal_for_trivially_different_documents() -> None:
    one = from_text("Kratom’s “benefits” explained\n- It helps — maybe.\nThe  end.")
    two = from_text('kratom\'s "BENEFITS" explained\n* It helps - maybe.\nThe end.')
    assert one.text_sha256 == two.text_sha256
    assert len(one.text_sha256) == 64


@pytest.mark.parametrize(
    "other",
    [
        "Kratom’s “benefits” explained\n- It helps — surely.\nThe end.",
        "Kratom’s “benefits” explained\n- It helps — maybe.",
        "Kratom’s benefits explained\n- It helps — maybe.\nThe end.",
    ],
)
def test_text_sha256_differs_for_different_text(other: str) -> None:
    base = from_text("Kratom’s “benefits” explained\n- It helps — maybe.\nThe end.")
    assert base.text_sha256 != from_text(other).text_sha256


# --- the bundled seed set -------------------------------------------------------------------


def test_seed_set_is_present() -> None:
    assert len(SEEDS) >= 5


def seed_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", SEEDS, ids=[p.name for p in SEEDS])
def test_seed_follows_content_farm_template(path: Path) -> None:
    document = from_text(seed_text(path))
    assert document.blocks[0].kind == "paragraph"
    items = [i for i, block in enumerate(document.blocks) if block.kind == "list_item"]
    assert len(items) == 3
    headings = {block.text: i for i, block in enumerate(document.blocks) if block.kind == "heading"}
    for i in items:
        text = document.blocks[i].text
        assert text in headings, f"table-of-contents entry {text!r} has no heading"
        assert headings[text] > max(items), f"heading {text!r} comes before the list"
    assert document.text_chars > 1000


QUOTED_SEEDS = [p for p in SEEDS if seed_text(p).splitlines()[1].startswith("“")]


def test_some_seeds_have_a_quoted_intro() -> None:
    assert QUOTED_SEEDS


@pytest.mark.parametrize("path", QUOTED_SEEDS, ids=[p.name for p in QUOTED_SEEDS])
def test_seed_quoted_intro_is_a_quote(path: Path) -> None:
    document = from_text(seed_text(path))
    assert document.blocks[1].kind == "quote"
    assert document.blocks[1].text.startswith("“")
