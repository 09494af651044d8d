"""Storing remote Notes as posts of remote accounts: one path for a Create taken at the
inbox and for a Note fetched later (outbox backfill, a thread's missing posts).

`store_note` writes the post (its sanitised HTML and its plain text), its attachments,
mentions and counts in the caller's transaction; `note_content` is what an Update of the
Note replaces. A fetched Note is stored with an id made from its publication time, and
reaches local followers' home timelines at once (`save_fetched_note`); it notifies
nobody, since it is old news by the time we fetch it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.values import as_list, id_of, text_of
from federation.vocab import PUBLIC, parse_attachments
from stgy.domain import fanout
from stgy.domain.html_text import html_to_text
from stgy.domain.media import remote_media
from stgy.domain.remote.remote_keys import host_of
from stgy.domain.text import normalise_tag, sanitize_html
from stgy.services import Services
from storage import fetched as fetched_sql
from storage import inbox as inbox_sql
from storage import post_writes
from storage import remote_accounts as remote_sql
from storage.accounts import Account
from storage.db import Conn

log = logging.getLogger("stgy.fetch")

# Addressing that means "everyone", as servers write it.
PUBLIC_ADDRESSES = frozenset({PUBLIC, "as:Public", "Public"})
# What we store of fetched posts: fetched as the instance, we cannot tell which local
# accounts may see a followers-only or direct one.
FETCHED_VISIBILITIES = ("public", "unlisted")
# A Note's `source` is its text when it is in one of these (Misskey and GoToSocial send
# one; so do we); otherwise the text is read from the sanitised HTML.
TEXT_SOURCE_TYPES = frozenset({"text/markdown", "text/plain", "text/x.misskeymarkdown"})
MAX_NOTE_TEXT = 100_000


@dataclass(frozen=True)
class NoteContent:
    """What a Note says, as we store it (and as an Update of it replaces it)."""

    html: str
    text: str
    summary: str
    sensitive: bool
    language: str | None


def note_text(note: dict[str, Any], html: str) -> str:
    """The plain text of a Note: its `source` when that is Markdown or plain text, else
    the text of its sanitised HTML."""
    source = note.get("source")
    if isinstance(source, dict) and isinstance(content := source.get("content"), str):
        media_type = text_of(source.get("mediaType")).split(";", 1)[0].strip().lower()
        if media_type in TEXT_SOURCE_TYPES:
            return content[:MAX_NOTE_TEXT].replace("\x00", "")
    return html_to_text(html)[:MAX_NOTE_TEXT]


def note_content(note: dict[str, Any]) -> NoteContent:
    html = sanitize_html(text_of(note.get("content")))
    language = None
    content_map = note.get("contentMap")
    if isinstance(content_map, dict) and len(content_map) == 1:
        language = str(next(iter(content_map)))[:16]
    return NoteContent(
        html=html,
        text=note_text(note, html),
        summary=text_of(note.get("summary")),
        sensitive=note.get("sensitive") is True,
        language=language,
    )


def visibility_of(note: dict[str, Any], followers_url: str | None) -> str:
    """public (Public in to), unlisted (Public in cc), followers, or direct."""
    to = {id_of(v) for v in as_list(note.get("to"))}
    cc = {id_of(v) for v in as_list(note.get("cc"))}
    if to & PUBLIC_ADDRESSES:
        return "public"
    if cc & PUBLIC_ADDRESSES:
        return "unlisted"
    if followers_url is not None and followers_url in to | cc:
        return "followers"
    return "direct"


def published_at(note: dict[str, Any]) -> datetime | None:
    try:
        at = datetime.fromisoformat(text_of(note.get("published")))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def author_of(note: dict[str, Any]) -> str | None:
    """The one actor a Note is attributed to (the first, when it names several)."""
    authors = [found for item in as_list(note.get("attributedTo")) if (found := id_of(item))]
    return authors[0] if authors else None


# Hashtags of a remote post kept for the tag timelines (as many as a local post may have).
MAX_NOTE_TAGS = 30


def note_tags(note: dict[str, Any]) -> list[str]:
    """The stored forms of a Note's Hashtag tags (its `tag` list), the valid ones only."""
    found: list[str] = []
    for item in as_list(note.get("tag")):
        if isinstance(item, dict) and item.get("type") == "Hashtag":
            name = normalise_tag(text_of(item.get("name")).removeprefix("#"))
            if name is not None and name not in found:
                found.append(name)
    return found[:MAX_NOTE_TAGS]


async def mentioned_local_ids(conn: Conn, note: dict[str, Any]) -> list[int]:
    """The live local accounts a Note's `Mention` tags name."""
    hrefs = [
        href
        for tag in as_list(note.get("tag"))
        if isinstance(tag, dict) and tag.get("type") == "Mention"
        if isinstance(href := tag.get("href"), str)
    ]
    return await remote_sql.local_ids_by_ap_ids(conn, ap_ids=hrefs) if hrefs else []


async def store_note(
    conn: Conn,
    services: Services,
    actor: Account,
    note: dict[str, Any],
    *,
    mentioned: list[int],
    fetched: bool = False,
) -> int | None:
    """Store a Note of `actor` (checked by the caller) as a post, with its attachments;
    None when stored before. The one way a remote Note becomes a post.

    Links the post it replies to when we have it, and the replies stored before it.
    """
    note_id = id_of(note)
    assert note_id is not None  # noqa: S101 - the callers checked the Note's id
    reply_to_ap_id = id_of(note.get("inReplyTo"))
    reply_to = await inbox_sql.find_post(conn, ap_id=reply_to_ap_id) if reply_to_ap_id else None
    followers_url = await remote_sql.followers_url(conn, account_id=actor.id)
    content = note_content(note)
    insert = fetched_sql.insert_fetched_post if fetched else inbox_sql.insert_remote_post
    post_id = await insert(
        conn,
        account_id=actor.id,
        ap_id=note_id,
        url=id_of(note.get("url")) or note_id,
        html=content.html,
        source=content.text,
        summary=content.summary,
        sensitive=content.sensitive,
        language=content.language,
        visibility=visibility_of(note, followers_url),
        in_reply_to_id=reply_to.id if reply_to else None,
        in_reply_to_ap_id=reply_to_ap_id,
        created_at=published_at(note),
    )
    if post_id is None:
        return None
    await post_writes.set_mentions(conn, post_id=post_id, account_ids=mentioned)
    await post_writes.set_tags(conn, post_id=post_id, tags=note_tags(note))
    await post_writes.change_posts_count(conn, account_id=actor.id, delta=1)
    if reply_to is not None:
        await post_writes.change_replies_count(conn, post_id=reply_to.id, delta=1)
    await fetched_sql.link_waiting_replies(conn, post_id=post_id, ap_id=note_id)
    await remote_media.store_remote(
        conn,
        services,
        account_id=actor.id,
        post_id=post_id,
        found=parse_attachments(note.get("attachment")),
        domain=actor.domain,
    )
    return post_id


def note_problem(note: dict[str, Any], author: Account) -> str | None:
    """Why a fetched Note cannot be stored as a post of `author`; None when it can."""
    if note.get("type") != "Note":
        return f"not a Note ({note.get('type')!r})"
    note_id = id_of(note)
    if note_id is None or host_of(note_id) is None:
        return "no http(s) id"
    if author_of(note) != author.ap_id:
        return "attributed to another actor"
    if host_of(note_id) != host_of(author.ap_id):
        return "id on another host than its author"
    return None


async def save_fetched_note(
    services: Services, note: dict[str, Any], author: Account
) -> int | None:
    """Store a fetched Note of `author`, public or unlisted only, and put it in the author's
    local followers' home timelines, in one transaction. The post's id (new or stored
    before), or None when it is not stored."""
    problem = note_problem(note, author)
    note_id = id_of(note)
    if problem is not None or note_id is None or author.is_local or not author.active:
        log.info("fetched_note_skipped note=%r reason=%r", note_id, problem or "author")
        return None
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            existing = await fetched_sql.post_id_by_ap_id(conn, ap_id=note_id)
            if existing is not None:
                return existing
            followers_url = await remote_sql.followers_url(conn, account_id=author.id)
            if visibility_of(note, followers_url) not in FETCHED_VISIBILITIES:
                return None
            mentioned = await mentioned_local_ids(conn, note)
            post_id = await store_note(
                conn, services, author, note, mentioned=mentioned, fetched=True
            )
            if post_id is None:
                return await fetched_sql.post_id_by_ap_id(conn, ap_id=note_id)
            await fanout.fan_out_to_home(conn, post_id)
    return post_id
