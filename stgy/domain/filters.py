"""A person's filters (Mastodon's): their rules and bounds, and changes to them (matching
posts against them: stgy/domain/filter_matching.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stgy.domain import post_reads, streaming
from stgy.domain.errors import Invalid, NotFound
from stgy.services import Services
from storage import filters as filters_sql
from storage.db import Conn
from storage.filters import Filter, FilterKeyword, FilterPost

CONTEXTS = ("home", "notifications", "public", "thread", "account")
# Mastodon 4.4 adds `blur`; we advertise 4.3, which has these two.
ACTIONS = ("warn", "hide")
MAX_TITLE = 256
MAX_KEYWORD = 512
MAX_FILTERS = 200  # per person
MAX_KEYWORDS = 200  # per filter
MAX_POSTS = 1000  # per filter
MAX_EXPIRES_IN = 100 * 366 * 24 * 3600  # a century: a later date is "never" in all but name


@dataclass(frozen=True)
class Rules:
    """What a filter says apart from its keywords and posts; None: unchanged (updates)."""

    title: str | None = None
    context: list[str] | None = None
    action: str | None = None
    # Seconds from now; 0 clears the expiry; None leaves it as it is.
    expires_in: int | None = None


@dataclass(frozen=True)
class KeywordChange:
    """One of `keywords_attributes`: a new keyword (no id), a change, or a removal."""

    id: int | None
    keyword: str | None
    whole_word: bool | None
    destroy: bool = False


def check_title(title: str | None) -> str:
    title = (title or "").strip()
    if not title:
        raise Invalid("title", "can't be blank")
    if len(title) > MAX_TITLE or not title.isprintable():
        raise Invalid("title", f"must be printable and at most {MAX_TITLE} characters")
    return title


def check_context(context: list[str] | None) -> list[str]:
    if not context:
        raise Invalid("context", "can't be blank")
    if any(name not in CONTEXTS for name in context):
        raise Invalid("context", "None or invalid context supplied")
    return [name for name in CONTEXTS if name in context]


def check_action(action: str | None) -> str:
    if action not in ACTIONS:
        raise Invalid("filter_action", f"must be one of {', '.join(ACTIONS)}")
    return action


def check_keyword(keyword: str | None) -> str:
    keyword = (keyword or "").strip()
    if not keyword:
        raise Invalid("keyword", "can't be blank")
    if len(keyword) > MAX_KEYWORD or not keyword.isprintable():
        raise Invalid("keyword", f"must be printable and at most {MAX_KEYWORD} characters")
    return keyword


def expires_at(expires_in: int, now: datetime | None = None) -> datetime | None:
    """When a filter given `expires_in` seconds ends (0: never)."""
    if expires_in == 0:
        return None
    if not 0 < expires_in <= MAX_EXPIRES_IN:
        raise Invalid("expires_in", f"must be between 1 and {MAX_EXPIRES_IN} seconds")
    return (now or datetime.now(UTC)) + timedelta(seconds=expires_in)


async def _changed(services: Services, account_id: int) -> None:
    """Tell the person's open streams (best effort: streaming.publish never raises)."""
    await streaming.publish(services, [(account_id, {"event": "filters_changed"})])


async def _own(conn: Conn, account_id: int, filter_id: int) -> Filter:
    found = await filters_sql.get_filter(conn, account_id=account_id, filter_id=filter_id)
    if found is None:
        raise NotFound("no such filter")
    return found


async def list_filters(services: Services, account_id: int) -> list[Filter]:
    async with services.pool.acquire() as conn:
        return await filters_sql.list_filters(conn, account_id=account_id, active_only=False)


async def active_filters(services: Services, account_id: int) -> list[Filter]:
    """The filters not expired: one indexed statement, no rows for most people."""
    async with services.pool.acquire() as conn:
        return await filters_sql.list_filters(conn, account_id=account_id, active_only=True)


# People's filters kept in this process with the filter stamp they were read at
# (migration 0035: triggers move a person's stamp on any change to their filters, and
# page statements return the viewer's), so that a page costs no statement for them.
KEPT_FILTERS = 10_000
_kept: dict[int, tuple[int, list[Filter]]] = {}


async def filters_at_stamp(services: Services, account_id: int, stamp: int) -> list[Filter]:
    """The person's filters (expired ones too: matching leaves those out) as of `stamp`,
    the filter stamp a statement has just read for them: none for 0 (they never had a
    filter), those kept here while the stamp has not moved, else read again."""
    if stamp == 0:
        return []
    kept = _kept.get(account_id)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    # Read after the stamp: what is read is as new as the stamp or newer (then the next
    # page's stamp differs and they are read again).
    found = await list_filters(services, account_id)
    if account_id not in _kept and len(_kept) >= KEPT_FILTERS:
        _kept.pop(next(iter(_kept)))
    _kept[account_id] = (stamp, found)
    return found


async def get_filter(services: Services, account_id: int, filter_id: int) -> Filter:
    async with services.pool.acquire() as conn:
        return await _own(conn, account_id, filter_id)


async def _apply_keywords(conn: Conn, filter_id: int, changes: Iterable[KeywordChange]) -> None:
    for change in changes:
        if change.id is None:
            if change.destroy:
                continue  # a new keyword marked for removal is never made (as Mastodon)
            await filters_sql.add_keyword(
                conn,
                filter_id=filter_id,
                keyword=check_keyword(change.keyword),
                whole_word=True if change.whole_word is None else change.whole_word,
            )
            continue
        if change.destroy:
            if not await filters_sql.delete_keyword(
                conn, keyword_id=change.id, filter_id=filter_id
            ):
                raise NotFound("no such keyword in this filter")
            continue
        current = await _keyword_of(conn, filter_id, change.id)
        await filters_sql.update_keyword(
            conn,
            keyword_id=change.id,
            filter_id=filter_id,
            keyword=current.keyword if change.keyword is None else check_keyword(change.keyword),
            whole_word=current.whole_word if change.whole_word is None else change.whole_word,
        )
    if await filters_sql.count_keywords(conn, filter_id=filter_id) > MAX_KEYWORDS:
        raise Invalid("keywords", f"at most {MAX_KEYWORDS} per filter")


async def _keyword_of(conn: Conn, filter_id: int, keyword_id: int) -> FilterKeyword:
    found = await filters_sql.keyword_of_filter(conn, filter_id=filter_id, keyword_id=keyword_id)
    if found is None:
        raise NotFound("no such keyword in this filter")
    return found


async def create_filter(
    services: Services, account_id: int, rules: Rules, keywords: list[KeywordChange]
) -> Filter:
    title = check_title(rules.title)
    context = check_context(rules.context)
    action = check_action(rules.action or "warn")
    ends = expires_at(rules.expires_in or 0)
    if any(change.id is not None for change in keywords):
        raise NotFound("a new filter has no keywords to change")
    async with services.pool.acquire() as conn, conn.transaction():
        if await filters_sql.count_filters(conn, account_id=account_id) >= MAX_FILTERS:
            raise Invalid("filters", f"at most {MAX_FILTERS} per person")
        filter_id = await filters_sql.create_filter(
            conn, account_id=account_id, title=title, context=context, action=action,
            expires_at=ends,
        )  # fmt: skip
        await _apply_keywords(conn, filter_id, keywords)
        made = await _own(conn, account_id, filter_id)
    await _changed(services, account_id)
    return made


async def update_filter(
    services: Services,
    account_id: int,
    filter_id: int,
    rules: Rules,
    keywords: list[KeywordChange],
) -> Filter:
    async with services.pool.acquire() as conn, conn.transaction():
        current = await _own(conn, account_id, filter_id)
        ends = current.expires_at if rules.expires_in is None else expires_at(rules.expires_in)
        await filters_sql.update_filter(
            conn,
            filter_id=filter_id,
            title=current.title if rules.title is None else check_title(rules.title),
            context=list(current.context)
            if rules.context is None
            else check_context(rules.context),
            action=current.action if rules.action is None else check_action(rules.action),
            expires_at=ends,
        )
        await _apply_keywords(conn, filter_id, keywords)
        changed = await _own(conn, account_id, filter_id)
    await _changed(services, account_id)
    return changed


async def delete_filter(services: Services, account_id: int, filter_id: int) -> None:
    async with services.pool.acquire() as conn:
        if not await filters_sql.delete_filter(conn, account_id=account_id, filter_id=filter_id):
            raise NotFound("no such filter")
    await _changed(services, account_id)


# ---- keywords and posts one at a time


async def get_keyword(services: Services, account_id: int, keyword_id: int) -> FilterKeyword:
    async with services.pool.acquire() as conn:
        found = await filters_sql.get_keyword(conn, account_id=account_id, keyword_id=keyword_id)
    if found is None:
        raise NotFound("no such keyword")
    return found


async def add_keyword(
    services: Services, account_id: int, filter_id: int, keyword: str | None, whole_word: bool
) -> FilterKeyword:
    text = check_keyword(keyword)
    async with services.pool.acquire() as conn, conn.transaction():
        await _own(conn, account_id, filter_id)
        if await filters_sql.count_keywords(conn, filter_id=filter_id) >= MAX_KEYWORDS:
            raise Invalid("keywords", f"at most {MAX_KEYWORDS} per filter")
        made = await filters_sql.add_keyword(
            conn, filter_id=filter_id, keyword=text, whole_word=whole_word
        )
    await _changed(services, account_id)
    return made


async def update_keyword(
    services: Services,
    account_id: int,
    keyword_id: int,
    keyword: str | None,
    whole_word: bool | None,
) -> FilterKeyword:
    current = await get_keyword(services, account_id, keyword_id)
    text = check_keyword(keyword)
    async with services.pool.acquire() as conn:
        changed = await filters_sql.update_keyword(
            conn,
            keyword_id=keyword_id,
            filter_id=current.filter_id,
            keyword=text,
            whole_word=current.whole_word if whole_word is None else whole_word,
        )
    if changed is None:
        raise NotFound("no such keyword")
    await _changed(services, account_id)
    return changed


async def delete_keyword(services: Services, account_id: int, keyword_id: int) -> FilterKeyword:
    current = await get_keyword(services, account_id, keyword_id)
    async with services.pool.acquire() as conn:
        await filters_sql.delete_keyword(conn, keyword_id=keyword_id, filter_id=current.filter_id)
    await _changed(services, account_id)
    return current


async def get_post(services: Services, account_id: int, filter_post_id: int) -> FilterPost:
    async with services.pool.acquire() as conn:
        found = await filters_sql.get_post(
            conn, account_id=account_id, filter_post_id=filter_post_id
        )
    if found is None:
        raise NotFound("no such filtered status")
    return found


async def add_post(
    services: Services, account_id: int, filter_id: int, post_id: int | None
) -> FilterPost:
    if post_id is None:
        raise Invalid("status_id", "can't be blank")
    # Only a post the person can see (NotFound otherwise, as for any other read).
    await post_reads.get_thread(services, post_id, account_id)
    async with services.pool.acquire() as conn, conn.transaction():
        await _own(conn, account_id, filter_id)
        if await filters_sql.count_posts(conn, filter_id=filter_id) >= MAX_POSTS:
            raise Invalid("statuses", f"at most {MAX_POSTS} per filter")
        made = await filters_sql.add_post(conn, filter_id=filter_id, post_id=post_id)
    if made is None:
        raise Invalid("status", "has already been taken")
    await _changed(services, account_id)
    return made


async def delete_post(services: Services, account_id: int, filter_post_id: int) -> None:
    await get_post(services, account_id, filter_post_id)
    async with services.pool.acquire() as conn:
        await filters_sql.delete_post(conn, filter_post_id=filter_post_id)
    await _changed(services, account_id)


# ---- the v1 API's view: one filter per keyword


async def keyword_filter(
    services: Services, account_id: int, keyword_id: int
) -> tuple[Filter, FilterKeyword]:
    """The keyword and its filter (the v1 API's filter)."""
    keyword = await get_keyword(services, account_id, keyword_id)
    found = await get_filter(services, account_id, keyword.filter_id)
    return found, keyword


async def delete_keyword_filter(services: Services, account_id: int, keyword_id: int) -> None:
    """Delete the keyword, and its filter when nothing else is left in it."""
    keyword = await get_keyword(services, account_id, keyword_id)
    async with services.pool.acquire() as conn, conn.transaction():
        await filters_sql.delete_keyword(conn, keyword_id=keyword_id, filter_id=keyword.filter_id)
        left = await _own(conn, account_id, keyword.filter_id)
        if not left.keywords and not left.posts:
            await filters_sql.delete_filter(conn, account_id=account_id, filter_id=left.id)
    await _changed(services, account_id)
