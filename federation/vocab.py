"""ActivityStreams 2.0 documents we serve: typed inputs, rendered to compacted JSON-LD.

The renderers are pure: plain values in, JSON-ready dicts out, shaped as
Mastodon shapes them so that every server that reads Mastodon reads us. A
`render_*` function returns a whole document (with `@context`); the `*_object`
and `*_activity` functions return the same without it, for embedding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from federation.attachments import Attachment as Attachment
from federation.attachments import attachment_object
from federation.attachments import parse_attachments as parse_attachments
from federation.jsonld import AS_CONTEXT, SECURITY_CONTEXT

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACTIVITY_JSON = "application/activity+json"
LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'

# Terms beyond the two published contexts, defined inline as Mastodon does.
# `always`/`approvalRequired` are GoToSocial's original interaction policy terms;
# `automaticApproval`/`manualApproval` replace them from GoToSocial 0.20 on.
EXTENSIONS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": "http://joinmastodon.org/ns#",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "blurhash": "toot:blurhash",
    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "gts": "https://gotosocial.org/ns#",
    "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
    "canLike": {"@id": "gts:canLike", "@type": "@id"},
    "canReply": {"@id": "gts:canReply", "@type": "@id"},
    "canAnnounce": {"@id": "gts:canAnnounce", "@type": "@id"},
    "always": {"@id": "gts:always", "@type": "@id"},
    "approvalRequired": {"@id": "gts:approvalRequired", "@type": "@id"},
    "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
    "manualApproval": {"@id": "gts:manualApproval", "@type": "@id"},
}
CONTEXT: list[Any] = [AS_CONTEXT, SECURITY_CONTEXT, EXTENSIONS]

FEDERATED_VISIBILITIES = ("public", "unlisted", "followers", "direct")
_AP_MEDIA_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"}
)
_HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class NotFederated(ValueError):
    """The object must not leave this instance (a local-only post)."""


@dataclass(frozen=True)
class Image:
    url: str
    media_type: str | None = None


@dataclass(frozen=True)
class PropertyValue:
    """A profile field; the value is HTML (links allowed), as Mastodon sends it."""

    name: str
    value_html: str


@dataclass(frozen=True)
class PublicKey:
    id: str
    owner: str
    pem: str


@dataclass(frozen=True)
class Actor:
    id: str
    username: str
    name: str
    inbox: str
    outbox: str
    public_key: PublicKey
    summary_html: str = ""
    url: str | None = None
    shared_inbox: str | None = None
    followers: str | None = None
    following: str | None = None
    featured: str | None = None
    published: datetime | None = None
    icon: Image | None = None
    image: Image | None = None
    fields: tuple[PropertyValue, ...] = ()
    manually_approves_followers: bool = False
    discoverable: bool = False
    indexable: bool = False
    bot: bool = False


@dataclass(frozen=True)
class Mention:
    href: str  # the actor's id
    name: str  # "@user@domain"


@dataclass(frozen=True)
class Hashtag:
    href: str  # the tag's page
    name: str  # "#tag"


@dataclass(frozen=True)
class Note:
    id: str
    attributed_to: str
    followers: str  # the author's followers collection, for addressing
    content_html: str
    published: datetime
    visibility: str  # public | unlisted | followers | direct (local raises NotFederated)
    url: str | None = None
    source: str | None = None  # the Markdown the content was rendered from
    summary: str = ""
    sensitive: bool = False
    language: str | None = None
    in_reply_to: str | None = None
    updated: datetime | None = None
    mentions: tuple[Mention, ...] = ()
    hashtags: tuple[Hashtag, ...] = ()
    replies: str | None = None
    allow_likes: bool = True
    allow_replies: bool = True
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Announce:
    """A share: `actor` announces the object `object_id` written by `object_author`."""

    id: str
    actor: str
    followers: str  # the sharer's followers collection
    object_id: str
    object_author: str
    published: datetime
    visibility: str  # public | unlisted


def iso(value: datetime) -> str:
    """ISO 8601 in UTC to the second with Z, as Mastodon writes times."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def document(obj: dict[str, Any]) -> dict[str, Any]:
    """An embeddable object made a document of its own: our `@context` first."""
    return {"@context": CONTEXT, **obj}


def prefers_activity_json(accept: str | None) -> bool:
    """Whether an Accept header asks for ActivityStreams JSON rather than a web page.

    An ActivityPub type (activity+json, ld+json with any profile, or plain JSON)
    must be acceptable and rank at least as high as HTML; wildcards alone (curl's
    `*/*`) count as a browser.
    """
    best_json = best_html = 0.0
    for part in (accept or "").split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:  # also NaN
                    quality = 0.0
        if media in _AP_MEDIA_TYPES:
            best_json = max(best_json, quality)
        elif media in _HTML_MEDIA_TYPES:
            best_html = max(best_html, quality)
    return best_json > 0.0 and best_json >= best_html


# --- actors ---------------------------------------------------------------------------


def _image(image: Image) -> dict[str, Any]:
    rendered: dict[str, Any] = {"type": "Image", "url": image.url}
    if image.media_type:
        rendered["mediaType"] = image.media_type
    return rendered


def actor_object(actor: Actor, actor_type: str) -> dict[str, Any]:
    obj: dict[str, Any] = {"id": actor.id, "type": actor_type}
    for key, value in (
        ("following", actor.following),
        ("followers", actor.followers),
        ("inbox", actor.inbox),
        ("outbox", actor.outbox),
        ("featured", actor.featured),
    ):
        if value is not None:
            obj[key] = value
    obj["preferredUsername"] = actor.username
    obj["name"] = actor.name
    obj["summary"] = actor.summary_html
    if actor.url is not None:
        obj["url"] = actor.url
    obj["manuallyApprovesFollowers"] = actor.manually_approves_followers
    obj["discoverable"] = actor.discoverable
    obj["indexable"] = actor.indexable
    if actor.published is not None:
        obj["published"] = iso(actor.published)
    obj["publicKey"] = {
        "id": actor.public_key.id,
        "owner": actor.public_key.owner,
        "publicKeyPem": actor.public_key.pem,
    }
    # No `tag` yet (custom emoji), and no empty arrays: AS2 Core says to omit them.
    if actor.fields:
        obj["attachment"] = [
            {"type": "PropertyValue", "name": field.name, "value": field.value_html}
            for field in actor.fields
        ]
    if actor.shared_inbox is not None:
        obj["endpoints"] = {"sharedInbox": actor.shared_inbox}
    if actor.icon is not None:
        obj["icon"] = _image(actor.icon)
    if actor.image is not None:
        obj["image"] = _image(actor.image)
    return obj


def render_person(actor: Actor) -> dict[str, Any]:
    """A user's actor document: a Person, or a Service when the account is a bot."""
    return document(actor_object(actor, "Service" if actor.bot else "Person"))


def render_application(actor: Actor) -> dict[str, Any]:
    """The instance actor: an Application that signs the instance's own fetches."""
    return document(actor_object(actor, "Application"))


# --- posts ----------------------------------------------------------------------------


def addressing(
    visibility: str, followers: str, mentioned: Sequence[str]
) -> tuple[list[str], list[str]]:
    """`to` and `cc` of a post by visibility, as Mastodon addresses them."""
    others = list(dict.fromkeys(mentioned))
    if visibility == "public":
        return [PUBLIC], [followers, *others]
    if visibility == "unlisted":
        return [followers], [PUBLIC, *others]
    if visibility == "followers":
        return [followers], others
    if visibility == "direct":
        return others, []
    if visibility == "local":
        raise NotFederated("local-only posts are never rendered for other servers")
    raise ValueError(f"unknown visibility {visibility!r}")


def _approval(uris: list[str]) -> dict[str, Any]:
    # Both generations of GoToSocial's terms, so old and new readers understand.
    return {"always": uris, "automaticApproval": uris}


def interaction_policy(note: Note) -> dict[str, Any]:
    """Who may like, reply to and announce the post without asking (GoToSocial's terms).

    The author may always; people mentioned may always reply (GoToSocial assumes
    both anyway); only public and unlisted posts can be announced.
    """
    author = note.attributed_to
    repliers = [author, *(m.href for m in note.mentions if m.href != author)]
    return {
        "canLike": _approval([PUBLIC] if note.allow_likes else [author]),
        "canReply": _approval([PUBLIC] if note.allow_replies else list(dict.fromkeys(repliers))),
        "canAnnounce": _approval(
            [PUBLIC] if note.visibility in ("public", "unlisted") else [author]
        ),
    }


def note_object(note: Note) -> dict[str, Any]:
    to, cc = addressing(note.visibility, note.followers, [m.href for m in note.mentions])
    obj: dict[str, Any] = {
        "id": note.id,
        "type": "Note",
        "summary": note.summary or None,
        "inReplyTo": note.in_reply_to,
        "published": iso(note.published),
    }
    if note.updated is not None:
        obj["updated"] = iso(note.updated)
    if note.url is not None:
        obj["url"] = note.url
    obj["attributedTo"] = note.attributed_to
    obj["to"] = to
    obj["cc"] = cc
    obj["sensitive"] = note.sensitive
    obj["content"] = note.content_html
    if note.language:
        obj["contentMap"] = {note.language: note.content_html}
    if note.source is not None:
        obj["source"] = {"content": note.source, "mediaType": "text/markdown"}
    if note.attachments:
        obj["attachment"] = [attachment_object(a) for a in note.attachments]
    tags = [{"type": "Mention", "href": m.href, "name": m.name} for m in note.mentions] + [
        {"type": "Hashtag", "href": h.href, "name": h.name} for h in note.hashtags
    ]
    if tags:
        obj["tag"] = tags
    if note.replies is not None:
        obj["replies"] = note.replies
    obj["interactionPolicy"] = interaction_policy(note)
    return obj


def render_note(note: Note) -> dict[str, Any]:
    return document(note_object(note))


def create_activity(note: Note) -> dict[str, Any]:
    """The Create that published a Note: `<note id>/activity`, addressed as the Note."""
    obj = note_object(note)
    return {
        "id": f"{note.id}/activity",
        "type": "Create",
        "actor": note.attributed_to,
        "published": obj["published"],
        "to": obj["to"],
        "cc": obj["cc"],
        "object": obj,
    }


def render_create(note: Note) -> dict[str, Any]:
    return document(create_activity(note))


def announce_activity(share: Announce) -> dict[str, Any]:
    if share.visibility == "public":
        to, cc = [PUBLIC], [share.object_author, share.followers]
    elif share.visibility == "unlisted":
        to, cc = [share.followers], [PUBLIC, share.object_author]
    else:
        raise NotFederated(f"a {share.visibility} post is not announced to other servers")
    return {
        "id": share.id,
        "type": "Announce",
        "actor": share.actor,
        "published": iso(share.published),
        "to": to,
        "cc": cc,
        "object": share.object_id,
    }


def render_announce(share: Announce) -> dict[str, Any]:
    return document(announce_activity(share))


def render_tombstone(
    object_id: str, deleted: datetime | None = None, former_type: str | None = None
) -> dict[str, Any]:
    """What a deleted object's id answers (with 410 Gone)."""
    obj: dict[str, Any] = {"id": object_id, "type": "Tombstone"}
    if former_type is not None:
        obj["formerType"] = former_type
    if deleted is not None:
        obj["deleted"] = iso(deleted)
    return document(obj)


# --- collections ----------------------------------------------------------------------


def render_ordered_collection(
    collection_id: str,
    total: int,
    first: str | None = None,
    *,
    last: str | None = None,
    items: Sequence[str | dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A collection: its size and the URL of its first page, or (small ones) its items.

    Empty item lists are left out, never served as `[]` (AS2 Core, section 4.1).
    """
    obj: dict[str, Any] = {"id": collection_id, "type": "OrderedCollection", "totalItems": total}
    if first is not None:
        obj["first"] = first
    if last is not None:
        obj["last"] = last
    if items:
        obj["orderedItems"] = list(items)
    return document(obj)


def render_ordered_collection_page(
    page_id: str,
    part_of: str,
    items: Sequence[str | dict[str, Any]],
    next: str | None = None,
    prev: str | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {"id": page_id, "type": "OrderedCollectionPage"}
    if next is not None:
        obj["next"] = next
    if prev is not None:
        obj["prev"] = prev
    obj["partOf"] = part_of
    if items:
        obj["orderedItems"] = list(items)
    return document(obj)
