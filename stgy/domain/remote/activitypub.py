"""ActivityPub's read side: actors, posts as objects, activities and collections.

What anyone may fetch without a signature: live, approved local accounts, and
their public and unlisted posts. Followers-only, direct and local-only posts
answer 404 here (authorized fetch comes later); deleted accounts and posts
answer 410 with a Tombstone.
"""

from __future__ import annotations

import html
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import quote

from cryptography.hazmat.primitives import serialization

from federation import vocab
from stgy.domain import instance_settings
from stgy.domain.accounts import HANDLE_RE
from stgy.domain.errors import NotFound
from stgy.domain.keys import generate_key_pair
from stgy.domain.text import field_html
from stgy.services import Services
from storage import activitypub as ap_sql
from storage import follows as follows_sql
from storage import sessions as sessions_sql
from storage.activitypub import LocalActor, PostObject

OUTBOX_PAGE = 20
ACCOUNTS_PAGE = 40
REPLIES_PAGE = 40
INSTANCE_KEY_SECRET = "instance_actor_key"  # noqa: S105 - the name of the secret
PUBLICLY_FETCHABLE = ("public", "unlisted")


@dataclass(frozen=True)
class Document:
    """An ActivityStreams document and the status to answer it with (410 for tombstones)."""

    body: dict[str, Any]
    status: int = 200


@dataclass(frozen=True)
class InstanceKey:
    key_id: str
    private_pem: str
    public_pem: str


# --- lookups --------------------------------------------------------------------------


async def _actor(services: Services, handle: str) -> LocalActor:
    """A local account by current or old handle; deleted and suspended ones too (their
    actor answers 410)."""
    if not HANDLE_RE.match(handle):
        raise NotFound("no such account")
    async with services.pool.acquire() as conn:
        actor = await ap_sql.find_local_actor(conn, handle=handle)
    if actor is None or not actor.approved:
        raise NotFound("no such account")
    return actor


async def live_actor(services: Services, handle: str) -> LocalActor:
    actor = await _actor(services, handle)
    if actor.account.deleted_at is not None or actor.account.suspended_at is not None:
        raise NotFound("no such account")
    return actor


async def _post(services: Services, handle: str, post_id: int) -> PostObject:
    """A local post of the account the handle names (by either of its handles)."""
    actor = await _actor(services, handle)
    if actor.account.suspended_at is not None:
        raise NotFound("no such post")
    async with services.pool.acquire() as conn:
        post = (await ap_sql.post_objects(conn, post_ids=[post_id])).get(post_id)
    if post is None or not post.local or post.account.id != actor.account.id:
        raise NotFound("no such post")
    return post


# --- actors ---------------------------------------------------------------------------


def _image(url: str | None) -> vocab.Image | None:
    return None if url is None else vocab.Image(url, mimetypes.guess_type(url)[0])


def person(actor: LocalActor) -> vocab.Actor:
    account = actor.account
    return vocab.Actor(
        id=account.ap_id,
        username=account.handle,
        name=account.display_name,
        inbox=account.inbox_url or f"{account.ap_id}/inbox",
        outbox=actor.outbox_url,
        public_key=vocab.PublicKey(
            actor.public_key_id, account.ap_id, account.public_key_pem or ""
        ),
        summary_html=account.bio_html,
        url=account.url,
        shared_inbox=account.shared_inbox_url,
        followers=actor.followers_url,
        following=actor.following_url,
        featured=actor.featured_url,
        # To the day, as Mastodon does: the exact sign-up time is nobody's business.
        published=account.created_at.replace(hour=0, minute=0, second=0, microsecond=0),
        icon=_image(account.avatar_url),
        image=_image(account.header_url),
        fields=tuple(
            vocab.PropertyValue(f["name"], field_html(f["value"])) for f in account.fields
        ),
        manually_approves_followers=account.locked,
        discoverable=account.discoverable,
        # Our own search indexes public posts of discoverable accounts alike.
        indexable=account.discoverable,
        bot=account.bot,
    )


async def actor_document(services: Services, handle: str) -> Document:
    actor = await _actor(services, handle)
    account = actor.account
    # A suspended account is gone for other servers as a deleted one is (its Delete
    # follows after moderation.suspension_grace_seconds); lifting it brings it back.
    gone_at = account.deleted_at or account.suspended_at
    if gone_at is not None:
        return Document(vocab.render_tombstone(account.ap_id, gone_at, "Person"), 410)
    return Document(vocab.render_person(person(actor)))


async def profile_url(services: Services, handle: str) -> str:
    """Where a browser asking for an actor goes: the profile page."""
    account = (await live_actor(services, handle)).account
    return account.url or f"{services.config.instance.base_url}/@{account.handle}"


@lru_cache(maxsize=8)
def _public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


async def instance_key(services: Services) -> InstanceKey:
    """The instance actor's key pair, made on first use and kept in instance_secrets."""
    async with services.pool.acquire() as conn:
        private_pem = await ap_sql.get_instance_secret(conn, name=INSTANCE_KEY_SECRET)
    if private_pem is None:
        made = await generate_key_pair()
        async with services.pool.acquire() as conn:
            # Two processes racing both make a key; the first stored is the one kept.
            private_pem = await sessions_sql.get_or_create_secret(
                conn, name=INSTANCE_KEY_SECRET, new_value=made.private_pem
            )
    key_id = f"{services.config.instance.base_url}/actor#main-key"
    return InstanceKey(key_id, private_pem, _public_pem(private_pem))


async def instance_actor(services: Services) -> dict[str, Any]:
    instance = await instance_settings.effective_instance(services)
    actor_id = f"{instance.base_url}/actor"
    key = await instance_key(services)
    return vocab.render_application(
        vocab.Actor(
            id=actor_id,
            username=instance.domain,
            name=instance.name,
            inbox=f"{actor_id}/inbox",
            outbox=f"{actor_id}/outbox",
            public_key=vocab.PublicKey(key.key_id, actor_id, key.public_pem),
            summary_html=html.escape(instance.description),
            url=f"{instance.base_url}/",
            shared_inbox=f"{instance.base_url}/inbox",
            manually_approves_followers=True,
        )
    )


def instance_outbox(services: Services) -> dict[str, Any]:
    return vocab.render_ordered_collection(
        f"{services.config.instance.base_url}/actor/outbox", 0, items=[]
    )


# --- posts ----------------------------------------------------------------------------


def note(services: Services, post: PostObject) -> vocab.Note:
    instance = services.config.instance
    return vocab.Note(
        id=post.ap_id,
        attributed_to=post.account.ap_id,
        followers=post.author_followers_url or f"{post.account.ap_id}/followers",
        content_html=post.html,
        published=post.created_at,
        visibility=post.visibility,
        url=post.url,
        source=post.source,
        summary=post.summary,
        sensitive=post.sensitive,
        language=post.language,
        in_reply_to=post.in_reply_to_ap_id,
        updated=post.edited_at,
        mentions=tuple(
            vocab.Mention(m.ap_id, f"@{m.handle}@{m.domain or instance.domain}")
            for m in post.mentions
        ),
        hashtags=tuple(
            vocab.Hashtag(f"{instance.base_url}/tags/{quote(tag, safe='')}", f"#{tag}")
            for tag in post.tags
        ),
        replies=f"{post.ap_id}/replies",
        allow_likes=post.allow_likes,
        allow_replies=post.allow_replies,
        attachments=tuple(
            vocab.Attachment(
                url=m.url,
                media_type=m.content_type or None,
                name=m.description,
                blurhash=m.blurhash,
                width=m.width,
                height=m.height,
                focal_point=(m.focus_x, m.focus_y),
            )
            for m in post.media
            if m.state == "ready" and m.url is not None
        ),
    )


def announce_of(post: PostObject) -> vocab.Announce:
    assert post.share_of is not None  # noqa: S101 - called for shares only
    return vocab.Announce(
        id=post.ap_id,
        actor=post.account.ap_id,
        followers=post.author_followers_url or f"{post.account.ap_id}/followers",
        object_id=post.share_of.ap_id,
        object_author=post.share_of.author_ap_id,
        published=post.created_at,
        visibility=post.visibility,
    )


def gone(post: PostObject) -> bool:
    return post.deleted_at is not None or post.account.deleted_at is not None


def _tombstone(object_id: str, post: PostObject, former_type: str) -> Document:
    deleted = post.deleted_at or post.account.deleted_at
    return Document(vocab.render_tombstone(object_id, deleted, former_type), 410)


async def note_document(services: Services, handle: str, post_id: int) -> Document:
    post = await _post(services, handle, post_id)
    if post.share_of is not None or post.visibility not in PUBLICLY_FETCHABLE:
        raise NotFound("no such post")
    if gone(post):
        return _tombstone(post.ap_id, post, "Note")
    return Document(vocab.render_note(note(services, post)))


async def activity_document(services: Services, handle: str, post_id: int) -> Document:
    """`…/posts/{id}/activity`: the Announce of a share, or the Create of a post."""
    post = await _post(services, handle, post_id)
    if post.visibility not in PUBLICLY_FETCHABLE:
        raise NotFound("no such activity")
    if post.share_of is None:
        if gone(post):
            return _tombstone(f"{post.ap_id}/activity", post, "Create")
        return Document(vocab.render_create(note(services, post)))
    if gone(post):
        return _tombstone(post.ap_id, post, "Announce")
    if not post.share_of.live or post.share_of.visibility not in PUBLICLY_FETCHABLE:
        raise NotFound("no such activity")
    return Document(vocab.render_announce(announce_of(post)))


async def post_url(services: Services, handle: str, post_id: int) -> str:
    """Where a browser asking for a post goes: its page (the page decides who sees it)."""
    post = await _post(services, handle, post_id)
    if post.share_of is not None or gone(post) or post.url is None:
        raise NotFound("no such post")
    return post.url


# --- collections ----------------------------------------------------------------------


def _page_url(collection_id: str, **cursor: int | None) -> str:
    query = "".join(f"&{name}={value}" for name, value in cursor.items() if value is not None)
    return f"{collection_id}?page=true{query}"


async def replies(
    services: Services, handle: str, post_id: int, *, page: bool, after: int | None
) -> dict[str, Any]:
    """Public and unlisted replies to a public or unlisted post, oldest first, as ids."""
    post = await _post(services, handle, post_id)
    if post.share_of is not None or post.visibility not in PUBLICLY_FETCHABLE or gone(post):
        raise NotFound("no such post")
    collection_id = f"{post.ap_id}/replies"
    async with services.pool.acquire() as conn:
        if not page:
            total = await ap_sql.reply_count(conn, post_id=post.id)
            return vocab.render_ordered_collection(collection_id, total, _page_url(collection_id))
        found = await ap_sql.reply_page(conn, post_id=post.id, after=after, limit=REPLIES_PAGE)
    following = _page_url(collection_id, after=found[-1][0]) if len(found) == REPLIES_PAGE else None
    return vocab.render_ordered_collection_page(
        _page_url(collection_id, after=after),
        collection_id,
        [ap_id for _, ap_id in found],
        next=following,
    )


def _outbox_item(services: Services, post: PostObject) -> dict[str, Any]:
    if post.share_of is not None:
        return vocab.announce_activity(announce_of(post))
    return vocab.create_activity(note(services, post))


async def outbox(
    services: Services, handle: str, *, page: bool, max_id: int | None, min_id: int | None
) -> dict[str, Any]:
    """Creates of public and unlisted posts and Announces of shares, newest first."""
    actor = await live_actor(services, handle)
    collection_id = actor.outbox_url
    account_id = actor.account.id
    async with services.pool.acquire() as conn:
        if not page:
            total = await ap_sql.outbox_count(conn, account_id=account_id)
            return vocab.render_ordered_collection(
                collection_id,
                total,
                _page_url(collection_id),
                last=_page_url(collection_id, min_id=0),
            )
        ids = await ap_sql.outbox_ids(
            conn, account_id=account_id, max_id=max_id, min_id=min_id, limit=OUTBOX_PAGE
        )
        posts = await ap_sql.post_objects(conn, post_ids=ids)
    items = [_outbox_item(services, posts[i]) for i in ids if i in posts]
    # Older items may follow a full page, or any page that starts above a min_id.
    older = bool(ids) and (len(ids) == OUTBOX_PAGE or (min_id or 0) > 0)
    return vocab.render_ordered_collection_page(
        _page_url(collection_id, max_id=max_id, min_id=min_id),
        collection_id,
        items,
        next=_page_url(collection_id, max_id=ids[-1]) if older else None,
        prev=_page_url(collection_id, min_id=ids[0]) if ids else None,
    )


async def follow_collection(
    services: Services,
    handle: str,
    which: Literal["followers", "following"],
    *,
    page: bool,
    max_id: int | None,
) -> dict[str, Any]:
    """`followers` or `following`: the count, and pages of actor ids (newest account first)."""
    actor = await live_actor(services, handle)
    account = actor.account
    if which == "followers":
        collection_id, total, listing = (
            actor.followers_url,
            account.followers_count,
            follows_sql.list_followers,
        )
    else:
        collection_id, total, listing = (
            actor.following_url,
            account.following_count,
            follows_sql.list_following,
        )
    if not page:
        return vocab.render_ordered_collection(collection_id, total, _page_url(collection_id))
    async with services.pool.acquire() as conn:
        found = await listing(conn, account_id=account.id, until=max_id, limit=ACCOUNTS_PAGE)
    following = (
        _page_url(collection_id, max_id=found[-1].id) if len(found) == ACCOUNTS_PAGE else None
    )
    return vocab.render_ordered_collection_page(
        _page_url(collection_id, max_id=max_id),
        collection_id,
        [other.ap_id for other in found],
        next=following,
    )


async def featured(services: Services, handle: str) -> dict[str, Any]:
    """Pinned posts: none yet (pinning comes later), so always an empty collection."""
    actor = await live_actor(services, handle)
    return vocab.render_ordered_collection(actor.featured_url, 0, items=[])
