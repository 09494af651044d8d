"""A check that a JSON value has each field Mastodon's documentation lists for an entity,
of its type (the field lists: stgy/mastodon/entity_fields.py)."""

from __future__ import annotations

import re
from typing import Any

from stgy.mastodon import entity_fields
from stgy.mastodon.entity_fields import *  # noqa: F403 - the tests name entities from here
from stgy.mastodon.entity_fields import Field

_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
_URL = re.compile(r"^(https?|wss?)://[^\s]+$")
_SIMPLE = {"str": str, "list": list, "dict": dict}


def _entity(name: str) -> list[Field]:
    found: list[Field] = getattr(entity_fields, name)
    return found


def _problems(value: Any, fields: list[Field], where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: not an object but {type(value).__name__}"]
    found: list[str] = []
    for name, kind, nullable, optional in fields:
        at = f"{where}.{name}"
        if name not in value:
            if not optional:
                found.append(f"{at}: missing")
            continue
        item = value[name]
        if item is None:
            if not nullable:
                found.append(f"{at}: null but not nullable")
            continue
        found.extend(_type_problems(item, kind, at))
    return found


def _type_problems(item: Any, kind: str, at: str) -> list[str]:
    if kind.startswith("["):  # a list of the entity named inside the brackets
        if not isinstance(item, list):
            return [f"{at}: {item!r} is not a list"]
        found: list[str] = []
        for i, element in enumerate(item):
            found.extend(_problems(element, _entity(kind[1:-1]), f"{at}[{i}]"))
        return found
    if kind in _SIMPLE:
        ok = isinstance(item, _SIMPLE[kind])
    elif kind == "int":
        ok = isinstance(item, int) and not isinstance(item, bool)
    elif kind == "float":
        ok = isinstance(item, int | float) and not isinstance(item, bool)
    elif kind == "bool":
        ok = isinstance(item, bool)
    elif kind == "id":
        ok = isinstance(item, str) and item.isdigit()
    elif kind == "datetime":
        ok = isinstance(item, str) and bool(_DATETIME.match(item))
    elif kind == "date":
        ok = isinstance(item, str) and bool(_DATE.match(item))
    elif kind == "url":
        ok = isinstance(item, str) and bool(_URL.match(item))
    else:
        return _problems(item, _entity(kind), at)
    return [] if ok else [f"{at}: {item!r} is not a {kind}"]


def entity_problems(value: Any, fields: list[Field], where: str = "$") -> list[str]:
    """What is wrong with `value` as the entity `fields` describe (empty: nothing)."""
    return _problems(value, fields, where)


def assert_entity(value: Any, fields: list[Field]) -> None:
    problems = entity_problems(value, fields)
    assert problems == [], "\n".join(problems)


def assert_entities(values: Any, fields: list[Field]) -> None:
    """A JSON array of the entity `fields` describe (each item checked)."""
    assert isinstance(values, list), values
    for value in values:
        assert_entity(value, fields)
