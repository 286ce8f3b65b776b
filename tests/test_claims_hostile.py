"""Hostile input completes in bounded time: the scorer is linear in the text, whatever its shape."""

from __future__ import annotations

import pytest

from core.document import Block, Document
from pipeline.claims import default_rules, score_document
from pipeline.claims.article import MAX_CLAIMS_PER_ARTICLE
from pipeline.claims.text import MAX_SENTENCE_CHARS, sentences, tokens

RULES = default_rules()
FIVE_MB = 5_000_000


def one_block(text: str, kind: str = "paragraph") -> Document:
    return Document(blocks=(Block(kind, text),))  # type: ignore[arg-type]


def check(document: Document) -> None:
    score = score_document(document, RULES)
    text = document.text
    for claim in score.claims:
        assert text[claim.start : claim.end] == claim.sentence
        assert len(claim.sentence) <= MAX_SENTENCE_CHARS
    assert 0 <= score.risk.score <= 100


@pytest.mark.timeout(30)
def test_five_megabyte_line_without_punctuation() -> None:
    words = "kratom eases opioid withdrawal and chronic pain without side effects "
    check(one_block((words * (FIVE_MB // len(words) + 1))[:FIVE_MB]))


@pytest.mark.timeout(30)
def test_five_megabytes_of_one_repeated_token() -> None:
    check(one_block(" ".join(["kratom"] * (FIVE_MB // 7))))
    check(one_block("no " * (FIVE_MB // 3)))


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "unit", [".", " ", "\n \n", "a.", "A. ", ":", "?!", "…. ", "• ", "\u2028", '"“”']
)
def test_runs_of_boundary_characters(unit: str) -> None:
    text = unit * (1_000_000 // len(unit))
    for span in sentences(text, colons=True):
        assert span.end - span.start <= MAX_SENTENCE_CHARS
    check(one_block(text))


@pytest.mark.timeout(30)
def test_control_characters_and_mixed_scripts() -> None:
    control = "".join(chr(c) for c in range(32) if chr(c) not in "\n\r") + "\x7f\u200b\ufeff"
    mixed = (
        "Кратом лечит боль. 卡痛叶治疗焦虑。 كراتوم يعالج الألم. क्रेटम दर्द का इलाज करता है। "
        "Kratom heilt Schmerzen. ＣＢＤ ｃｕｒｅｓ ａｎｘｉｅｔｙ. 🌿💊 Kratom cures cancer!! "
    )
    text = (control + mixed) * (2_000_000 // (len(control) + len(mixed)))
    check(one_block(text))
    assert "kratom" in tokens("\x00kratom\x07cures\x1b")
    score = score_document(one_block(control + "Kratom cures cancer." + control), RULES)
    assert score.claims and score.claims[0].escalations == ("cancer",)


@pytest.mark.timeout(30)
def test_many_small_blocks_and_deep_repetition_of_claims() -> None:
    claim = "Our kratom is FDA approved and cures opioid withdrawal, cancer and COVID."
    blocks = tuple(Block("list_item", claim) for _ in range(5_000))
    score = score_document(Document(blocks=blocks), RULES)
    assert score.stats["claims"] == 5_000  # all found and weighed in the risk,
    assert len(score.claims) == MAX_CLAIMS_PER_ARTICLE  # the top ones kept (issue 16)
    assert score.risk.score == 100.0
    assert set(score.risk.escalations) == {"opioid_addiction_withdrawal", "cancer", "covid"}
