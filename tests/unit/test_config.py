"""Config loading: defaults, overrides, and one-line errors naming file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from stgy.config import DEFAULT_CONFIG, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "instance.toml"
    path.write_text(text)
    return path


def test_default_file_is_a_working_local_instance() -> None:
    config = load_config(environ={})
    assert config.source == str(DEFAULT_CONFIG)
    assert config.instance.domain == "localhost:8000"
    assert config.instance.base_url == "http://localhost:8000"
    assert config.database.url == "postgresql://127.0.0.1:5432/stgy"
    assert config.redis.url == "redis://127.0.0.1:6379/0"
    assert config.storage.backend == "local"
    assert config.mail.backend == "spool"
    assert config.federation.allow_private_addresses is False


def test_environment_overrides_every_section() -> None:
    config = load_config(
        environ={
            "STGY_INSTANCE_DOMAIN": "localhost:8001",
            "STGY_SERVER_BIND": "127.0.0.1:8001",
            "STGY_SERVER_WORKERS": "3",
            "STGY_MAIL_BACKEND": "smtp",
            "STGY_FEDERATION_AUTHORIZED_FETCH": "yes",
            "STGY_DATABASE_COMMAND_TIMEOUT": "2.5",
            "DATABASE_URL": "postgresql://db.internal:5433/other",
            "REDIS_URL": "redis://cache.internal:6380/2",
        }
    )
    assert config.instance.domain == "localhost:8001"
    assert config.server.bind == "127.0.0.1:8001"
    assert config.server.workers == 3
    assert config.mail.backend == "smtp"
    assert config.federation.authorized_fetch is True
    assert config.database.command_timeout == 2.5
    assert config.database.url == "postgresql://db.internal:5433/other"
    assert config.redis.url == "redis://cache.internal:6380/2"


def test_https_for_public_domains_http_only_for_loopback() -> None:
    for domain, scheme in [
        ("social.example", "https"),
        ("a.localhost:8001", "http"),
        ("127.0.0.1:9000", "http"),
        ("localhost.example.com", "https"),
    ]:
        config = load_config(environ={"STGY_INSTANCE_DOMAIN": domain})
        assert config.instance.base_url == f"{scheme}://{domain}"


def test_stgy_config_points_at_another_file_and_missing_keys_default(tmp_path: Path) -> None:
    path = write(tmp_path, '[instance]\nname = "Other"\n')
    config = load_config(environ={"STGY_CONFIG": str(path)})
    assert config.instance.name == "Other"
    assert config.server.workers == 1
    assert config.path("media") == tmp_path / "media"


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("[instance]\ncolour = 'red'\n", {}, "unknown key instance.colour"),
        ("[nonsense]\n", {}, "unknown section [nonsense]"),
        ("[server]\nworkers = 'two'\n", {}, "server.workers: must be int, not str"),
        ("[server]\nworkers = true\n", {}, "server.workers: must be int, not bool"),
        ("[server]\nworkers = 0\n", {}, "server.workers: must be at least 1"),
        ("[instance]\nregistrations = 'maybe'\n", {}, "must be one of open, approval, closed"),
        ("[server]\nbind = 'nowhere'\n", {}, "server.bind: must be host:port"),
        ("[database]\nurl = 'mysql://x/y'\n", {}, "database.url: must be a postgresql"),
        ("[instance]\ndomain = 'bad domain'\n", {}, "instance.domain: must be a host name"),
        ("[storage]\nbackend = 's3'\n", {}, "storage.s3_bucket: required"),
        ("[database]\npool_min = 20\npool_max = 5\n", {}, "must not exceed database.pool_max"),
        ("this is not toml", {}, "not valid TOML"),
        ("", {"STGY_SERVER_WORKERS": "many"}, "STGY_SERVER_WORKERS (overrides server.workers)"),
        ("", {"STGY_FEDERATION_ENABLED": "perhaps"}, "must be true or false"),
        ("", {"DATABASE_URL": "nonsense"}, "DATABASE_URL: must be a postgresql"),
    ],
)
def test_bad_config_is_one_line_naming_file_key_and_problem(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=env)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    if not env:
        assert message.startswith(str(path))


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml", environ={})


def test_config_is_frozen() -> None:
    config = load_config(environ={})
    with pytest.raises(AttributeError):
        config.instance.domain = "x"  # type: ignore[misc]
