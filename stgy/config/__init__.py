"""Configuration: `instance.toml` plus environment overrides, as one frozen dataclass tree.

The value checks are in `checks`, the sections in `sections`, the whole tree and what it
derives in `model`, the reading in `loading`; everything is importable from here.
"""

from stgy.config.loading import DEFAULT_CONFIG, SECTIONS, ConfigError, load_config
from stgy.config.model import VAR_DIR, Config, derive_namespace
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

__all__ = [
    "DEFAULT_CONFIG",
    "SECTIONS",
    "VAR_DIR",
    "AiConfig",
    "AuthConfig",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "FederationConfig",
    "InstanceConfig",
    "JobsConfig",
    "LimitsConfig",
    "MailConfig",
    "MediaConfig",
    "ModerationConfig",
    "RedisConfig",
    "ServerConfig",
    "StorageConfig",
    "WorkerConfig",
    "derive_namespace",
    "load_config",
]
