"""`claimwatch users`, `claimwatch serve` and `claimwatch review export` (in process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from claimwatch.cli import main
from core.config import ConfigError, load_config
from core.db import make_engine, upgrade
from core.models import User
from pipeline.claims.units import read_units
from review.auth import verify_password
from review.decisions import decide_claim
from tests.conftest import write_config
from tests.review_world import build


def _config(tmp_path: Path) -> tuple[Path, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    return write_config(tmp_path / "claimwatch.toml", [], db_url=url), url


def test_users_add_hashes_the_password(tmp_path: Path) -> None:
    config, url = _config(tmp_path)
    runner = CliRunner()
    args = ["--config", str(config), "users", "add", "maya", "--role", "reviewer"]
    result = runner.invoke(main, [*args, "--password-stdin"], input="a long passphrase\n")
    assert result.exit_code == 0, result.output
    prompted = runner.invoke(
        main, [*args[:4], "noor", "--role", "admin"], input="another passphrase\n" * 2
    )
    assert prompted.exit_code == 0, prompted.output
    short = runner.invoke(main, [*args, "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    bad_role = runner.invoke(main, [*args[:5], "--role", "root", "--password-stdin"])
    assert bad_role.exit_code == 2
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(select(User))}
    engine.dispose()
    assert rows["maya"].role == "reviewer" and rows["noor"].role == "admin"
    assert rows["maya"].password_hash.startswith("$argon2id$")
    assert verify_password(rows["maya"].password_hash, "a long passphrase")
    assert not verify_password(rows["maya"].password_hash, "a long passphrasE")
    listed = runner.invoke(main, ["--config", str(config), "users", "list"])
    assert "maya\treviewer" in listed.output


def test_serve_needs_a_secret_key(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config, _ = _config(tmp_path)
    monkeypatch.delenv("CLAIMWATCH_WEB__SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["--config", str(config), "serve"])
    assert result.exit_code == 78 and "no secret key" in result.output


def test_web_config(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("k" * 40 + "\n")
    config = tmp_path / "c.toml"
    config.write_text('[web]\nport = 9090\nsecret_key_file = "key"\nsession_max_age_s = 3600\n')
    web = load_config(config, env={}).web
    assert (web.host, web.port, web.session_max_age_s) == ("127.0.0.1", 9090, 3600)
    assert web.read_secret_key() == "k" * 40
    from_env = load_config(None, env={"CLAIMWATCH_WEB__SECRET_KEY": "e" * 32}).web
    assert from_env.read_secret_key() == "e" * 32
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_config(None, env={"CLAIMWATCH_WEB__SECRET_KEY": "short"})
    with pytest.raises(ConfigError, match="not both"):
        load_config(config, env={"CLAIMWATCH_WEB__SECRET_KEY": "e" * 40})


def test_review_export_writes_units(tmp_path: Path) -> None:
    config, url = _config(tmp_path)
    engine = make_engine(url)
    upgrade(engine)
    world = build(engine)
    with world.sessions() as session:
        rita = session.scalars(select(User).where(User.name == "rita")).one()
        decide_claim(session, rita, world.claims["kratom"][0], "confirmed")
        session.commit()
    engine.dispose()
    out = tmp_path / "units.jsonl"
    result = CliRunner().invoke(
        main, ["--config", str(config), "review", "export", "--format", "jsonl", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    units = read_units(out)
    assert [(u.text, u.risky) for u in units] == [("Kratom cures opioid withdrawal in days.", True)]
