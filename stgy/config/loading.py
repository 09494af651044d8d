"""Reading the config: `instance.toml` (or another file) plus environment overrides,
checked key by key; any problem is a ConfigError of one line."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stgy.config.model import Config

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "instance.toml"


class ConfigError(Exception):
    """A configuration problem, reported as one line naming file, key and problem."""


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
