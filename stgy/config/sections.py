"""The sections of the config (`[instance]`, `[server]`...): their keys, defaults and checks."""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field

from stgy.config.checks import (
    _at_least,
    _bind,
    _domain,
    _email,
    _key,
    _namespace,
    _one_of,
    _opt,
    _url,
)


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
