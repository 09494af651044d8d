"""Posts as the web's templates read them: the JSON a timeline page assembles from the
stored renderings (the API's bytes, parsed once), so the HTML and the JSON pages share
one query and one rendering per post."""

from __future__ import annotations

from typing import Any

import orjson
from quart import request

from stgy.domain.renderings import RenderedPage
from stgy.http.validation import parse_cursor

PAGE_SIZE = 20


def cards(page: RenderedPage) -> list[dict[str, Any]]:
    """The page's posts, newest first, as dicts of the API's post JSON."""
    if not page.body:
        return []
    found: list[dict[str, Any]] = orjson.loads(b"[" + page.body + b"]")
    return found


def max_id() -> int | None:
    """The `?max_id=` of an "older posts" link: the page ends before that post."""
    return parse_cursor(request.args.get("max_id"), "max_id")


def older_than(page: RenderedPage, shown: int) -> int | None:
    """The id to page on from, when the page was full (there may be older posts)."""
    return page.oldest if shown >= PAGE_SIZE else None


def post_time(iso: str) -> str:
    """A post's time as a page shows it: `2026-12-07 04:26` (UTC, as sent)."""
    return iso[:16].replace("T", " ") if len(iso) >= 16 else iso
