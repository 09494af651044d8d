"""The viewer's filters applied to the statuses an answer carries: `filtered` on those a
`warn` filter matches, those a `hide` filter matches left out (as Mastodon does).

Pages are assembled from renderings shared by every viewer, with `"filtered":[]`; a
viewer with no active filter of the page's context gets them untouched. A page's
statement reads the viewer's filter stamp, and the filters themselves are read only
when it moved (stgy.domain.filters.filters_at_stamp); other answers read them with one
indexed statement, kept on the request. Only a viewer with such filters has the page
read back, matched and written again."""

from __future__ import annotations

from typing import Any

import orjson
from quart import g

from stgy.domain import filter_matching, filters
from stgy.domain.filter_matching import Matcher
from stgy.domain.html_text import html_to_text
from stgy.http.context import services
from stgy.mastodon.auth import maybe_holder
from stgy.mastodon.filter_entities import filter_result_entity
from storage.filters import Filter

_ACTIVE = "mastodon_active_filters"


async def _active(account_id: int) -> list[Filter]:
    found: list[Filter] | None = g.get(_ACTIVE)
    if found is None:
        found = await filters.active_filters(services(), account_id)
        setattr(g, _ACTIVE, found)
    return found


async def viewer_matcher(context: str | None, stamp: int | None = None) -> Matcher | None:
    """The matcher of the request's viewer in `context` (None: everywhere, see
    marked_anywhere); None without a viewer or without an active filter there.
    `stamp`: the viewer's filter stamp, when the page's statement has read it
    (RenderedPage.filters_stamp), which spares reading the filters while it has not
    moved."""
    holder = await maybe_holder()
    if holder is None or holder.viewer is None:
        return None
    account_id = holder.viewer.account_id
    if stamp is None:
        found = await _active(account_id)
    else:
        found = await filters.filters_at_stamp(services(), account_id, stamp)
    return filter_matching.matcher(found, context)


def status_text(status: dict[str, Any]) -> str:
    """What keywords are matched against: the text, content warning and media
    descriptions. The text is the post's plain `text` (every post keeps one: its source,
    or for a remote post the text of its HTML, migration 0017), which spares reading
    the HTML again for each page; the HTML's text only where it is missing."""
    text = status.get("text") or html_to_text(status.get("content") or "")
    parts = [status.get("spoiler_text") or "", text]
    for media in status.get("media_attachments") or []:
        if isinstance(media, dict) and media.get("description"):
            parts.append(media["description"])
    return "\n".join(parts)


async def marked_anywhere() -> Matcher | None:
    """The matcher for statuses shown outside the timelines (one asked for by id, the
    answer to an action on it, bookmarks, favourites, search): as Mastodon, `filtered`
    names every active filter that matches, whatever its contexts (the app keeps those of
    the place it shows the status in), and hides nothing: these were asked for."""
    return await viewer_matcher(None)


def _mark(status: dict[str, Any], matcher: Matcher) -> bool:
    """Set `filtered` on the status (on the shared status too); whether a `hide` filter
    matches it."""
    proper = status.get("reblog") or status
    ids = {int(status["id"]), int(proper["id"])}
    found = matcher.match(status_text(proper), ids)
    results = [filter_result_entity(match) for match in found]
    status["filtered"] = results
    if proper is not status:
        proper["filtered"] = results
    return any(match.filter.action == "hide" for match in found)


def apply(status: dict[str, Any], matcher: Matcher, hide: bool = True) -> dict[str, Any] | None:
    """The status with `filtered` set; None when a `hide` filter matches and `hide`."""
    hidden = _mark(status, matcher)
    return None if hide and hidden else status


def filter_page(page: bytes, matcher: Matcher | None, hide: bool = True) -> bytes:
    """A JSON array of statuses, filtered for the viewer (`hide`: those a `hide` filter
    matches left out)."""
    if matcher is None:
        return page
    kept = [made for made in (apply(s, matcher, hide) for s in orjson.loads(page)) if made]
    return orjson.dumps(kept)


def mark_status(status: bytes, matcher: Matcher | None) -> bytes:
    """One status with `filtered` set, never hidden (marked_anywhere)."""
    if matcher is None:
        return status
    made = orjson.loads(status)
    _mark(made, matcher)
    return orjson.dumps(made)


def filter_status(status: bytes, matcher: Matcher | None) -> bytes | None:
    """One status, filtered for the viewer; None when a `hide` filter matches it."""
    if matcher is None:
        return status
    made = apply(orjson.loads(status), matcher)
    return None if made is None else orjson.dumps(made)
