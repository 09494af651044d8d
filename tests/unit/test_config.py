"""Config loading: defaults, overrides, and one-line errors naming file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from federation.ssrf import AddressScope
from stgy.config import DEFAULT_CONFIG, ConfigError, derive_namespace, load_config


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
    assert config.federation.allow_private_addresses is None  # "auto"
    assert config.redis.queue_prefix == config.server.metrics_dir == ""
    assert config.namespace == "stgy-stgy-localhost-8000"
    assert config.media_path == DEFAULT_CONFIG.parent / ".var/stgy-stgy-localhost-8000/media"


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
        ("[federation]\nallow_private_addresses = 'yes'\n", {}, 'true, false or "auto"'),
        ("", {"STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES": "maybe"}, "must be true or false"),
        ("[redis]\nqueue_prefix = 'a/b'\n", {}, "redis.queue_prefix: must be at most 100"),
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


# The README's second instance: only domain, bind and database differ from the first.
SECOND = {
    "STGY_INSTANCE_DOMAIN": "localhost:8001",
    "STGY_SERVER_BIND": "127.0.0.1:8001",
    "DATABASE_URL": "postgresql://127.0.0.1:5432/stgy2",
}


def test_two_instances_from_one_file_share_no_namespace_or_folder() -> None:
    first, second = load_config(environ={}), load_config(environ=SECOND)
    assert second.namespace == "stgy-stgy2-localhost-8001"
    assert first.namespace != second.namespace
    for path in ("metrics_path", "media_path", "mail_spool_path"):
        assert getattr(first, path) != getattr(second, path)
        assert getattr(second, path).parent == second.root / ".var" / second.namespace


def test_namespace_differs_by_database_or_domain_alone_and_stays_a_folder_name() -> None:
    url = "postgresql://u:secret@db.internal:5433/stgy"
    names = {
        derive_namespace(url, "social.example"),
        derive_namespace(url.replace("/stgy", "/other"), "social.example"),
        derive_namespace(url, "other.example"),
    }
    assert len(names) == 3
    assert all("secret" not in name and "db.internal" not in name for name in names)
    long = derive_namespace("postgresql://h/" + "d" * 63, "x" * 200 + ".example:8443")
    assert len(long) == 100 and long.startswith("stgy-ddd")
    assert derive_namespace("postgresql://h/my%20db", "Social.Example:8443") == (
        "stgy-my-db-social.example-8443"
    )


def test_explicit_prefix_and_paths_win(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[redis]\nqueue_prefix = "stgy"\n[server]\nmetrics_dir = "m"\n'
        '[storage]\npath = "/srv/media"\n[mail]\nspool_path = "spool"\n',
    )
    config = load_config(path, environ=SECOND)
    assert config.namespace == "stgy"
    assert config.metrics_path == tmp_path / "m"
    assert str(config.media_path) == "/srv/media"
    assert config.mail_spool_path == tmp_path / "spool"
    unset = load_config(write(tmp_path, ""), environ={"STGY_REDIS_QUEUE_PREFIX": "mine"})
    assert unset.media_path == tmp_path / ".var" / "mine" / "media"


@pytest.mark.parametrize(
    ("domain", "setting", "scope"),
    [
        ("social.example", None, AddressScope.PUBLIC),
        ("social.example", "auto", AddressScope.PUBLIC),
        ("social.example", "true", AddressScope.PRIVATE),
        ("localhost:8001", None, AddressScope.LOOPBACK),
        ("a.localhost:8001", "auto", AddressScope.LOOPBACK),
        ("127.0.0.1:9000", None, AddressScope.LOOPBACK),
        ("localhost:8001", "false", AddressScope.PUBLIC),
        ("localhost:8001", "yes", AddressScope.PRIVATE),
        ("localhost.example.com", None, AddressScope.PUBLIC),
    ],
)
def test_address_scope_allows_loopback_by_default_only_for_a_local_domain(
    domain: str, setting: str | None, scope: AddressScope
) -> None:
    env = {"STGY_INSTANCE_DOMAIN": domain}
    if setting is not None:
        env["STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES"] = setting
    assert load_config(environ=env).address_scope is scope


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("false", False), ('"auto"', None)])
def test_allow_private_addresses_in_the_file(
    tmp_path: Path, text: str, expected: bool | None
) -> None:
    path = write(tmp_path, f"[federation]\nallow_private_addresses = {text}\n")
    assert load_config(path, environ={}).federation.allow_private_addresses is expected
