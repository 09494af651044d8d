"""The whole config (`Config`, a tree of frozen sections) and what it derives: the
namespace, the paths of its files, the address scope."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from stgy.config.sections import (
    AiConfig,
    AuthConfig,
    DatabaseConfig,
    FederationConfig,
    InstanceConfig,
    JobsConfig,
    LimitsConfig,
    MailConfig,
    MediaConfig,
    ModerationConfig,
    RedisConfig,
    ServerConfig,
    StorageConfig,
    WorkerConfig,
)

if TYPE_CHECKING:
    from federation.ssrf import AddressScope

# Where an instance keeps its files when their paths are left empty: `.var/<namespace>/`.
VAR_DIR = ".var"


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
