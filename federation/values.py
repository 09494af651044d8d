"""Reading the loose values of ActivityStreams JSON: a link is a string or an object with
an `id`, a property holds one value or a list of them, text may be missing."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def id_of(value: Any) -> str | None:
    """The id a value names: the string itself, or an object's string `id`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        found: str = value["id"]
        return found
    return None


def as_list(value: Any) -> list[Any]:
    """A property's values: none, the one value, or the list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ids_of(value: Any) -> list[str]:
    """The ids of a property's values, leaving out those that name none."""
    return [found for item in as_list(value) if (found := id_of(item)) is not None]


def text_of(value: Any) -> str:
    """A string property, or "" when it is missing or not a string."""
    return value if isinstance(value, str) else ""


def type_of(value: Any, known: Collection[str]) -> str | None:
    """An object's `type`, which AS2 allows to be a list (`["Create", "ex:Thing"]`): the
    first of them in `known`, else the first string; None when there is none."""
    names = [item for item in as_list(value) if isinstance(item, str) and item]
    for name in names:
        if name in known:
            return name
    return names[0] if names else None
