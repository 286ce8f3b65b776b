"""``claimwatch model train|evaluate`` and ``[rules] model``: retraining from a team's own labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.claims.learned import load_model
from tests.conftest import run_cli
from tests.test_claims_learned import as_lines, unit_rows

pytestmark = pytest.mark.slow


def units_file(tmp_path: Path) -> Path:
    path = tmp_path / "units.jsonl"
    path.write_text("\n".join(as_lines(unit_rows("cli", 6))) + "\n")
    return path


def test_train_writes_validated_weights_and_the_config_uses_them(tmp_path: Path) -> None:
    data = units_file(tmp_path)
    result = run_cli("model", "train", "--data", str(data), "--out", str(tmp_path / "w.json"))
    assert result.returncode == 0, result.stderr
    model = load_model(tmp_path / "w.json")
    assert model.sha256 in result.stdout and "risky" in result.stdout
    assert not list(tmp_path.glob("*.partial"))
    config = tmp_path / "claimwatch.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[rules]\nmodel = "w.json"\n')
    note = tmp_path / "note.txt"
    note.write_text(
        "Why our kava calms anxiety\nOur kava capsules relieve anxiety within days. "
        "Order today and get free shipping.\n"
    )
    analyzed = run_cli("--config", str(config), "analyze", "--json", str(note))
    assert analyzed.returncode == 0, analyzed.stderr
    out = json.loads(analyzed.stdout.splitlines()[0])
    assert out["scored_by"]["model_sha256"] == model.sha256
    assert out["claims"] and all(0 <= c["confidence"] <= 1 for c in out["claims"])


def test_rules_only_and_broken_weights(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Our kava capsules relieve anxiety within days.\n")
    config = tmp_path / "claimwatch.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[rules]\nmodel = "rules-only"\n')
    analyzed = run_cli("--config", str(config), "analyze", "--json", str(note))
    assert analyzed.returncode == 0, analyzed.stderr
    out = json.loads(analyzed.stdout)
    assert out["scored_by"]["model_sha256"] == ""
    assert out["claims"] and out["claims"][0]["confidence"] is None
    (tmp_path / "bad.json").write_text('{"format": "claimwatch-linear/1", "intercept": "x"}')
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[rules]\nmodel = "bad.json"\n')
    broken = run_cli("--config", str(config), "analyze", "--json", str(note))
    assert broken.returncode == 78
    assert "bad.json" in broken.stderr and "intercept" in broken.stderr


def test_evaluate_cross_validates_and_bad_data_names_the_line(tmp_path: Path) -> None:
    data = units_file(tmp_path)
    result = run_cli("model", "evaluate", "--data", str(data), "--folds", "3", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["learned_cv"]["folds"] == 3
    assert figures["learned_cv"]["overall"]["units"] == figures["rules_only"]["overall"]["units"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"article_id": "a", "sentence_index": 0, "sentence": "x", "risky": true}\n{\n')
    failed = run_cli("model", "train", "--data", str(bad))
    assert failed.returncode == 1 and "bad.jsonl:2: not valid JSON" in failed.stderr
    one_class = tmp_path / "one.jsonl"
    rows = [dict(row, risky=False) for row in unit_rows("o", 6)]
    one_class.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    refused = run_cli("model", "train", "--data", str(one_class))
    assert refused.returncode == 1 and "labelled risky in at least" in refused.stderr


def test_config_names_the_bad_model_key(tmp_path: Path) -> None:
    config = tmp_path / "claimwatch.toml"
    config.write_text('[rules]\nmodel = " "\n')
    result = run_cli("--config", str(config), "rules", "explain", "Kava cures anxiety.")
    assert result.returncode == 78
    assert "rules.model" in result.stderr
