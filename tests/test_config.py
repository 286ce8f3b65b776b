"""core/config.py: defaults, the starter file, path resolution, environment overrides, and
error messages that name the file, the key and the problem; plus the CLI's use of them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from core.config import ConfigError, load_config
from crawler.scrapy_settings import claimwatch_settings
from tests.conftest import run_cli

STARTER = resources.files("claimwatch").joinpath("starter.toml").read_text("utf-8")

SOURCE = '[[sources]]\nname = "a"\nkind = "site"\nstart_urls = ["https://example.com/"]\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return info.value


def problem_line(error: ConfigError, source: str, key: str) -> str:
    """The message line for ``key``; it must start with the file (or source) and the key."""
    prefix = f"{source}: {key}: "
    lines = [line for line in str(error).splitlines() if line.startswith(prefix)]
    assert lines, f"no line starting {prefix!r} in:\n{error}"
    return lines[0]


# --- defaults and the starter file ---------------------------------------------------------


def test_builtin_defaults_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./claimwatch.toml here
    config = load_config(None, env={})
    data_dir = tmp_path.resolve() / "data"
    assert config.data_dir == data_dir
    assert config.database_url is None
    assert config.db_url == f"sqlite:///{(data_dir / 'claimwatch.db').as_posix()}"
    assert config.sources == []
    assert config.crawl.obey_robots is True
    assert config.crawl.allow_addresses == []
    assert config.mail.enabled is False


def test_database_url_wins_over_data_dir(tmp_path: Path) -> None:
    url = "postgresql+psycopg://claimwatch@db.example.org/claimwatch"
    path = write(tmp_path / "claimwatch.toml", f'database_url = "{url}"\n')
    assert load_config(path, env={}).db_url == url


def test_cwd_claimwatch_toml_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "claimwatch.toml", "[crawl]\ndownload_delay = 4.0\n")
    monkeypatch.chdir(tmp_path)
    assert load_config(None, env={}).crawl.download_delay == 4.0


def uncomment_examples(text: str) -> str:
    """The starter with its example sources uncommented, as a user would."""
    start, end = text.index("# [[sources]]"), text.index("[seeds]")
    block = "\n".join(line.removeprefix("# ") for line in text[start:end].splitlines())
    return text[:start] + block + "\n" + text[end:]


def test_starter_config_validates(tmp_path: Path) -> None:
    path = write(tmp_path / "claimwatch.toml", STARTER)
    config = load_config(path, env={})
    assert config.sources == []  # the examples are comments: nothing listed as "never crawled"
    assert config.data_dir == tmp_path.resolve() / "data"


def test_starter_examples_validate_once_uncommented(tmp_path: Path) -> None:
    path = write(tmp_path / "claimwatch.toml", uncomment_examples(STARTER))
    config = load_config(path, env={})
    assert [s.name for s in config.sources] == ["example-sitemap", "example-feed"]
    assert not config.source("example-sitemap").enabled
    assert config.source("example-feed").enabled
    assert config.source("example-feed").politeness.download_delay == 5.0
    assert config.source("example-sitemap").deny == ["/tag/", r"\?replytocom="]
    assert config.data_dir == tmp_path.resolve() / "data"


# --- relative paths ----------------------------------------------------------------------


def test_relative_paths_resolve_against_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path.resolve()
    absolute = base / "abs-seeds"
    path = write(
        base / "conf" / "claimwatch.toml",
        'data_dir = "var/data"\n'
        f'[seeds]\npaths = ["myseeds", "../shared", "{absolute.as_posix()}"]\n'
        '[rules]\npath = "rules/claims.toml"\n',
    )
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(path, env={})
    assert config.data_dir == base / "conf" / "var" / "data"
    assert config.seeds.paths == [base / "conf" / "myseeds", base / "shared", absolute]
    assert config.rules.path == base / "conf" / "rules" / "claims.toml"
    assert config.db_url == f"sqlite:///{(base / 'conf/var/data/claimwatch.db').as_posix()}"


def test_relative_config_path_is_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "conf" / "claimwatch.toml", 'data_dir = "d"\n')
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("conf/claimwatch.toml"), env={})
    assert config.data_dir == tmp_path.resolve() / "conf" / "d"


def test_rules_path_unset_stays_none(tmp_path: Path) -> None:
    path = write(tmp_path / "claimwatch.toml", "")
    assert load_config(path, env={}).rules.path is None


# --- environment overrides ------------------------------------------------------------------


def test_env_database_url(tmp_path: Path) -> None:
    url = "postgresql+psycopg://u@db.internal/claimwatch"
    path = write(tmp_path / "claimwatch.toml", 'database_url = "sqlite:///x.db"\n')
    config = load_config(path, env={"CLAIMWATCH_DATABASE_URL": url})
    assert config.database_url == url
    assert config.db_url == url


def test_env_nested_number_overrides_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "claimwatch.toml", '[crawl]\ndownload_delay = 1.0\nuser_agent = "mybot"\n'
    )
    config = load_config(path, env={"CLAIMWATCH_CRAWL__DOWNLOAD_DELAY": "2.5"})
    assert config.crawl.download_delay == 2.5
    assert isinstance(config.crawl.download_delay, float)
    assert config.crawl.user_agent == "mybot"  # the rest of the table is kept


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("3", 3)])
def test_env_integer(raw: str, expected: int) -> None:
    config = load_config(None, env={"CLAIMWATCH_CRAWL__RETRY_TIMES": raw})
    assert config.crawl.retry_times == expected


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("false", False)])
def test_env_boolean(raw: str, expected: bool) -> None:
    config = load_config(None, env={"CLAIMWATCH_CRAWL__OBEY_ROBOTS": raw})
    assert config.crawl.obey_robots is expected


def test_env_list_value() -> None:
    env = {"CLAIMWATCH_CRAWL__ALLOW_ADDRESSES": '["10.0.0.0/8", "::1"]'}
    assert load_config(None, env=env).crawl.allow_addresses == ["10.0.0.0/8", "::1"]


@pytest.mark.parametrize(
    ("variable", "raw", "attribute"),
    [
        ("CLAIMWATCH_SCHEDULE__DIGEST", "0 9 * * fri", ("schedule", "digest")),
        ("CLAIMWATCH_SCHEDULE__TIMEZONE", "Europe/Berlin", ("schedule", "timezone")),
        ("CLAIMWATCH_MAIL__HOST", "smtp.example.org", ("mail", "host")),
    ],
)
def test_env_value_that_is_not_toml_is_a_string(
    variable: str, raw: str, attribute: tuple[str, str]
) -> None:
    config = load_config(None, env={variable: raw})
    table, key = attribute
    assert getattr(getattr(config, table), key) == raw


def test_env_secret_that_is_not_toml() -> None:
    config = load_config(None, env={"CLAIMWATCH_MAIL__PASSWORD": "s3cr#t [x"})
    assert config.mail.password is not None
    assert config.mail.password.get_secret_value() == "s3cr#t [x"
    assert "s3cr#t" not in repr(config.mail)


@pytest.mark.parametrize("raw", ["123456", "true"])
def test_env_string_field_with_toml_looking_value(raw: str) -> None:
    # A password (or user name) made of digits is still a string; it must load as given.
    config = load_config(None, env={"CLAIMWATCH_MAIL__PASSWORD": raw})
    assert config.mail.password is not None
    assert config.mail.password.get_secret_value() == raw


def test_env_ignores_other_variables() -> None:
    env = {"DOWNLOAD_DELAY": "9", "CLAIMWATCHCRAWL__DOWNLOAD_DELAY": "9", "HOME": "/nowhere"}
    assert load_config(None, env=env).crawl.download_delay == 1.0


def test_env_claimwatch_config_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "other.toml", "[crawl]\nretry_times = 7\n")
    config = load_config(None, env={"CLAIMWATCH_CONFIG": str(path)})
    assert config.crawl.retry_times == 7


def test_explicit_path_wins_over_claimwatch_config(tmp_path: Path) -> None:
    explicit = write(tmp_path / "explicit.toml", "[crawl]\nretry_times = 1\n")
    named = write(tmp_path / "named.toml", "[crawl]\nretry_times = 9\n")
    config = load_config(explicit, env={"CLAIMWATCH_CONFIG": str(named)})
    assert config.crawl.retry_times == 1


def test_env_claimwatch_config_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    error = config_error(None, env={"CLAIMWATCH_CONFIG": str(missing)})
    assert "file not found" in problem_line(error, str(missing), "(file)")


# --- errors from the file -------------------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    error = config_error(missing)
    assert error.source == str(missing)
    assert "file not found" in problem_line(error, str(missing), "(file)")


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path / "claimwatch.toml", '[crawl]\ndownload_delay = = 2\nuser_agent = "x"\n')
    line = problem_line(config_error(path), str(path), "(syntax)")
    assert "not valid TOML" in line
    assert "line 2" in line


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        pytest.param("colour = 1\n", "colour", "unknown key", id="unknown-top-level"),
        pytest.param(
            "[crawl]\ndowload_delay = 1\n",
            "crawl.dowload_delay",
            "unknown key",
            id="unknown-nested",
        ),
        pytest.param(
            SOURCE + 'colour = "red"\n', "sources[0].colour", "unknown key", id="unknown-in-source"
        ),
        pytest.param(
            '[crawl]\nconcurrent_requests = "many"\n',
            "crawl.concurrent_requests",
            "valid integer",
            id="wrong-type-int",
        ),
        pytest.param(
            '[crawl]\nobey_robots = "sometimes"\n',
            "crawl.obey_robots",
            "valid boolean",
            id="wrong-type-bool",
        ),
        pytest.param("crawl = 3\n", "crawl", "valid dictionary", id="wrong-type-table"),
        pytest.param(
            "[crawl]\ndownload_delay = -1\n",
            "crawl.download_delay",
            "greater than or equal to 0",
            id="below-range",
        ),
        pytest.param(
            "[mail]\nport = 70000\n", "mail.port", "less than or equal to 65535", id="above-range"
        ),
        pytest.param(
            SOURCE + "politeness = { concurrency = 0 }\n",
            "sources[0].politeness.concurrency",
            "greater than or equal to 1",
            id="range-in-source-politeness",
        ),
        pytest.param(
            '[[sources]]\nname = "a"\nkind = "site"\n',
            "sources[0].start_urls",
            "required key is missing",
            id="missing-start-urls",
        ),
        pytest.param(
            SOURCE + '[[sources]]\nkind = "feed"\nstart_urls = ["https://b.example/feed"]\n',
            "sources[1].name",
            "required key is missing",
            id="missing-name-second-source",
        ),
        pytest.param(
            '[[sources]]\nname = "a"\nkind = "site"\nstart_urls = []\n',
            "sources[0].start_urls",
            "at least 1",
            id="empty-start-urls",
        ),
        pytest.param(
            '[[sources]]\nname = "bad name!"\nkind = "site"\nstart_urls = ["https://a.example/"]\n',
            "sources[0].name",
            "match pattern",
            id="bad-source-name",
        ),
        pytest.param(
            '[[sources]]\nname = "a"\nkind = "blog"\nstart_urls = ["https://a.example/"]\n',
            "sources[0].kind",
            "'sitemap', 'feed' or 'site'",
            id="bad-kind",
        ),
        pytest.param(
            SOURCE + 'voice = "shop"\n',
            "sources[0].voice",
            "'auto', 'vendor', 'blog', 'news', 'authority'",
            id="bad-voice",
        ),
        pytest.param(
            '[[sources]]\nname = "a"\nkind = "site"\nstart_urls = ["file:///etc/passwd"]\n',
            "sources[0].start_urls",
            "'file:///etc/passwd' is not an absolute http(s) URL",
            id="file-url",
        ),
        pytest.param(
            '[[sources]]\nname = "a"\nkind = "site"\n'
            'start_urls = ["https://ok.example/", "ftp://files.example/x"]\n',
            "sources[0].start_urls",
            "'ftp://files.example/x' is not an absolute http(s) URL",
            id="ftp-url",
        ),
        pytest.param(
            '[[sources]]\nname = "a"\nkind = "site"\nstart_urls = ["example.com/blog"]\n',
            "sources[0].start_urls",
            "'example.com/blog' is not an absolute http(s) URL",
            id="relative-url",
        ),
        pytest.param(
            '[[sources]]\nname = "a"\nkind = "site"\nstart_urls = ["https:///no-host"]\n',
            "sources[0].start_urls",
            "is not an absolute http(s) URL",
            id="url-without-host",
        ),
        pytest.param(
            SOURCE + 'allow = ["/blog/", "("]\n',
            "sources[0].allow",
            "bad regular expression '('",
            id="bad-allow-regex",
        ),
        pytest.param(
            SOURCE + 'deny = ["[a-"]\n',
            "sources[0].deny",
            "bad regular expression '[a-'",
            id="bad-deny-regex",
        ),
        pytest.param(
            SOURCE + SOURCE.replace('"site"', '"feed"'),
            "(top level)",
            "duplicate source name 'a'",
            id="duplicate-source-names",
        ),
        pytest.param(
            '[crawl]\nallow_addresses = ["127.0.0.1/32", "localhost"]\n',
            "crawl.allow_addresses",
            "'localhost' is not an IP address or network",
            id="bad-allow-address",
        ),
        pytest.param(
            '[crawl]\nallow_addresses = ["10.0.0.0/33"]\n',
            "crawl.allow_addresses",
            "'10.0.0.0/33' is not an IP address or network",
            id="bad-allow-prefix",
        ),
        pytest.param(
            '[mail]\nsecurity = "ssl"\n',
            "mail.security",
            "none|starttls|tls",
            id="bad-mail-security",
        ),
    ],
)
def test_invalid_file_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path / "claimwatch.toml", text)
    error = config_error(path)
    assert error.source == str(path)
    assert problem in problem_line(error, str(path), key)
    assert "(from CLAIMWATCH_" not in str(error)


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path / "claimwatch.toml", "colour = 1\n[crawl]\ndownload_delay = -1\n[mail]\nport = 0\n"
    )
    error = config_error(path)
    assert {key for key, _ in error.problems} == {"colour", "crawl.download_delay", "mail.port"}
    for key in ("colour", "crawl.download_delay", "mail.port"):
        problem_line(error, str(path), key)


# --- errors from the environment --------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "raw", "key", "problem"),
    [
        pytest.param(
            "CLAIMWATCH_CRAWL__DOWNLOAD_DELAY",
            "fast",
            "crawl.download_delay",
            "valid number",
            id="not-a-number",
        ),
        pytest.param(
            "CLAIMWATCH_MAIL__PORT",
            "70000",
            "mail.port",
            "less than or equal to 65535",
            id="out-of-range",
        ),
        pytest.param(
            "CLAIMWATCH_CRAWL__DOWLOAD_DELAY",
            "2",
            "crawl.dowload_delay",
            "unknown key",
            id="unknown-key",
        ),
        pytest.param(
            "CLAIMWATCH_CRAWL__ALLOW_ADDRESSES",
            '["nope"]',
            "crawl.allow_addresses",
            "'nope' is not an IP address or network",
            id="bad-network",
        ),
        pytest.param(
            "CLAIMWATCH_MAIL__SECURITY",
            "ssl",
            "mail.security",
            "none|starttls|tls",
            id="bad-security",
        ),
        pytest.param(
            "CLAIMWATCH_CRAWL__ALLOW_ADDRESSES",
            "[1]",
            "crawl.allow_addresses[0]",
            "valid string",
            id="bad-list-element",
        ),
        pytest.param(
            "CLAIMWATCH_SOURCES",
            '[{name = "a", kind = "blog", start_urls = ["https://a.example/"]}]',
            "sources[0].kind",
            "'sitemap', 'feed' or 'site'",
            id="bad-value-inside-env-table",
        ),
        pytest.param(
            "CLAIMWATCH_CRAWL__EXTRA__DEPTH",
            "1",
            "crawl.extra",
            "unknown key",
            id="unknown-table-from-env",
        ),
    ],
)
def test_invalid_env_value_names_the_variable(
    tmp_path: Path, variable: str, raw: str, key: str, problem: str
) -> None:
    path = write(tmp_path / "claimwatch.toml", "[crawl]\ndownload_delay = 1.0\n")
    error = config_error(path, env={variable: raw})
    line = problem_line(error, str(path), key)
    assert problem in line
    assert f"(from {variable})" in line


def test_invalid_env_value_without_file_names_builtin_defaults() -> None:
    error = config_error(None, env={"CLAIMWATCH_CRAWL__DOWNLOAD_DELAY": "fast"})
    assert error.source == "(built-in defaults)"
    line = problem_line(error, "(built-in defaults)", "crawl.download_delay")
    assert "(from CLAIMWATCH_CRAWL__DOWNLOAD_DELAY)" in line


# --- the command line -------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_bad_config_exits_78(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.toml", "[crawl]\ndowload_delay = 1\n")
    result = run_cli("--config", str(bad), "sources", cwd=tmp_path, timeout=60)
    assert result.returncode == 78, result.stderr
    assert f"{bad}: crawl.dowload_delay: unknown key" in result.stderr
    assert not (tmp_path / "data").exists()  # failed before touching the database


def test_cli_init_writes_loadable_starter(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "claimwatch.toml"
    target.parent.mkdir()
    result = run_cli("init", "--path", str(target), cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == STARTER
    config = load_config(target, env={})
    assert config.data_dir == target.parent.resolve() / "data"


@pytest.mark.slow
def test_cli_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = write(tmp_path / "claimwatch.toml", "# my own settings\n")
    refused = run_cli("init", "--path", str(target), cwd=tmp_path, timeout=60)
    assert refused.returncode != 0
    assert "--force" in refused.stderr
    assert target.read_text(encoding="utf-8") == "# my own settings\n"

    forced = run_cli("init", "--path", str(target), "--force", cwd=tmp_path, timeout=60)
    assert forced.returncode == 0, forced.stderr
    assert target.read_text(encoding="utf-8") == STARTER


def test_a_source_declares_its_voice(tmp_path: Path) -> None:
    path = write(
        tmp_path / "claimwatch.toml",
        SOURCE + 'voice = "authority"\n'
        '[[sources]]\nname = "b"\nkind = "feed"\nstart_urls = ["https://b.example/feed"]\n'
        'voice = "Medical_Authority"\n'
        '[[sources]]\nname = "c"\nkind = "feed"\nstart_urls = ["https://c.example/feed"]\n',
    )
    config = load_config(path, env={})
    assert [source.voice.value for source in config.sources] == ["authority", "authority", "auto"]
    settings = claimwatch_settings(config)
    assert [s["voice"] for s in settings["CLAIMWATCH_SOURCES"]] == [
        "authority",
        "authority",
        "auto",
    ]
