"""The one configuration object: a TOML file plus ``CLAIMWATCH_*`` environment overrides.

Configuration flows one way. :func:`load_config` reads the file once, applies overrides from the
environment mapping it is given, and validates everything into :class:`Config`. Nothing else in the
project reads the environment; components receive the values they need.

Environment overrides use ``__`` to descend into tables: ``CLAIMWATCH_DATABASE_URL`` sets
``database_url``, ``CLAIMWATCH_CRAWL__DOWNLOAD_DELAY=2`` sets ``crawl.download_delay``. Values are read
as TOML literals when they parse as one (``2``, ``true``, ``["a", "b"]``), else as plain strings.
``CLAIMWATCH_CONFIG`` names the config file itself.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

ENV_PREFIX = "CLAIMWATCH_"
CONFIG_ENV = "CLAIMWATCH_CONFIG"
DEFAULT_CONFIG_NAME = "claimwatch.toml"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEEDS_DIR = PROJECT_ROOT / "seeds"
MIB = 1024 * 1024


class ConfigError(Exception):
    """A configuration problem, naming the file, the key and what is wrong."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {key}: {problem}" for key, problem in problems]
        super().__init__("invalid configuration\n" + "\n".join(lines))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonEmptyStr = Annotated[str, Field(min_length=1)]


def _check_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name like Europe/Paris)"
        ) from None
    return value


TimeZone = Annotated[str, AfterValidator(_check_zone)]


class SourceKind(StrEnum):
    sitemap = "sitemap"
    feed = "feed"
    site = "site"


class Voice(StrEnum):
    """A source's page kind, its voice (``[[sources]] voice``): ``auto`` reads each page's own
    metadata (schema.org types, ``og:type``); the others declare every page of the source to be of
    that kind. The claim decision reads the kind as a feature, never as a switch
    (``pipeline/page_kind.py``)."""

    auto = "auto"
    vendor = "vendor"  # shops, product and listing pages
    blog = "blog"
    news = "news"  # news, fact checks: pages that report claims
    authority = "authority"  # medical authorities, health services, regulators
    content_farm = "content_farm"
    treatment_center = "treatment_center"
    other = "other"  # forums, advice columns, anything else


class Politeness(_Model):
    """Per-source overrides of the crawl-wide politeness settings."""

    download_delay: float | None = Field(default=None, ge=0, le=600)
    concurrency: int | None = Field(default=None, ge=1, le=64)


class Source(_Model):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    kind: SourceKind
    start_urls: Annotated[list[str], Field(min_length=1)]
    allow: list[str] = []
    deny: list[str] = []
    allowed_domains: list[str] = []
    max_pages: int = Field(default=500, ge=1, le=1_000_000)
    max_depth: int = Field(default=4, ge=0, le=50)
    politeness: Politeness = Politeness()
    schedule: str | None = None  # overrides schedule.crawl for this source
    enabled: bool = True
    voice: Voice = Voice.auto  # the page kind of the source's pages (see Voice)

    @field_validator("voice", mode="before")
    @classmethod
    def _voice(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return "authority" if value == "medical_authority" else value
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else _check_when(value)

    @field_validator("start_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an absolute http(s) URL")
        return urls

    @field_validator("allow", "deny")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return patterns

    @property
    def domains(self) -> list[str]:
        """Hosts this source may follow links to: the configured ones, else the start URLs' hosts."""
        if self.allowed_domains:
            return [d.lower().lstrip(".") for d in self.allowed_domains]
        return sorted({(urlsplit(u).hostname or "").lower() for u in self.start_urls})


class Crawl(_Model):
    """Crawl-wide politeness, safety limits and identity."""

    user_agent: NonEmptyStr = "claimwatch/0.1"
    contact_url: str = "https://github.com/claimwatch/claimwatch"
    obey_robots: bool = True
    concurrent_requests: int = Field(default=16, ge=1, le=512)
    concurrency_per_domain: int = Field(default=2, ge=1, le=64)
    download_delay: float = Field(default=1.0, ge=0, le=600)
    autothrottle: bool = True
    autothrottle_target_concurrency: float = Field(default=2.0, gt=0, le=64)
    download_timeout: float = Field(default=30.0, gt=0, le=600)
    max_page_bytes: int = Field(default=10 * MIB, ge=1024, le=1024 * MIB)
    max_redirects: int = Field(default=5, ge=0, le=20)
    retry_times: int = Field(default=2, ge=0, le=10)
    recrawl_after_days: float = Field(default=7.0, ge=0)
    min_article_chars: int = Field(default=400, ge=0)
    extract_processes: int | None = Field(default=None, ge=0, le=256)
    extract_timeout_s: float = Field(default=20.0, gt=0, le=3600)
    allow_addresses: list[str] = []
    time_limit_s: float = Field(default=3600.0, gt=0)
    batch_size: int = Field(default=20, ge=1, le=1000)

    @field_validator("allow_addresses")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or network") from None
        return values

    @property
    def full_user_agent(self) -> str:
        return f"{self.user_agent} (+{self.contact_url})" if self.contact_url else self.user_agent


class Seeds(_Model):
    """Seed template articles (used by dedup): the bundled set plus extra folders."""

    include_default: bool = True
    paths: list[Path] = []


class Dedup(_Model):
    """Dedup thresholds and what to do with exact reposts."""

    near_threshold: float = Field(default=0.15, gt=0, le=1)
    template_threshold: float = Field(default=0.5, ge=0, le=1)
    exact_duplicates: str = Field(default="store", pattern="^(store|link)$")


class Rules(_Model):
    """Claim-scoring rules (pipeline/claims). ``path`` replaces the shipped rule file;
    ``extra`` adds lexicon entries without editing it, e.g.
    ``[rules.extra.substances] "blue lotus" = ["nymphaea caerulea"]`` (see ``claimwatch rules``).
    ``model`` is the learned claim decision over the rules: ``"shipped"`` (the weights in the
    package), ``"rules-only"`` (the rules' verdict is final) or the path of a weights file written
    by ``claimwatch model train``."""

    path: Path | None = None
    extra: dict[str, Any] = {}
    model: str = "shipped"

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError('must be "shipped", "rules-only" or the path of a weights file')
        return value

    @property
    def model_path(self) -> Path | None:
        """The weights file the config names, or ``None`` for a keyword."""
        return None if self.model in MODEL_KEYWORDS else Path(self.model)


MODEL_KEYWORDS = ("shipped", "rules-only")


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(value: str) -> int | None:
    """``"30s"``, ``"15m"``, ``"6h"``, ``"1d"`` as seconds; ``None`` when it is not a duration."""
    match = _DURATION.match(value)
    return int(match.group(1)) * _UNITS[match.group(2)] if match else None


def _check_when(value: str) -> str:
    """A duration (``6h``) or a five-field cron expression (``0 */6 * * *``)."""
    if parse_every(value) is not None:
        if parse_every(value) == 0:
            raise ValueError("a duration must be more than 0")
        return value
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is neither a duration like '6h' nor a cron expression: {exc}"
        ) from None
    return value


class Schedule(_Model):
    """Daemon schedule (used by the scheduler package).

    ``crawl`` (every source, unless the source sets its own ``schedule``) and ``housekeeping``
    are a duration (``30s``, ``15m``, ``6h``, ``1d``) or a cron expression; ``digest`` is a cron
    expression in ``timezone`` (default Monday 08:00). ``crawl_time_limit_s`` kills a crawl that
    runs longer. A source failing ``failing_after`` runs in a row is reported (``claimwatch status
    --check`` exits non-zero) and crawled less often (every 2nd, 4th, 8th … turn, up to 16).
    ``raw_html_days`` keeps raw HTML evidence this long (0: forever). Every ``lock_check_s`` the
    daemon checks that it still holds its lock, and stops when it does not.
    """

    timezone: TimeZone = "UTC"
    crawl: str = "6h"
    digest: str = "0 8 * * mon"
    housekeeping: str = "30 3 * * *"
    crawl_time_limit_s: float = Field(default=3600.0, gt=0)
    failing_after: int = Field(default=3, ge=1, le=100)
    raw_html_days: int = Field(default=0, ge=0)
    digest_grace_h: float = Field(default=6.0, ge=0)
    lock_check_s: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("crawl", "housekeeping")
    @classmethod
    def _when(cls, value: str) -> str:
        return _check_when(value)

    @field_validator("digest")
    @classmethod
    def _cron(cls, value: str) -> str:
        if parse_every(value) is not None:
            raise ValueError("the digest runs on a cron expression, like '0 8 * * mon'")
        return _check_when(value)


_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
_DOT_ATOM = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _check_address(address: str) -> str:
    """A bare ``local@domain`` address (no display name, no spaces, no header tricks)."""
    if not _ADDRESS.match(address):
        raise ValueError(f"{address!r} is not an e-mail address (local@domain)")
    return address


class MailList(_Model):
    """One recipient list: who gets the digest and which flagged articles it shows them."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
    recipients: Annotated[list[str], Field(min_length=1)]
    min_band: str = Field(default="watch", pattern="^(priority|review|watch)$")
    substances: list[str] = []  # empty: every substance

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        return [_check_address(v) for v in values]


class Mail(_Model):
    """Digest e-mail (used by reports/mail.py and reports/ledger.py).

    Keys: ``enabled``; the SMTP server ``host``, ``port``, ``security`` (``none``, ``starttls`` or
    ``tls``), ``username``, and the password from ``CLAIMWATCH_MAIL__PASSWORD`` or
    ``password_file`` (never both); ``ca_file`` for a private CA; ``sender``; the recipient lists
    ``[[mail.lists]]`` (or the shorthand ``recipients``, one list called ``digest``); ``list_id``
    (the domain of the List-Id header, default the sender's domain); ``timeout_s``; ``retries``
    and ``backoff_s`` (a transient failure is retried after backoff, 2×backoff, ...);
    ``catch_up_weeks`` (missed weeks sent on the next run, at most this many).
    """

    enabled: bool = False
    host: NonEmptyStr = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    security: str = Field(default="none", pattern="^(none|starttls|tls)$")
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    sender: str = "claimwatch@localhost"
    recipients: list[str] = []
    lists: list[MailList] = []
    list_id: str | None = None
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    retries: int = Field(default=3, ge=1, le=10)
    backoff_s: float = Field(default=5.0, ge=0, le=600)
    catch_up_weeks: int = Field(default=8, ge=1, le=104)

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _check_address(value)

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, values: list[str]) -> list[str]:
        return [_check_address(v) for v in values]

    @field_validator("list_id")
    @classmethod
    def _list_id(cls, value: str | None) -> str | None:
        if value is not None and not _DOT_ATOM.match(value):
            raise ValueError(f"{value!r} is not a domain name like digest.example.org")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Mail:
        if self.password is not None and self.password_file is not None:
            raise ValueError("set the password or password_file, not both")
        if self.username and self.password is None and self.password_file is None:
            raise ValueError(
                "username is set but there is no password: set CLAIMWATCH_MAIL__PASSWORD "
                "or mail.password_file"
            )
        if self.recipients and self.lists:
            raise ValueError("use mail.recipients or [[mail.lists]], not both")
        names = [item.name for item in self.lists]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"duplicate mail list name {name!r}")
        return self

    @property
    def recipient_lists(self) -> list[MailList]:
        """The configured lists; ``recipients`` alone is one list called ``digest``."""
        if self.lists:
            return list(self.lists)
        if self.recipients:
            return [MailList(name="digest", recipients=list(self.recipients))]
        return []

    @property
    def list_id_domain(self) -> str:
        return self.list_id or self.sender.rsplit("@", 1)[1]


class DigestSettings(_Model):
    """The weekly digest (used by reports/).

    ``timezone`` decides where an ISO week starts (Monday 00:00 there); ``max_articles`` flagged
    articles are shown in full (every flagged article is in the CSV and JSON exports), each with
    its ``claims_per_article`` strongest claims; ``history_weeks`` is the comparison window of the
    substance and category chart; ``base_url``, where the archive folder is published, makes the
    e-mail link to the archive page and the stored evidence.
    """

    timezone: TimeZone = "UTC"
    max_articles: int = Field(default=50, ge=1, le=10_000)
    claims_per_article: int = Field(default=3, ge=1, le=20)
    history_weeks: int = Field(default=8, ge=1, le=52)
    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an absolute http(s) URL")
        return value.rstrip("/")


class Web(_Model):
    """The review workspace (``claimwatch serve``, review/).

    ``host`` and ``port`` are where it listens (loopback by default: put a reverse proxy with TLS
    in front to share it). The session-signing key comes from ``CLAIMWATCH_WEB__SECRET_KEY`` or
    ``secret_key_file`` (never both, at least 32 characters); without either, ``serve`` refuses to
    start unless ``--dev`` gives it a throwaway key (sessions then end when it stops).
    ``session_max_age_s`` is how long a login lasts; ``login_attempts`` failures within
    ``login_window_s`` lock a name (and the address it came from) for the rest of the window.
    ``page_size`` is the queue's page length.
    """

    host: NonEmptyStr = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    session_max_age_s: int = Field(default=8 * 3600, ge=60, le=30 * 86400)
    login_attempts: int = Field(default=5, ge=1, le=100)
    login_window_s: int = Field(default=900, ge=1, le=86400)
    page_size: int = Field(default=50, ge=1, le=500)

    @model_validator(mode="after")
    def _one_key(self) -> Web:
        if self.secret_key is not None and self.secret_key_file is not None:
            raise ValueError("set CLAIMWATCH_WEB__SECRET_KEY or web.secret_key_file, not both")
        if self.secret_key is not None and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("the secret key must be at least 32 characters")
        return self

    def read_secret_key(self) -> str | None:
        """The configured key (from the environment or the file), or ``None`` when there is none."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.secret_key_file is None:
            return None
        key = self.secret_key_file.read_text(encoding="utf-8").strip()
        if len(key) < 32:
            raise ValueError(
                f"{self.secret_key_file}: the secret key must be at least 32 characters"
            )
        return key


class Alerts(_Model):
    """Alerts (used by reports/alerts.py), each condition announced once until it clears: a source
    failing ``schedule.failing_after`` runs in a row (and its recovery), a digest that could not be
    sent, and no successful crawl for ``no_crawl_hours``.

    Keys: ``urls``, Apprise URLs (``json://host/path``, ``slack://...``, ``ntfy://...``,
    ``msteams://...``, ``matrix://...``; they may hold tokens, so they can also come from
    ``CLAIMWATCH_ALERTS__URLS``); ``mail_to``, addresses e-mailed through the ``[mail]`` server;
    ``no_crawl_hours``.
    """

    urls: list[NonEmptyStr] = []
    mail_to: list[str] = []
    no_crawl_hours: float = Field(default=24.0, gt=0, le=24 * 30)

    @field_validator("mail_to")
    @classmethod
    def _mail_to(cls, values: list[str]) -> list[str]:
        return [_check_address(v) for v in values]

    @property
    def enabled(self) -> bool:
        return bool(self.urls or self.mail_to)


class Cluster(_Model):
    """Crawl workers on several machines (used by worker/; off unless ``broker_url`` is set).

    ``broker_url`` is the Redis the daemon enqueues crawls on and ``claimwatch worker`` takes
    them from (``redis://host:6379/0``; it may hold a password, so it can also come from
    ``CLAIMWATCH_CLUSTER__BROKER_URL``). ``namespace`` prefixes every Redis key (the queue, the
    source locks). A worker crawling a source holds that source's lock, renewed every third of
    ``lock_ttl_s``: the lock of a worker that died frees itself within ``lock_ttl_s``. A worker
    whose heartbeat stopped for ``heartbeat_timeout_s`` counts as dead, and its crawl goes back on
    the queue; the lock must expire first, so ``lock_ttl_s`` is below ``heartbeat_timeout_s``.
    """

    broker_url: str | None = None
    namespace: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")] = "claimwatch"
    lock_ttl_s: float = Field(default=30.0, ge=1, le=3600)
    heartbeat_timeout_s: float = Field(default=60.0, ge=2, le=86400)

    @field_validator("broker_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
            raise ValueError(f"{value!r} is not a Redis URL like redis://127.0.0.1:6379/0")
        return value

    @model_validator(mode="after")
    def _lock_before_heartbeat(self) -> Cluster:
        if self.lock_ttl_s >= self.heartbeat_timeout_s:
            raise ValueError(
                "lock_ttl_s must be below heartbeat_timeout_s: a dead worker's crawl is "
                "redelivered after heartbeat_timeout_s, and its source lock must be free by then"
            )
        return self


class Storage(_Model):
    """Evidence kept beside the database (pipeline/warc.py).

    With ``warc`` on (the default), every fetched page is also written, as a WARC response and
    request record, to gzip'd ``.warc.gz`` files in ``warc_dir`` (default ``<data_dir>/warc``),
    a new file once one holds ``warc_max_mb`` MiB; the database records each fetch's file,
    offset and payload SHA-256.
    """

    warc: bool = True
    warc_dir: Path | None = None
    warc_max_mb: int = Field(default=1024, ge=1, le=100 * 1024)


class Config(_Model):
    """Everything claimwatch is configured with. See ``claimwatch init`` for a commented starter."""

    data_dir: Path = Path("data")
    database_url: str | None = None
    crawl: Crawl = Crawl()
    sources: list[Source] = []
    seeds: Seeds = Seeds()
    dedup: Dedup = Dedup()
    rules: Rules = Rules()
    schedule: Schedule = Schedule()
    mail: Mail = Mail()
    digest: DigestSettings = DigestSettings()
    web: Web = Web()
    alerts: Alerts = Alerts()
    cluster: Cluster = Cluster()
    storage: Storage = Storage()

    @model_validator(mode="after")
    def _unique_sources(self) -> Config:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"duplicate source name {source.name!r}")
            seen.add(source.name)
        return self

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'claimwatch.db').as_posix()}"

    @property
    def warc_path(self) -> Path:
        """The WARC folder (``storage.warc_dir``, default ``<data_dir>/warc``), written or not."""
        return self.storage.warc_dir or self.data_dir / "warc"

    @property
    def warc_folder(self) -> Path | None:
        """Where new WARC files go, or ``None`` when ``storage.warc`` is off."""
        return self.warc_path if self.storage.warc else None

    @property
    def seed_folders(self) -> list[Path]:
        default = [DEFAULT_SEEDS_DIR] if self.seeds.include_default else []
        return default + list(self.seeds.paths)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)


def _env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(
    data: dict[str, Any], env: Mapping[str, str], raws: dict[str, str] | None = None
) -> dict[str, str]:
    """Merge ``CLAIMWATCH_*`` overrides into ``data``; return key path -> variable name."""
    origins: dict[str, str] = {}
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[path[-1]] = _env_value(env[name])
            origins[".".join(path)] = name
            if raws is not None:
                raws[".".join(path)] = env[name]
    return origins


def _origin(key: str, origins: Mapping[str, str]) -> str | None:
    """The variable that set ``key``, a table or list that contains it, or a key below it."""
    for path, name in origins.items():
        if key == path or key.startswith((path + ".", path + "[")) or path.startswith(key + "."):
            return name
    return None


def _key(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += ("." if key else "") + str(part)
    return key or "(top level)"


def _resolve_paths(config: Config, base: Path) -> Config:
    def rel(p: Path) -> Path:
        return p if p.is_absolute() else (base / p).resolve()

    seeds = config.seeds.model_copy(update={"paths": [rel(p) for p in config.seeds.paths]})
    model = config.rules.model_path
    rules = config.rules.model_copy(
        update={
            "path": rel(config.rules.path) if config.rules.path else None,
            "model": str(rel(model)) if model else config.rules.model,
        }
    )
    key_file = config.web.secret_key_file
    web = config.web.model_copy(update={"secret_key_file": rel(key_file) if key_file else None})
    warc_dir = config.storage.warc_dir
    storage = config.storage.model_copy(update={"warc_dir": rel(warc_dir) if warc_dir else None})
    return config.model_copy(
        update={
            "data_dir": rel(config.data_dir),
            "seeds": seeds,
            "rules": rules,
            "web": web,
            "storage": storage,
        }
    )


def find_config_path(explicit: Path | None, env: Mapping[str, str] | None = None) -> Path | None:
    """The config file to read: ``--config``, else ``$CLAIMWATCH_CONFIG``, else ``./claimwatch.toml``."""
    if explicit is not None:
        return explicit
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    default = Path.cwd() / DEFAULT_CONFIG_NAME
    return default if default.exists() else None


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read, merge and validate the configuration; raise :class:`ConfigError` on any problem."""
    env = os.environ if env is None else env
    path = find_config_path(path, env)
    source = str(path) if path else "(built-in defaults)"
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(source, [("(file)", "file not found")]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(source, [("(file)", f"cannot read: {exc}")]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(source, [("(syntax)", f"not valid TOML: {exc}")]) from None
    raws: dict[str, str] = {}
    origins = _apply_env(data, env, raws)
    try:
        try:
            config = Config.model_validate(data)
        except ValidationError as first:
            # A TOML-looking value (``123456``, ``true``) given to a text key is meant as text.
            retry = [
                _key(e["loc"])
                for e in first.errors()
                if e["type"] == "string_type" and _key(e["loc"]) in raws
            ]
            if not retry:
                raise
            for key in retry:
                *parents, last = key.split(".")
                node = data
                for part in parents:
                    node = node[part]
                node[last] = raws[key]
            config = Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = _key(error["loc"])
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif error["type"] == "missing":
                message = "required key is missing"
            origin = _origin(key, origins)
            problems.append((key, f"{message} (from {origin})" if origin else message))
        raise ConfigError(source, problems) from None
    base = path.resolve().parent if path else Path.cwd()
    return _resolve_paths(config, base)
