"""Configuration: `instance.toml` plus environment overrides, as one frozen dataclass tree."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from federation.ssrf import AddressScope

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "instance.toml"
# Where an instance keeps its files when their paths are left empty: `.var/<namespace>/`.
VAR_DIR = ".var"


class ConfigError(Exception):
    """A configuration problem, reported as one line naming file, key and problem."""


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value not in choices:
            return f"must be one of {', '.join(choices)} (got {value!r})"
        return None

    return check


def _at_least(low: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value >= low else f"must be at least {low} (got {value!r})"

    return check


_DOMAIN_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$")


def _domain(value: Any) -> str | None:
    if not _DOMAIN_RE.match(value):
        return f"must be a host name with an optional port, like example.com (got {value!r})"
    return None


def _bind(value: Any) -> str | None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        return f"must be host:port, like 127.0.0.1:8000 (got {value!r})"
    return None


def _url(*schemes: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            return f"must be a {'/'.join(schemes)} URL with a host (got {value!r})"
        return None

    return check


def _email(value: Any) -> str | None:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        return f"must be an email address (got {value!r})"
    return None


_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


def _namespace(value: Any) -> str | None:
    if not _NAMESPACE_RE.match(value):
        return f"must be at most 100 letters, digits, '.', '_', ':' or '-' (got {value!r})"
    return None


def _opt(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    """Allow the empty string (unset) or a value passing `check`."""
    return lambda value: None if value == "" else check(value)


def _key(default: Any, check: Callable[[Any], str | None] | None = None) -> Any:
    return field(default=default, metadata={"check": check})


@dataclass(frozen=True)
class InstanceConfig:
    domain: str = _key("localhost:8000", _domain)
    name: str = _key("stgy")
    description: str = _key("")
    contact_email: str = _key("admin@localhost", _email)
    registrations: str = _key("open", _one_of("open", "approval", "closed"))

    @property
    def host(self) -> str:
        return self.domain.rsplit(":", 1)[0] if ":" in self.domain else self.domain

    # Cached (asked on every request); cached_property writes past the frozen __setattr__.
    @functools.cached_property
    def is_local_only(self) -> bool:
        """True for localhost / loopback domains, the only ones served over plain http."""
        host = self.host.lower()
        if host == "localhost" or host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @functools.cached_property
    def scheme(self) -> str:
        return "http" if self.is_local_only else "https"

    @functools.cached_property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"


@dataclass(frozen=True)
class ServerConfig:
    bind: str = _key("127.0.0.1:8000", _bind)
    workers: int = _key(1, _at_least(1))
    worker_class: str = _key("uvloop", _one_of("uvloop", "asyncio"))
    # Empty: `.var/<namespace>/metrics`, apart from every other instance's (`stgy serve`
    # empties this folder when it starts).
    metrics_dir: str = _key("")
    # Memory per process for post and account renderings (stgy/page_cache.py); 0: none.
    rendering_cache_mb: int = _key(32, _at_least(0))
    # Memory per process for the web's drawn posts (stgy/web/post_cards.py); 0: none.
    card_cache_mb: int = _key(16, _at_least(0))


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = _key(20, _at_least(1))
    # Seconds before an event whose job gave up after its retries is enqueued again.
    outbox_retry_after: int = _key(60, _at_least(1))
    # Seconds between a worker's looks for jobs of dead workers and events with no job.
    sweep_interval: int = _key(2, _at_least(1))


@dataclass(frozen=True)
class JobsConfig:
    # Attempts at an outbox event (its job's retries and the sweep's re-enqueues
    # together) before it is a dead letter: kept failed with its error, never enqueued
    # again until an admin retries it (`stgy jobs retry`, docs/operations.md).
    max_attempts: int = _key(8, _at_least(1))


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = _key("postgresql://127.0.0.1:5432/stgy", _url("postgresql", "postgres"))
    pool_min: int = _key(2, _at_least(0))
    pool_max: int = _key(10, _at_least(1))
    command_timeout: float = _key(30.0, _at_least(0.1))
    # Seconds to open a connection, and to wait for one from the pool (connecting
    # included): past them a request answers 503 instead of hanging while
    # PostgreSQL is unreachable or every connection is busy.
    connect_timeout: float = _key(5.0, _at_least(0.1))
    acquire_timeout: float = _key(10.0, _at_least(0.1))


@dataclass(frozen=True)
class RedisConfig:
    url: str = _key("redis://127.0.0.1:6379/0", _url("redis", "rediss", "unix"))
    # Prefix of every key we write (jobs, rate counters, caches, streaming channels).
    # Empty: the instance's own, `stgy-<database>-<domain>` (see Config.namespace).
    queue_prefix: str = _key("", _opt(_namespace))


@dataclass(frozen=True)
class StorageConfig:
    backend: str = _key("local", _one_of("local", "s3"))
    path: str = _key("")  # empty: `.var/<namespace>/media`
    s3_bucket: str = _key("")
    s3_endpoint_url: str = _key("", _opt(_url("http", "https")))
    s3_region: str = _key("")
    s3_access_key: str = _key("")
    s3_secret_key: str = _key("")
    s3_public_url: str = _key("", _opt(_url("http", "https")))


@dataclass(frozen=True)
class MailConfig:
    backend: str = _key("spool", _one_of("spool", "smtp"))
    spool_path: str = _key("")  # empty: `.var/<namespace>/mail`
    from_address: str = _key("stgy@localhost", _email)
    smtp_host: str = _key("localhost")
    smtp_port: int = _key(587, _at_least(1))
    smtp_security: str = _key("starttls", _one_of("none", "starttls", "tls"))
    smtp_user: str = _key("")
    smtp_password: str = _key("")
    # Check the server's certificate (starttls/tls); off only for a test server.
    smtp_verify: bool = _key(True)
    # A PEM file of CAs to trust instead of the system's (e.g. a private relay's own CA).
    smtp_ca_file: str = _key("")
    smtp_timeout: float = _key(30.0, _at_least(0.1))
    # Until the address is confirmed, the account cannot post (it can log in and read).
    require_confirmation: bool = _key(False)
    # Mails one account or address may be sent per hour (resends, resets, email changes).
    rate_limit_per_hour: int = _key(5, _at_least(1))


@dataclass(frozen=True)
class FederationConfig:
    enabled: bool = _key(True)
    authorized_fetch: bool = _key(False)
    # True: fetches and deliveries may reach private and loopback addresses (tests,
    # private networks). False: public addresses only. None ("auto", the default):
    # loopback as well when the instance's own domain is local-only (localhost), so
    # two instances on one machine federate; never for a public domain.
    allow_private_addresses: bool | None = _key(None)
    # Seconds before a failed delivery's first retry (each later wait doubles, to 6 h).
    delivery_retry_delay: float = _key(60.0, _at_least(0.1))
    # An instance failing every delivery this long is skipped until it answers again.
    unavailable_after_days: float = _key(7.0, _at_least(0.0))
    # Seconds before a sender's actor is fetched again after a signature failed with its
    # stored key (key rotation), or after fetching an unknown sender failed.
    key_refetch_interval: float = _key(300.0, _at_least(0.0))
    # Fetches of unknown senders' actors per remote host: a token bucket of this many a
    # minute, holding at most `unknown_actor_fetch_burst` (stgy/fetch_limits.py).
    unknown_actor_fetches_per_minute: float = _key(10.0, _at_least(0.01))
    unknown_actor_fetch_burst: int = _key(20, _at_least(1))


@dataclass(frozen=True)
class MediaConfig:
    # Uploads of at most this many pixels are processed in the request (201), others by a job.
    inline_pixels: int = _key(1_000_000, _at_least(0))
    large_size: int = _key(1280, _at_least(16))  # longest side of the `large` rendition
    small_size: int = _key(400, _at_least(16))  # longest side of `small` (the preview)
    avatar_size: int = _key(400, _at_least(16))  # side of a square avatar
    jpeg_quality: int = _key(85, _at_least(1))
    # Remote attachments: hot-linked by default; cached here (re-encoded) when true.
    cache_remote: bool = _key(False)
    remote_max_bytes: int = _key(8 * 1024 * 1024, _at_least(1024))
    # The image proxy (/media-proxy/): seconds a fetch may take, redirects included, and
    # the bytes of recent images it keeps in each process's memory (0: none).
    proxy_timeout: float = _key(10.0, _at_least(0.1))
    proxy_cache_bytes: int = _key(16 * 1024 * 1024, _at_least(0))


@dataclass(frozen=True)
class LimitsConfig:
    post_length: int = _key(5000, _at_least(1))
    media_bytes: int = _key(16 * 1024 * 1024, _at_least(1024))
    # Width x height of an upload (all frames of an animation together): more is refused.
    media_pixels: int = _key(50_000_000, _at_least(10_000))
    request_body_bytes: int = _key(1024 * 1024, _at_least(1024))
    rate_limit_requests_per_minute: int = _key(300, _at_least(1))
    rate_limit_logins_per_minute: int = _key(10, _at_least(1))
    # The Mastodon API, as Mastodon's defaults: requests per access token (or per client
    # address without one) in a window, and media uploads in a longer one.
    mastodon_requests: int = _key(300, _at_least(1))
    mastodon_window_seconds: int = _key(300, _at_least(1))
    mastodon_media_uploads: int = _key(30, _at_least(1))
    mastodon_media_window_seconds: int = _key(1800, _at_least(1))


@dataclass(frozen=True)
class AuthConfig:
    # Argon2id cost of new password hashes (argon2-cffi's defaults, RFC 9106's second
    # recommendation): each hash and each login check takes about this much time and
    # memory. Existing hashes keep the cost they were made with.
    password_time_cost: int = _key(3, _at_least(1))
    password_memory_kib: int = _key(65536, _at_least(8192))


@dataclass(frozen=True)
class ModerationConfig:
    """Account actions (docs/moderation.md)."""

    # A suspended local account's data is kept this long (unsuspending restores it),
    # then purged as a deletion would.
    suspension_days: float = _key(30.0, _at_least(0.0))
    # Seconds after a suspension before the account's `Delete` goes out to the servers
    # of its followers and followees; unsuspending within it sends nothing.
    suspension_grace_seconds: float = _key(3600.0, _at_least(0.0))


@dataclass(frozen=True)
class AiConfig:
    """AI agents and post summaries (docs/agents.md): an OpenAI-compatible endpoint."""

    enabled: bool = _key(False)
    # The server's API root, ending in /v1 (OpenAI, Ollama, vLLM, llama.cpp, LM Studio).
    base_url: str = _key("http://127.0.0.1:11434/v1", _url("http", "https"))
    # The name of the environment variable holding the API key (none: no key sent).
    api_key_env: str = _key("OPENAI_API_KEY")
    chat_model: str = _key("llama3.2")
    embedding_model: str = _key("nomic-embed-text")
    timeout: float = _key(60.0, _at_least(0.1))  # seconds per model call
    max_tokens: int = _key(800, _at_least(16))  # per answer
    concurrency: int = _key(4, _at_least(1))  # model calls at once per worker process
    requests_per_minute: int = _key(60, _at_least(1))  # per worker process
    retries: int = _key(3, _at_least(0))  # more tries of a call answered 429/5xx
    interval: int = _key(1800, _at_least(10))  # seconds between an agent's runs (jittered)
    actions_per_run: int = _key(3, _at_least(0))
    reply_cooldown: int = _key(3600, _at_least(0))  # seconds: one reply per thread
    post_every: int = _key(21600, _at_least(60))  # seconds without a post before a new one
    candidates: int = _key(10, _at_least(1))  # ranked posts shown to the model per run
    window_posts: int = _key(10000, _at_least(100))  # recent summaries ranked
    summary_tags: int = _key(5, _at_least(0))  # tags per post summary
    # The key itself: read from the variable named by api_key_env, never from the file.
    api_key: str = field(default="", repr=False, metadata={"internal": True})


@dataclass(frozen=True)
class Config:
    instance: InstanceConfig = field(default_factory=InstanceConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    mail: MailConfig = field(default_factory=MailConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    ai: AiConfig = field(default_factory=AiConfig)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    source: str = "<defaults>"
    root: Path = field(default_factory=Path.cwd)

    def path(self, relative: str) -> Path:
        """A configured path, resolved against the config file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else self.root / p

    # Derived values are cached (some are asked per request); cached_property writes
    # past the frozen __setattr__, and `replace` makes a new Config with a fresh cache.
    @functools.cached_property
    def namespace(self) -> str:
        """This instance's name where instances may share a place: the prefix of every
        Redis key it writes and its folder under `.var/`. `redis.queue_prefix` when set;
        else derived from the database name and the domain, so two instances on one
        machine (which must have databases of their own) never share it."""
        if self.redis.queue_prefix:
            return self.redis.queue_prefix
        return derive_namespace(self.database.url, self.instance.domain)

    @property
    def var_dir(self) -> Path:
        """The folder of this instance's files whose paths are left empty."""
        return self.root / VAR_DIR / self.namespace

    @property
    def metrics_path(self) -> Path:
        metrics_dir = self.server.metrics_dir
        return self.path(metrics_dir) if metrics_dir else self.var_dir / "metrics"

    @property
    def media_path(self) -> Path:
        return self.path(self.storage.path) if self.storage.path else self.var_dir / "media"

    @property
    def mail_spool_path(self) -> Path:
        spool = self.mail.spool_path
        return self.path(spool) if spool else self.var_dir / "mail"

    @functools.cached_property
    def address_scope(self) -> AddressScope:
        """Which addresses fetches and deliveries may reach (see
        FederationConfig.allow_private_addresses)."""
        from federation.ssrf import AddressScope

        allowed = self.federation.allow_private_addresses
        if allowed is None:
            local = self.instance.is_local_only
            return AddressScope.LOOPBACK if local else AddressScope.PUBLIC
        return AddressScope.PRIVATE if allowed else AddressScope.PUBLIC

    def replace(self, section: str, **values: Any) -> Config:
        """A copy with some keys of one section changed (tests and tools)."""
        current = getattr(self, section)
        return dataclasses.replace(self, **{section: dataclasses.replace(current, **values)})


def derive_namespace(database_url: str, domain: str) -> str:
    """`stgy-<database name>-<domain>` with every run of other characters than letters,
    digits, `.`, `_` and `-` made one `-` (`stgy-stgy2-localhost-8001`); a long one
    is cut and ends with a hash of the whole."""
    database = unquote(urlsplit(database_url).path.lstrip("/")) or "postgres"
    whole = f"stgy-{database}-{domain.lower()}"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", whole)
    if len(safe) > 100:
        digest = hashlib.sha256(whole.encode()).hexdigest()[:8]
        safe = f"{safe[:91]}-{digest}"
    return safe


SECTIONS: dict[str, type[Any]] = {
    f.name: f.default_factory  # type: ignore[misc]
    for f in dataclasses.fields(Config)
    if f.name not in ("source", "root")
}

_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
# A key that is true, false or "auto" (None: decided from other keys).
_AUTO_BOOL = "bool | None"


def _auto_bool(value: Any, where: str, *, from_env: bool) -> bool | None:
    if value == "auto" or from_env and value == "":
        return None
    if from_env:
        parsed: bool = _parse_env(value, bool, where)
        return parsed
    if isinstance(value, bool):
        return value
    raise ConfigError(f'{where}: must be true, false or "auto" (got {value!r})')


def _parse_env(raw: str, kind: type, where: str) -> Any:
    if kind is str:
        return raw
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{where}: must be true or false (got {raw!r})")
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{where}: must be {kind.__name__} (got {raw!r})") from None


def _coerce(value: Any, kind: type, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        got = type(value).__name__
        raise ConfigError(f"{where}: must be {kind.__name__}, not {got} ({value!r})")
    return value


def load_config(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Read the config file and apply environment overrides; raise ConfigError on any problem."""
    env = os.environ if environ is None else environ
    file = Path(path or env.get("STGY_CONFIG") or DEFAULT_CONFIG).resolve()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None

    for name, value in data.items():
        if name not in SECTIONS:
            raise ConfigError(f"{file}: unknown section [{name}]")
        if not isinstance(value, dict):
            raise ConfigError(f"{file}: {name} must be a [section]")

    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        given = dict(data.get(name, {}))
        fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
        for key in given:
            if key not in fields:
                raise ConfigError(f"{file}: unknown key {name}.{key}")
        values: dict[str, Any] = {}
        for key, f in fields.items():
            type_name = str(f.type)
            env_name = f"STGY_{name}_{key}".upper()
            where = f"{file}: {name}.{key}"
            if env_name in env:
                where = f"{env_name} (overrides {name}.{key})"
                if type_name == _AUTO_BOOL:
                    value = _auto_bool(env[env_name].strip().lower(), where, from_env=True)
                else:
                    value = _parse_env(env[env_name], _TYPES[type_name], where)
            elif key in given:
                if type_name == _AUTO_BOOL:
                    value = _auto_bool(given[key], where, from_env=False)
                else:
                    value = _coerce(given[key], _TYPES[type_name], where)
            else:
                continue
            check = f.metadata.get("check")
            problem = check(value) if check else None
            if problem:
                raise ConfigError(f"{where}: {problem}")
            values[key] = value
        sections[name] = cls(**values)

    for section, env_name in (("database", "DATABASE_URL"), ("redis", "REDIS_URL")):
        if env.get(env_name):
            cls = SECTIONS[section]
            url_field = next(f for f in dataclasses.fields(cls) if f.name == "url")
            problem = url_field.metadata["check"](env[env_name])
            if problem:
                raise ConfigError(f"{env_name}: {problem}")
            sections[section] = dataclasses.replace(sections[section], url=env[env_name])

    ai = sections["ai"]
    if ai.api_key_env and env.get(ai.api_key_env):
        sections["ai"] = dataclasses.replace(ai, api_key=env[ai.api_key_env])
    if sections["database"].pool_min > sections["database"].pool_max:
        raise ConfigError(f"{file}: database.pool_min: must not exceed database.pool_max")
    if sections["storage"].backend == "s3" and not sections["storage"].s3_bucket:
        raise ConfigError(f"{file}: storage.s3_bucket: required when storage.backend is s3")
    return Config(**sections, source=str(file), root=file.parent)
