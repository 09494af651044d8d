"""Request validation with pydantic models, documented in the OpenAPI spec by quart-schema."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from quart import request
from quart_schema import document_querystring, document_request, document_response

from stgy.domain.errors import Invalid, NotFound
from stgy.http.body import read_json_object

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
Handler = Callable[..., Awaitable[R]]

MAX_PAGE = 100
# ASCII digits only: str.isdigit() also accepts "³" and other digits int() refuses.
_ID = re.compile(r"[0-9]{1,19}")


class RequestModel(BaseModel):
    """Request bodies: unknown fields and wrong types are refused, naming the field."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryModel(BaseModel):
    """Query strings arrive as text, so values are converted, but unknown names refused."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(QueryModel):
    since: str | None = Field(default=None, description="only items newer than this id")
    until: str | None = Field(default=None, description="only items older than this id")
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


def invalid_from(exc: ValidationError) -> Invalid:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    reason = first["msg"]
    if first["type"] == "extra_forbidden":
        reason = "unknown field"
    elif first["type"] == "missing":
        reason = "required"
    return Invalid(field, reason)


def _check_strings(value: Any, path: str) -> None:
    """PostgreSQL text holds neither NUL nor lone surrogates: refuse them at the door."""
    if isinstance(value, str):
        if "\x00" in value:
            raise Invalid(path or "body", "must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Invalid(path or "body", "must be valid Unicode (no lone surrogates)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, path or "body")
            _check_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_strings(item, f"{path}.{i}" if path else str(i))


def validate_model(model: type[M], data: Any) -> M:
    _check_strings(data, "")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from None


def json_body(model: type[M]) -> Callable[[Handler[R]], Handler[R]]:
    """Parse the JSON body into `model` and pass it as the `body` keyword."""

    def decorate(func: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> R:
            data = await read_json_object()
            return await func(*args, body=validate_model(model, data), **kwargs)

        return document_request(model)(wrapper)

    return decorate


def query(model: type[M]) -> Callable[[Handler[R]], Handler[R]]:
    """Parse the query string into `model` and pass it as the `query` keyword."""

    def decorate(func: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> R:
            data = {key: request.args.get(key) for key in request.args}
            return await func(*args, query=validate_model(model, data), **kwargs)

        return document_querystring(model)(wrapper)

    return decorate


def responds(model: Any, status: int = 200) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Document a response body (not validated at run time; schemathesis checks it)."""
    return document_response(model, status)


def parse_id(value: str, what: str = "item") -> int:
    """Ids are decimal strings of positive 64-bit integers; anything else is not found."""
    if not _ID.fullmatch(value):
        raise NotFound(f"no such {what}")
    number = int(value)
    if not 0 < number < 2**63:
        raise NotFound(f"no such {what}")
    return number


def parse_cursor(value: str | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    if not _ID.fullmatch(value) or int(value) >= 2**63:
        raise Invalid(field, "must be an id (a decimal string)")
    return int(value)
