"""Reading a Mastodon client's parameters: query string, form (urlencoded or multipart) or JSON.

Mastodon (Rails) reads `name[]=a&name[]=b` as a list and `home[last_read_id]=1` as a
nested hash; clients send all of these, and JSON bodies with the same shapes.
"""

from __future__ import annotations

from typing import Any

from quart import request
from werkzeug.datastructures import MultiDict

from stgy.domain.errors import Invalid, NotFound
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
    """The request's parameters: its query string, overlaid by its JSON or form body (a
    GET's JSON body too: Rails reads it, and Mastodon.py sends some GETs that way)."""
    found = _nest(request.args)
    mimetype = request.mimetype
    is_json = mimetype == "application/json" or mimetype.endswith("+json")
    if request.content_length == 0 or (request.method in ("GET", "HEAD") and not is_json):
        return found
    if is_json:
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


_TRUE = ("true", "1", "on", "yes")
_FALSE = ("false", "0", "off", "no", "")


def bool_param(params: dict[str, Any], name: str, default: bool | None = None) -> bool | None:
    """A boolean as Rails reads it (true/1/on, false/0/off); Invalid for anything else."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = text_param(params, name)
    if text is not None and text.lower() in _TRUE:
        return True
    if text is not None and text.lower() in _FALSE:
        return False
    raise Invalid(name, "must be true or false")


def id_param(value: str | None, name: str) -> int:
    """A path or body id (digits, fits in 64 bits); NotFound as Mastodon answers."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 19:
        raise NotFound("Record not found")
    number = int(value)
    if number >= 2**63:
        raise NotFound("Record not found")
    return number
