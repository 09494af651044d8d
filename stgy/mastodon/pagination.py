"""Pages as Mastodon clients read them: max_id / since_id / min_id / limit in, an absolute
`Link` header with the next (older) and previous (newer) pages out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from quart import Response, jsonify, request

from stgy.domain.errors import Invalid
from stgy.http.context import config
from stgy.mastodon.params import text_param

PAGE_KEYS = ("max_id", "since_id", "min_id")
MAX_ID_DIGITS = 19  # a 64-bit id


@dataclass(frozen=True)
class PageRequest:
    """Items with ids below `max_id` and above `since_id` / `min_id`, at most `limit`:
    the newest of them, or with `min_id` the ones just above it (paging towards newer)."""

    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int

    @property
    def ascending(self) -> bool:
        """min_id asks for the items just above it (selected oldest first, as Mastodon
        does, so that a client paging towards newer items skips none); the answer is
        still newest first."""
        return self.min_id is not None

    @property
    def since(self) -> int | None:
        """The exclusive lower bound: min_id when given (Mastodon then ignores since_id)."""
        return self.min_id if self.min_id is not None else self.since_id

    @property
    def until(self) -> int | None:
        """The exclusive upper bound."""
        return self.max_id


def _id(params: Mapping[str, Any], name: str) -> int | None:
    text = text_param(dict(params), name)
    if text is None or text == "":
        return None
    if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS:
        raise Invalid(name, "must be an id")
    value = int(text)
    if value >= 2**63:
        raise Invalid(name, "must be an id")
    return value


def page_request(params: Mapping[str, Any], *, default: int = 20, maximum: int = 40) -> PageRequest:
    """The page asked for; `limit` is brought within 1..maximum, as Mastodon does."""
    text = text_param(dict(params), "limit")
    limit = default
    if text:
        if not text.lstrip("-").isascii() or not text.lstrip("-").isdigit() or len(text) > 9:
            raise Invalid("limit", "must be a number")
        limit = min(max(int(text), 1), maximum)
    return PageRequest(_id(params, "max_id"), _id(params, "since_id"), _id(params, "min_id"), limit)


def link_header(page: PageRequest, ids: Sequence[int]) -> str | None:
    """The Link header for a page whose items (newest first) have `ids`: `next` for the
    older ones when the page is full, `prev` for the newer ones when it is not empty."""
    if not ids:
        return None
    base = config().instance.base_url + request.path
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in PAGE_KEYS]
    links = []
    if len(ids) >= page.limit:
        links.append(f'<{base}?{urlencode([*kept, ("max_id", str(ids[-1]))])}>; rel="next"')
    links.append(f'<{base}?{urlencode([*kept, ("min_id", str(ids[0]))])}>; rel="prev"')
    return ", ".join(links)


def paginated(items: list[Any], ids: Sequence[int], page: PageRequest) -> Response:
    """A JSON array answer with its Link header."""
    response = jsonify(items)
    link = link_header(page, ids)
    if link is not None:
        response.headers["Link"] = link
    return response


def paginated_json(body: bytes, page: PageRequest, ids: Sequence[int]) -> Response:
    """A JSON array, already serialised, with its Link header (`ids`: the page's cursors,
    newest first)."""
    response = Response(body, mimetype="application/json")
    link = link_header(page, ids)
    if link is not None:
        response.headers["Link"] = link
    return response
