"""Outbox backfill: the newest posts of a remote account, fetched from its outbox when it
is first looked up or followed, so that its profile and followers' home timelines are
not empty until it posts again.

At most `BACKFILL_POSTS` posts from at most `BACKFILL_PAGES` pages; only the account's
own public and unlisted Notes (shares of other posts are skipped). Storing is idempotent
by ActivityPub id, so running the job again adds nothing twice.
"""

from __future__ import annotations

import logging
from contextlib import aclosing

from federation.values import id_of
from stgy.domain.jobs import outbox
from stgy.domain.remote.remote_documents import Fetcher, FetchFailed, collection_items, note_of
from stgy.domain.remote.remote_keys import host_of
from stgy.domain.remote.remote_posts import save_fetched_note
from stgy.domain.remote.resolve import enqueue_fetch
from stgy.jobs import BACKFILL_OUTBOX
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import fetched as fetched_sql
from storage.accounts import Account
from storage.db import Conn
from storage.outbox import OutboxEvent

log = logging.getLogger("stgy.fetch")

BACKFILL_POSTS = 20
BACKFILL_PAGES = 3
# The outbox, its pages, and a Note fetched for each item given by URL.
BACKFILL_REQUESTS = 1 + BACKFILL_PAGES + BACKFILL_POSTS


async def backfill_outbox(services: Services, account_id: int) -> int:
    """The job: store the newest posts of a remote account's outbox; how many were new."""
    async with services.pool.acquire() as conn:
        state = await fetched_sql.remote_state(conn, account_id=account_id)
        account = await accounts_sql.get_account(conn, account_id=account_id)
    if state is None or account is None or not state.active:
        return 0
    if state.outbox_url is None:
        await _done(services, account_id)
        return 0
    fetcher = Fetcher(services, BACKFILL_REQUESTS)
    outbox_host = host_of(state.outbox_url) or ""
    stored = await _store_items(fetcher, account, state.outbox_url, outbox_host)
    await _done(services, account_id)
    log.info("outbox_backfilled account=%d new_posts=%d", account_id, stored)
    return stored


async def _store_items(fetcher: Fetcher, account: Account, outbox_url: str, host: str) -> int:
    services = fetcher.services
    taken = stored = 0
    items = collection_items(fetcher, outbox_url, host, max_pages=BACKFILL_PAGES)
    async with aclosing(items):
        async for item, page_host in items:
            if taken >= BACKFILL_POSTS:
                break
            if isinstance(item, dict) and item.get("type") == "Announce":
                continue  # a share of someone else's post
            try:
                note = await note_of(fetcher, item, page_host)
            except FetchFailed:
                continue  # one item that did not answer; the others still count
            if note is None:
                continue
            taken += 1
            async with services.pool.acquire() as conn:
                known = await fetched_sql.post_id_by_ap_id(conn, ap_id=id_of(note) or "")
            if known is None and await save_fetched_note(services, note, account) is not None:
                stored += 1
    return stored


async def _done(services: Services, account_id: int) -> None:
    async with services.pool.acquire() as conn:
        await fetched_sql.mark_outbox_fetched(conn, account_id=account_id)


async def _backfill_followee(conn: Conn, event: OutboxEvent, services: Services) -> None:
    """A local account follows (or asked to follow) a remote one: backfill its outbox once.

    The job reads only rows committed before this event (the account), so enqueueing it
    from inside the event's transaction is safe; its key makes a second enqueue a no-op.
    Should it finish after the follow is accepted, the posts it stores reach the follower's
    home timeline through save_fetched_note; should it finish before, the accepted
    follow's own backfill (stgy.domain.fanout) brings them.
    """
    followee_id = int(event.payload["followee_id"])
    state = await fetched_sql.remote_state(conn, account_id=followee_id)
    if state is None or not state.active or state.outbox_fetched_at is not None:
        return
    if services.config.federation.enabled:
        await enqueue_fetch(services, BACKFILL_OUTBOX, followee_id, account_id=followee_id)


outbox.handles("follow.requested")(_backfill_followee)
outbox.handles("follow.accepted")(_backfill_followee)
