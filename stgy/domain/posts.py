"""Posts: write (with mentions, tags, replies, idempotency keys), edit, delete, read."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from stgy.domain.errors import Conflict, Forbidden, Invalid, NotFound
from stgy.domain.jobs import outbox
from stgy.domain.media import uploads
from stgy.domain.text import (
    Mention,
    check_storable,
    find_mentions_and_tags,
    normalise_tag,
    render_post,
)
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import media as media_sql
from storage import post_writes
from storage import posts as posts_sql
from storage.db import Conn
from storage.media import Media
from storage.post_writes import NewPost
from storage.posts import PostView as PostView  # re-exported: the web face types with it

VISIBILITIES = ("public", "unlisted", "followers", "direct", "local")
MAX_SUMMARY = 500
MAX_TAGS = 30
MAX_KEY_LENGTH = 255
IDEMPOTENCY_SECONDS = 24 * 3600
LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}$")
KEY_RE = re.compile(r"^[\x21-\x7e]+$")


@dataclass(frozen=True)
class PostDraft:
    text: str
    reply_to_id: int | None = None
    tags: list[str] = field(default_factory=list)
    visibility: str = "public"
    summary: str = ""
    sensitive: bool = False
    allow_likes: bool = True
    allow_replies: bool = True
    media_ids: list[str] = field(default_factory=list)
    language: str | None = None


@dataclass(frozen=True)
class PostChanges:
    """An edit: None leaves a field as it is (language: `clear_language` empties it)."""

    text: str | None = None
    summary: str | None = None
    sensitive: bool | None = None
    tags: list[str] | None = None
    language: str | None = None
    clear_language: bool = False
    media_ids: list[str] | None = None  # replaces the attachments (an empty list removes them)


@dataclass(frozen=True)
class Created:
    view: PostView
    replayed: bool  # True when an Idempotency-Key returned an earlier post


@dataclass(frozen=True)
class _Composed:
    html: str
    tags: list[str]
    mention_ids: list[int]


class _KeyTaken(Exception):
    """A concurrent request bound the Idempotency-Key first; this one rolls back."""


# --- checks ---------------------------------------------------------------------------


def check_text(services: Services, text: str) -> None:
    check_storable("text", text)
    if not text.strip():
        raise Invalid("text", "required (not blank)")
    limit = services.config.limits.post_length
    if len(text) > limit:
        raise Invalid("text", f"at most {limit} characters (limits.post_length)")


def check_summary(summary: str) -> None:
    check_storable("summary", summary)
    if len(summary) > MAX_SUMMARY:
        raise Invalid("summary", f"at most {MAX_SUMMARY} characters")


def check_tags(tags: list[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise Invalid("tags", f"at most {MAX_TAGS} tags")
    clean = []
    for i, tag in enumerate(tags):
        check_storable(f"tags.{i}", tag)
        normal = normalise_tag(tag.removeprefix("#"))
        if normal is None:
            raise Invalid(f"tags.{i}", "letters, digits or underscores, with a letter")
        clean.append(normal)
    return clean


def check_language(language: str | None) -> str | None:
    if language is None:
        return None
    if not LANGUAGE_RE.match(language):
        raise Invalid("language", "a 2 or 3 letter language code (ISO 639)")
    return language.lower()


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not KEY_RE.match(key):
        raise Invalid("Idempotency-Key", f"1 to {MAX_KEY_LENGTH} printable ASCII characters")
    return key


def _merge_tags(*groups: list[str]) -> list[str]:
    return list(dict.fromkeys(tag for group in groups for tag in group))


# --- composing ------------------------------------------------------------------------


async def _compose(
    services: Services,
    conn: Conn,
    text: str,
    extra_tags: list[str],
    attached: list[Media] | None = None,
) -> _Composed:
    """Render the text, linking the mentions of known accounts and every hashtag."""
    instance = services.config.instance
    local_domain = instance.domain.lower()

    def key(mention: Mention) -> tuple[str, str | None]:
        domain = None if mention.domain == local_domain else mention.domain
        return mention.handle.lower(), domain

    mentions, tags = find_mentions_and_tags(text)
    keys = list(dict.fromkeys(key(m) for m in mentions))
    accounts = await posts_sql.accounts_by_handles(conn, keys=keys)
    by_key = {(a.handle.lower(), a.domain): a for a in accounts}

    def mention_url(mention: Mention) -> str | None:
        account = by_key.get(key(mention))
        return None if account is None else account.url or account.ap_id

    html = render_post(
        text,
        mention_url=mention_url,
        tags_url=instance.base_url + "/tags",
        image_url=uploads.attached_image_url(attached or []),
    )
    mention_ids = list(dict.fromkeys(by_key[k].id for k in keys if k in by_key))
    return _Composed(html, _merge_tags(tags, extra_tags), mention_ids)


async def preview_html(
    services: Services, author_id: int, text: str, editing: int | None = None
) -> str:
    """The text as sending it would render: mentions of accounts already known here
    linked (an unknown one stays plain text, with no fetch, as on sending), every hashtag
    linked; when `editing` one's own post, its images written by id shown too."""
    check_storable("text", text)
    async with services.pool.acquire() as conn:
        attached: list[Media] = []
        if editing is not None:
            views = await posts_sql.load_views(conn, post_ids=[editing], viewer_id=author_id)
            found = views.get(editing)
            if found is None or found.deleted_at is not None or found.account.id != author_id:
                raise NotFound("no such post of yours")
            attached = list(found.media)
        composed = await _compose(services, conn, text, [], attached)
    return composed.html


async def _view(conn: Conn, post_id: int, viewer_id: int | None) -> PostView:
    views = await posts_sql.load_views(conn, post_ids=[post_id], viewer_id=viewer_id)
    return views[post_id]


# --- writing --------------------------------------------------------------------------


async def create_post(
    services: Services,
    author_id: int,
    draft: PostDraft,
    idempotency_key: str | None = None,
    *,
    also: Callable[[Conn, int], Awaitable[None]] | None = None,
) -> Created:
    """Write a post, the author's own timeline entry and a `post.created` event at once;
    `also(conn, post_id)` writes more in the same transaction (an AI agent's memory)."""
    check_text(services, draft.text)
    check_summary(draft.summary)
    extra_tags = check_tags(draft.tags)
    language = check_language(draft.language)
    key = check_idempotency_key(idempotency_key)
    if draft.visibility not in VISIBILITIES:
        raise Invalid("visibility", "one of " + ", ".join(VISIBILITIES))
    base_url = services.config.instance.base_url
    async with services.pool.acquire() as conn:
        if key is not None:
            replayed = await _replay(conn, author_id, key)
            if replayed is not None:
                return replayed
        try:
            async with conn.transaction():
                author = await accounts_sql.get_account(conn, account_id=author_id)
                if author is None or not author.active:
                    raise NotFound("no such account")
                parent = None
                if draft.reply_to_id is not None:
                    parent = await posts_sql.get_post_ref(
                        conn, post_id=draft.reply_to_id, viewer_id=author_id, original=True
                    )
                    if parent is None or parent.deleted or not parent.visible:
                        raise NotFound("no such post to reply to (reply_to)")
                    if not parent.allow_replies and parent.account_id != author_id:
                        raise Forbidden("the author does not accept replies to this post")
                attached = await uploads.attachable(conn, author_id, draft.media_ids, post_id=None)
                composed = await _compose(services, conn, draft.text, extra_tags, attached)
                post_id = await post_writes.next_post_id(conn)
                await post_writes.insert_post(
                    conn,
                    NewPost(
                        id=post_id,
                        account_id=author_id,
                        ap_id=f"{base_url}/users/{author.handle}/posts/{post_id}",
                        url=f"{base_url}/@{author.handle}/{post_id}",
                        source=draft.text,
                        html=composed.html,
                        summary=draft.summary,
                        sensitive=draft.sensitive or bool(draft.summary),
                        language=language,
                        visibility=draft.visibility,
                        allow_likes=draft.allow_likes,
                        allow_replies=draft.allow_replies,
                        tags=composed.tags,
                        in_reply_to_id=parent.id if parent else None,
                        in_reply_to_ap_id=parent.ap_id if parent else None,
                        conversation_id=(parent.conversation_id or parent.id) if parent else None,
                    ),
                )
                await post_writes.set_mentions(
                    conn, post_id=post_id, account_ids=composed.mention_ids
                )
                await post_writes.set_tags(conn, post_id=post_id, tags=composed.tags)
                if attached:
                    await media_sql.set_post_media(
                        conn, post_id=post_id, media_ids=[m.id for m in attached]
                    )
                if parent is not None:
                    await post_writes.change_replies_count(conn, post_id=parent.id, delta=1)
                await post_writes.change_posts_count(conn, account_id=author_id, delta=1)
                await post_writes.add_timeline_entry(
                    conn, owner_id=author_id, post_id=post_id, author_id=author_id
                )
                if key is not None and not await post_writes.claim_idempotency_key(
                    conn,
                    account_id=author_id,
                    key=key,
                    post_id=post_id,
                    max_age_seconds=float(IDEMPOTENCY_SECONDS),
                ):
                    raise _KeyTaken
                event = await outbox.record_event(conn, "post.created", {"post_id": post_id})
                if also is not None:
                    await also(conn, post_id)
        except _KeyTaken:
            assert key is not None  # noqa: S101 - raised only with a key
            replayed = await _replay(conn, author_id, key)
            if replayed is None:  # the winner's binding expired meanwhile: vanishingly rare
                raise Conflict("Idempotency-Key in use; retry") from None
            return replayed
        await outbox.enqueue_events(services.jobs, [event])
        return Created(await _view(conn, post_id, author_id), replayed=False)


async def _replay(conn: Conn, author_id: int, key: str) -> Created | None:
    post_id = await posts_sql.idempotent_post_id(
        conn, account_id=author_id, key=key, max_age_seconds=float(IDEMPOTENCY_SECONDS)
    )
    if post_id is None:
        return None
    view = await _view(conn, post_id, author_id)
    if view.deleted_at is not None:
        raise Conflict("the post made with this Idempotency-Key was deleted")
    return Created(view, replayed=True)


async def _own_post(conn: Conn, post_id: int, author_id: int) -> posts_sql.PostRef:
    ref = await posts_sql.get_post_ref(conn, post_id=post_id, viewer_id=author_id, lock=True)
    if ref is None or ref.deleted or ref.account_id != author_id:
        raise NotFound("no such post of yours")
    return ref


async def editable_post(services: Services, author_id: int, post_id: int) -> PostView:
    """One's own post, to be edited: Forbidden for a post of someone else's that the
    account may see, NotFound for a share, a deleted post or one it may not see."""
    async with services.pool.acquire() as conn:
        views = await posts_sql.load_views(conn, post_ids=[post_id], viewer_id=author_id)
    post = views.get(post_id)
    if post is None or not post.shown or post.share_of_id is not None:
        raise NotFound("no such post")
    if post.account.id != author_id:
        raise Forbidden("only its author can edit a post")
    return post


def _unchanged(
    old: PostView, changes: PostChanges, tags: list[str] | None, language: str | None
) -> bool:
    """True when `changes` would store the post as it is: no new version is kept, and no
    Update is sent (a form saved without a change, a client sending the same values)."""
    summary = old.summary if changes.summary is None else changes.summary
    sensitive = old.sensitive if changes.sensitive is None else changes.sensitive
    return (
        changes.text in (None, old.source)
        and summary == old.summary
        and (sensitive or bool(summary)) == old.sensitive
        and tags is None
        and (None if changes.clear_language else language or old.language) == old.language
        and (changes.media_ids is None or changes.media_ids == [str(m.id) for m in old.media])
    )


async def edit_post(
    services: Services, author_id: int, post_id: int, changes: PostChanges
) -> PostView:
    """Keep the old version in post_edits, then re-render and re-link the new one."""
    if changes.text is not None:
        check_text(services, changes.text)
    if changes.summary is not None:
        check_summary(changes.summary)
    new_tags = check_tags(changes.tags) if changes.tags is not None else None
    language = check_language(changes.language)
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            ref = await _own_post(conn, post_id, author_id)
            if ref.share_of_id is not None:
                raise NotFound("a share cannot be edited")
            old = await _view(conn, post_id, author_id)
            if changes == PostChanges() or _unchanged(old, changes, new_tags, language):
                return old
            text = old.source if changes.text is None else changes.text
            if new_tags is None:
                # Keep the tags given explicitly before: those the old text did not hold.
                _, old_parsed = find_mentions_and_tags(old.source)
                new_tags = [tag for tag in old.tags if tag not in old_parsed]
            if changes.media_ids is not None:
                attached = await uploads.attachable(
                    conn, author_id, changes.media_ids, post_id=post_id
                )
            else:
                attached = list(old.media)
            composed = await _compose(services, conn, text, new_tags, attached)
            summary = old.summary if changes.summary is None else changes.summary
            sensitive = old.sensitive if changes.sensitive is None else changes.sensitive
            if changes.clear_language:
                language = None
            elif language is None:
                language = old.language
            await post_writes.save_edit(conn, post_id=post_id)
            await post_writes.update_post(
                conn,
                post_id=post_id,
                source=text,
                html=composed.html,
                summary=summary,
                sensitive=sensitive or bool(summary),
                language=language,
                tags=composed.tags,
            )
            await post_writes.set_mentions(conn, post_id=post_id, account_ids=composed.mention_ids)
            await post_writes.set_tags(conn, post_id=post_id, tags=composed.tags)
            if changes.media_ids is not None:
                await media_sql.set_post_media(
                    conn, post_id=post_id, media_ids=[m.id for m in attached]
                )
            event = await outbox.record_event(conn, "post.updated", {"post_id": post_id})
        await outbox.enqueue_events(services.jobs, [event])
        return await _view(conn, post_id, author_id)


async def delete_post(services: Services, author_id: int, post_id: int) -> PostView:
    """Tombstone an own post (or share) and undo its counts; returns it as it was."""
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            ref = await _own_post(conn, post_id, author_id)
            view = await _view(conn, post_id, author_id)
            await post_writes.mark_deleted(conn, post_id=post_id)
            if ref.share_of_id is not None:
                await post_writes.change_shares_count(conn, post_id=ref.share_of_id, delta=-1)
            else:
                await post_writes.change_posts_count(conn, account_id=author_id, delta=-1)
                if ref.in_reply_to_id is not None:
                    await post_writes.change_replies_count(
                        conn, post_id=ref.in_reply_to_id, delta=-1
                    )
            event = await outbox.record_event(conn, "post.deleted", {"post_id": post_id})
    await outbox.enqueue_events(services.jobs, [event])
    return view
