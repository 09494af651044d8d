"""Reading a Mastodon client's parameters: query string, form (urlencoded or multipart) or JSON.

Mastodon (Rails) reads `name[]=a&name[]=b` as a list and `home[last_read_id]=1` as a
nested hash; clients send all of these, and JSON bodies with the same shapes.
"""

from __future__ import annotations

from typing import Any

from quart import request
from werkzeug.datastructures import MultiDict

from stgy.http.body import read_json_object

MAX_VALUES = 200  # list items or nested keys one parameter may carry
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _nest(pairs: MultiDict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in pairs:
        values = pairs.getlist(key)[:MAX_VALUES]
        if key.endswith("[]"):
            found.setdefault(key[:-2], [])
            if isinstance(found[key[:-2]], list):
                found[key[:-2]].extend(values)
            continue
        outer, bracket, rest = key.partition("[")
        if bracket and rest.endswith("]") and "[" not in rest:
            inner = found.setdefault(outer, {})
            if isinstance(inner, dict) and len(inner) < MAX_VALUES:
                inner[rest[:-1]] = values[-1]
            continue
        found[key] = values[-1] if len(values) == 1 else values
    return found


async def read_params() -> dict[str, Any]:
    """The request's parameters: its query string, overlaid by its JSON or form body."""
    found = _nest(request.args)
    mimetype = request.mimetype
    if request.method in ("GET", "HEAD") or request.content_length == 0:
        return found
    if mimetype == "application/json" or mimetype.endswith("+json"):
        if await request.get_data(cache=True):
            found.update(await read_json_object())
    elif mimetype in _FORMS:
        found.update(_nest(await request.form))
    return found


def text_param(params: dict[str, Any], name: str) -> str | None:
    """A parameter as one string (a number as its digits), None when absent or of
    another shape."""
    value = params.get(name)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    return None


def list_param(params: dict[str, Any], name: str) -> list[str]:
    """A parameter that may be a list (`name[]=a&name[]=b`, a JSON array) or one string."""
    value = params.get(name)
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, str | int)]
    text = text_param(params, name)
    return [text] if text is not None else []
