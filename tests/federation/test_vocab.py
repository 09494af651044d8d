"""Rendering our objects as ActivityStreams: shapes, addressing, and JSON-LD validity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from federation import jsonld, vocab
from federation.vocab import PUBLIC

AS = "https://www.w3.org/ns/activitystreams#"
SEC = "https://w3id.org/security#"
BASE = "https://stgy.example"
ALICE = f"{BASE}/users/alice"
BOB = "https://remote.example/users/bob"
WHEN = datetime(2025, 6, 1, 12, 30, 45, 123456, tzinfo=UTC)
PEM = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"


def person(**overrides: Any) -> vocab.Actor:
    fields: dict[str, Any] = {
        "id": ALICE,
        "username": "alice",
        "name": "Alice",
        "inbox": f"{ALICE}/inbox",
        "outbox": f"{ALICE}/outbox",
        "public_key": vocab.PublicKey(f"{ALICE}#main-key", ALICE, PEM),
        "summary_html": "<p>Hello</p>",
        "url": f"{BASE}/@alice",
        "shared_inbox": f"{BASE}/inbox",
        "followers": f"{ALICE}/followers",
        "following": f"{ALICE}/following",
        "featured": f"{ALICE}/collections/featured",
        "published": datetime(2025, 1, 2, tzinfo=UTC),
        "icon": vocab.Image(f"{BASE}/media/a.png", "image/png"),
        "image": vocab.Image(f"{BASE}/media/h.jpg"),
        "fields": (vocab.PropertyValue("Site", '<a href="https://a.example">a</a>'),),
        "manually_approves_followers": True,
        "discoverable": True,
        "indexable": True,
    }
    return vocab.Actor(**{**fields, **overrides})


def note(**overrides: Any) -> vocab.Note:
    fields: dict[str, Any] = {
        "id": f"{ALICE}/posts/1",
        "attributed_to": ALICE,
        "followers": f"{ALICE}/followers",
        "content_html": "<p>Hi @bob #fedi</p>",
        "published": WHEN,
        "visibility": "public",
        "url": f"{BASE}/@alice/1",
        "source": "Hi @bob@remote.example #fedi",
        "language": "en",
        "mentions": (vocab.Mention(BOB, "@bob@remote.example"),),
        "hashtags": (vocab.Hashtag(f"{BASE}/tags/fedi", "#fedi"),),
        "replies": f"{ALICE}/posts/1/replies",
    }
    return vocab.Note(**{**fields, **overrides})


def undefined_terms(node: Any) -> list[str]:
    """Keys that expanded to a blank-node IRI: terms no context defines (AS2's @vocab _:)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("_:"):
                found.append(key)
            found.extend(undefined_terms(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(undefined_terms(item))
    return found


def expands_cleanly(document: dict[str, Any]) -> dict[str, Any]:
    expanded = jsonld.expand(document)
    assert len(expanded) == 1
    assert undefined_terms(expanded) == []
    return expanded[0]


def test_person_shape_like_mastodon() -> None:
    doc = vocab.render_person(person())
    assert doc["@context"][:2] == [jsonld.AS_CONTEXT, jsonld.SECURITY_CONTEXT]
    assert doc["type"] == "Person" and doc["id"] == ALICE
    assert doc["preferredUsername"] == "alice" and doc["name"] == "Alice"
    assert doc["inbox"] == f"{ALICE}/inbox" and doc["outbox"] == f"{ALICE}/outbox"
    assert doc["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert doc["publicKey"] == {"id": f"{ALICE}#main-key", "owner": ALICE, "publicKeyPem": PEM}
    assert doc["published"] == "2025-01-02T00:00:00Z"
    assert doc["manuallyApprovesFollowers"] is True and doc["discoverable"] is True
    assert doc["icon"] == {"type": "Image", "url": f"{BASE}/media/a.png", "mediaType": "image/png"}
    assert doc["image"] == {"type": "Image", "url": f"{BASE}/media/h.jpg"}
    assert doc["attachment"] == [
        {"type": "PropertyValue", "name": "Site", "value": '<a href="https://a.example">a</a>'}
    ]


def test_person_expands_to_the_right_iris() -> None:
    node = expands_cleanly(vocab.render_person(person()))
    assert node["@type"] == [AS + "Person"]
    assert node[AS + "preferredUsername"] == [{"@value": "alice"}]
    assert node["http://www.w3.org/ns/ldp#inbox"] == [{"@id": f"{ALICE}/inbox"}]
    key = node[SEC + "publicKey"][0]
    assert key[SEC + "owner"] == [{"@id": ALICE}]
    assert key[SEC + "publicKeyPem"] == [{"@value": PEM}]
    assert node["http://joinmastodon.org/ns#featured"] == [{"@id": f"{ALICE}/collections/featured"}]
    assert node["http://joinmastodon.org/ns#discoverable"] == [{"@value": True}]
    assert node[AS + "manuallyApprovesFollowers"] == [{"@value": True}]
    field = node[AS + "attachment"][0]
    assert field["@type"] == ["http://schema.org#PropertyValue"]
    assert field["http://schema.org#value"] == [{"@value": '<a href="https://a.example">a</a>'}]


def test_bot_is_a_service_and_optional_parts_are_left_out() -> None:
    doc = vocab.render_person(person(bot=True, icon=None, image=None, shared_inbox=None))
    assert doc["type"] == "Service"
    assert "icon" not in doc and "image" not in doc and "endpoints" not in doc


def test_application_for_the_instance_actor() -> None:
    actor = vocab.Actor(
        id=f"{BASE}/actor",
        username="stgy.example",
        name="stgy",
        inbox=f"{BASE}/actor/inbox",
        outbox=f"{BASE}/actor/outbox",
        public_key=vocab.PublicKey(f"{BASE}/actor#main-key", f"{BASE}/actor", PEM),
        manually_approves_followers=True,
    )
    doc = vocab.render_application(actor)
    assert doc["type"] == "Application" and doc["preferredUsername"] == "stgy.example"
    assert "followers" not in doc and "following" not in doc
    expands_cleanly(doc)


def test_note_shape() -> None:
    doc = vocab.render_note(note(summary="cw", sensitive=True, updated=WHEN))
    assert doc["type"] == "Note" and doc["attributedTo"] == ALICE
    assert doc["published"] == "2025-06-01T12:30:45Z" and doc["updated"] == doc["published"]
    assert doc["content"] == "<p>Hi @bob #fedi</p>"
    assert doc["contentMap"] == {"en": doc["content"]}
    assert doc["source"] == {
        "content": "Hi @bob@remote.example #fedi",
        "mediaType": "text/markdown",
    }
    assert doc["summary"] == "cw" and doc["sensitive"] is True
    assert doc["inReplyTo"] is None and "attachment" not in doc  # no empty arrays (AS2)
    assert doc["tag"] == [
        {"type": "Mention", "href": BOB, "name": "@bob@remote.example"},
        {"type": "Hashtag", "href": f"{BASE}/tags/fedi", "name": "#fedi"},
    ]
    assert doc["replies"] == f"{ALICE}/posts/1/replies"


def test_note_without_language_or_warning() -> None:
    doc = vocab.render_note(note(language=None, in_reply_to=f"{BOB}/statuses/9"))
    assert "contentMap" not in doc and "updated" not in doc
    assert doc["summary"] is None and doc["sensitive"] is False
    assert doc["inReplyTo"] == f"{BOB}/statuses/9"


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        ("public", [PUBLIC], [f"{ALICE}/followers", BOB]),
        ("unlisted", [f"{ALICE}/followers"], [PUBLIC, BOB]),
        ("followers", [f"{ALICE}/followers"], [BOB]),
        ("direct", [BOB], []),
    ],
)
def test_note_addressing_by_visibility(visibility: str, to: list[str], cc: list[str]) -> None:
    doc = vocab.render_note(note(visibility=visibility))
    assert (doc["to"], doc["cc"]) == (to, cc)
    expands_cleanly(doc)


def test_local_only_posts_are_never_rendered() -> None:
    with pytest.raises(vocab.NotFederated):
        vocab.render_note(note(visibility="local"))
    with pytest.raises(vocab.NotFederated):
        vocab.create_activity(note(visibility="local"))
    with pytest.raises(ValueError, match="unknown visibility"):
        vocab.render_note(note(visibility="secret"))


def test_interaction_policy() -> None:
    open_policy = vocab.render_note(note())["interactionPolicy"]
    for sub in ("canLike", "canReply", "canAnnounce"):
        assert open_policy[sub] == {"always": [PUBLIC], "automaticApproval": [PUBLIC]}
    closed = vocab.render_note(note(allow_likes=False, allow_replies=False, visibility="followers"))
    policy = closed["interactionPolicy"]
    assert policy["canLike"]["always"] == [ALICE]
    # The author and whoever is mentioned may always reply.
    assert policy["canReply"]["always"] == [ALICE, BOB]
    assert policy["canAnnounce"] == {"always": [ALICE], "automaticApproval": [ALICE]}
    node = expands_cleanly(closed)
    gts = "https://gotosocial.org/ns#"
    can_like = node[gts + "interactionPolicy"][0][gts + "canLike"][0]
    assert can_like[gts + "always"] == [{"@id": ALICE}]
    assert can_like[gts + "automaticApproval"] == [{"@id": ALICE}]


def test_note_expands_to_the_right_iris() -> None:
    node = expands_cleanly(vocab.render_note(note(summary="cw", sensitive=True)))
    assert node["@type"] == [AS + "Note"]
    assert node[AS + "sensitive"] == [{"@value": True}]
    assert {"@value": "<p>Hi @bob #fedi</p>", "@language": "en"} in node[AS + "content"]
    assert node[AS + "to"] == [{"@id": PUBLIC}]
    tags = node[AS + "tag"]
    assert {t["@type"][0] for t in tags} == {AS + "Mention", AS + "Hashtag"}


def test_create_wraps_the_note() -> None:
    doc = vocab.render_create(note(visibility="unlisted"))
    assert doc["id"] == f"{ALICE}/posts/1/activity" and doc["type"] == "Create"
    assert doc["actor"] == ALICE and doc["object"]["id"] == f"{ALICE}/posts/1"
    assert (doc["to"], doc["cc"]) == (doc["object"]["to"], doc["object"]["cc"])
    assert "@context" not in doc["object"]
    expands_cleanly(doc)


def test_announce_addressing() -> None:
    share = vocab.Announce(
        id=f"{ALICE}/posts/2/activity",
        actor=ALICE,
        followers=f"{ALICE}/followers",
        object_id=f"{BOB}/statuses/9",
        object_author=BOB,
        published=WHEN,
        visibility="public",
    )
    doc = vocab.render_announce(share)
    assert doc["type"] == "Announce" and doc["object"] == f"{BOB}/statuses/9"
    assert (doc["to"], doc["cc"]) == ([PUBLIC], [BOB, f"{ALICE}/followers"])
    expands_cleanly(doc)
    unlisted = vocab.announce_activity(
        vocab.Announce(**{**share.__dict__, "visibility": "unlisted"})
    )
    assert (unlisted["to"], unlisted["cc"]) == ([f"{ALICE}/followers"], [PUBLIC, BOB])
    with pytest.raises(vocab.NotFederated):
        vocab.announce_activity(vocab.Announce(**{**share.__dict__, "visibility": "followers"}))


def test_tombstone() -> None:
    doc = vocab.render_tombstone(f"{ALICE}/posts/1", WHEN, "Note")
    assert doc["type"] == "Tombstone" and doc["id"] == f"{ALICE}/posts/1"
    assert doc["deleted"] == "2025-06-01T12:30:45Z" and doc["formerType"] == "Note"
    node = expands_cleanly(doc)
    assert node["@type"] == [AS + "Tombstone"]
    assert "deleted" not in vocab.render_tombstone(ALICE)


def test_collections() -> None:
    collection = vocab.render_ordered_collection(
        f"{ALICE}/outbox", 3, f"{ALICE}/outbox?page=true", last=f"{ALICE}/outbox?min_id=0"
    )
    assert collection["type"] == "OrderedCollection" and collection["totalItems"] == 3
    assert collection["first"] == f"{ALICE}/outbox?page=true"
    assert "orderedItems" not in collection
    expands_cleanly(collection)
    page = vocab.render_ordered_collection_page(
        f"{ALICE}/outbox?page=true",
        f"{ALICE}/outbox",
        [vocab.create_activity(note()), BOB],
        next=f"{ALICE}/outbox?page=true&max_id=1",
        prev=f"{ALICE}/outbox?page=true&min_id=1",
    )
    assert page["type"] == "OrderedCollectionPage" and page["partOf"] == f"{ALICE}/outbox"
    assert page["orderedItems"][1] == BOB and "@context" not in page["orderedItems"][0]
    node = expands_cleanly(page)
    items = node[AS + "items"][0]["@list"]
    assert items[0]["@type"] == [AS + "Create"] and items[1] == {"@id": BOB}
    empty = vocab.render_ordered_collection(f"{ALICE}/collections/featured", 0, items=[])
    assert "orderedItems" not in empty and "first" not in empty


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/activity+json", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ("application/json", True),
        ("application/activity+json, application/ld+json", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("text/html;q=0.5, application/activity+json", True),
        ("application/activity+json;q=0.4, text/html", False),
        ("application/activity+json;q=0", False),
        ("application/activity+json;q=nan", False),
        ("*/*", False),
        ("", False),
        (None, False),
    ],
)
def test_content_negotiation(accept: str | None, expected: bool) -> None:
    assert vocab.prefers_activity_json(accept) is expected


def test_jsonld_refuses_contexts_it_does_not_bundle() -> None:
    with pytest.raises(jsonld.JsonLdError, match="not bundled: https://evil.example/context"):
        jsonld.expand({"@context": "https://evil.example/context", "type": "Note"})
    with pytest.raises(Exception, match="not bundled"):
        jsonld.load_document("https://w3id.org/security/v2")
    for url in jsonld.bundled_urls():
        assert "@context" in jsonld.load_document(url)["document"]


def test_compact_round_trip() -> None:
    doc = vocab.render_note(note())
    compacted = jsonld.compact(jsonld.expand(doc), vocab.CONTEXT)
    assert compacted["id"] == doc["id"] and compacted["type"] == "Note"
    assert compacted["attributedTo"] == ALICE and compacted["sensitive"] is False
