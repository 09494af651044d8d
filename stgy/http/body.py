"""Reading request bodies safely: size limit, content type, JSON shape."""

from __future__ import annotations

import json
from typing import Any

from quart import request

from stgy.domain.errors import DomainError


class MalformedBody(DomainError):
    status = 400
    error = "malformed_body"


class UnsupportedMediaType(DomainError):
    status = 415
    error = "unsupported_media_type"


async def read_json_object() -> dict[str, Any]:
    """The request's JSON object; 400 when malformed or not an object, 415 when not JSON."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(
            f"send a JSON body with Content-Type: application/json (got {mimetype or 'none'!r})"
        )
    raw = await request.get_data(as_text=False)
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedBody(f"request body must be a JSON object, not {type(value).__name__}")
    return value
