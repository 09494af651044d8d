"""Reading other servers' documents for backfill and threads: signed GETs as the instance
actor within a request budget, collections page by page, and the Notes items stand for.

An object embedded in a document is trusted only when its id is on the host that served
the document; otherwise it is fetched by its id, from its own host.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

from federation import fetch
from federation.values import id_of
from stgy.domain.remote.remote_keys import host_of, is_blocked
from stgy.domain.remote.resolve import signer
from stgy.logs import quote
from stgy.services import Services

log = logging.getLogger("stgy.fetch")


class FetchFailed(Exception):
    """A fetch worth retrying failed (no answer, 5xx, 429): raised so SAQ retries the job."""


def _retryable(exc: fetch.FetchError) -> bool:
    if exc.status is not None:
        return exc.status >= 500 or exc.status == 429
    return exc.reason == "timed out" or exc.reason.startswith("connection failed")


class Fetcher:
    """Signed GETs for one job, at most `budget` of them."""

    def __init__(self, services: Services, budget: int) -> None:
        self.services = services
        self.left = budget

    def spend(self) -> bool:
        """Take one request from the budget; False when it is spent."""
        if self.left <= 0:
            return False
        self.left -= 1
        return True

    async def get(self, url: str) -> dict[str, Any] | None:
        """The document at `url`; None when it cannot be had (gone, refused, malformed,
        blocked host, budget spent), FetchFailed when asking later may help."""
        host = host_of(url)
        if host is None or await is_blocked(self.services, host) or not self.spend():
            return None
        try:
            return await fetch.fetch_json(
                self.services.http,
                url,
                signer=await signer(self.services),
                allow_private=self.services.config.address_scope,
            )
        except fetch.FetchError as exc:
            log.info("fetch_failed url=%s reason=%s", quote(url), quote(str(exc)))
            if _retryable(exc):
                raise FetchFailed(f"{url}: {exc}") from None
            return None


def _items(page: dict[str, Any]) -> list[Any]:
    items = page.get("orderedItems", page.get("items"))
    if isinstance(items, list):
        return items
    return [] if items is None else [items]


# A page may leave out an empty item list (AS2 Core says to omit empty arrays).
_PAGE_TYPES = frozenset({"OrderedCollectionPage", "CollectionPage"})


def _has_items(value: Any) -> bool:
    """A page, or a collection that lists its items itself rather than in pages."""
    if not isinstance(value, dict):
        return False
    if "orderedItems" in value or "items" in value or value.get("type") in _PAGE_TYPES:
        return True
    return value.get("first") is None


async def collection_items(
    fetcher: Fetcher, collection: Any, host: str, *, max_pages: int
) -> AsyncGenerator[tuple[Any, str], None]:
    """The items of a collection (given by URL or embedded, from `host`), page after page
    (`first`, then `next`), each with the host of the page it came from."""
    start = await _document(fetcher, collection, host)
    if start is None:
        return
    host = host_of(str(start.get("id", ""))) or host
    page = start if _has_items(start) else await _document(fetcher, start.get("first"), host)
    seen: set[str] = set()
    for _ in range(max_pages):
        if page is None:
            return
        page_host = host_of(str(page.get("id", ""))) or host
        for item in _items(page):
            yield item, page_host
        following = id_of(page.get("next"))
        if following is None or following in seen:
            return
        seen.add(following)
        page = await _document(fetcher, page.get("next"), page_host)


async def _document(fetcher: Fetcher, value: Any, host: str) -> dict[str, Any] | None:
    """An embedded object used as it is (no id, or an id on `host`), else fetched by id."""
    if isinstance(value, dict):
        value_id = id_of(value)
        if value_id is None or host_of(value_id) == host:
            return value
    url = id_of(value)
    return await fetcher.get(url) if url else None


async def note_of(fetcher: Fetcher, item: Any, host: str) -> dict[str, Any] | None:
    """The Note an item stands for: a Note, a Create of one, or the URL of either."""
    for _ in range(3):
        if isinstance(item, dict):
            item_id = id_of(item)
            if item_id is not None and host_of(item_id) != host:
                item = item_id
        if isinstance(item, str):
            document = await fetcher.get(item)
            if document is None:
                return None
            item, host = document, host_of(str(document["id"])) or ""
        if not isinstance(item, dict):
            return None
        if item.get("type") == "Note":
            return item
        if item.get("type") != "Create":
            return None
        item = item.get("object")
    return None
