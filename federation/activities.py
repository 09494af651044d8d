"""Activities we send about our objects: Update, Delete, Like, Follow, Block, Undo, Move,
Flag.

Create and Announce live beside the Note they carry (`vocab.create_activity`,
`vocab.announce_activity`); everything here wraps ids or already rendered objects.
Every function returns a document (with our `@context`) ready to sign and POST.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from federation.vocab import PUBLIC, Note, document, iso, note_object


def update_note(note: Note, updated: datetime, serial: int) -> dict[str, Any]:
    """`Update(Note)` after an edit: the whole new Note, addressed as the Note. `serial`
    tells one update of the note from the next (its id must differ each time)."""
    obj = note_object(note)
    return document(
        {
            "id": f"{note.id}#updates/{serial}",
            "type": "Update",
            "actor": note.attributed_to,
            "published": iso(updated),
            "to": obj["to"],
            "cc": obj["cc"],
            "object": obj,
        }
    )


def delete_object(
    actor: str, object_id: str, to: Sequence[str], cc: Sequence[str], former_type: str
) -> dict[str, Any]:
    """`Delete` of a post, with the Tombstone embedded as Mastodon sends it."""
    return document(
        {
            "id": f"{object_id}#delete",
            "type": "Delete",
            "actor": actor,
            "to": list(to),
            "cc": list(cc),
            "object": {"id": object_id, "type": "Tombstone", "formerType": former_type},
        }
    )


def undo(
    actor: str, inner: dict[str, Any], to: Sequence[str], cc: Sequence[str] = ()
) -> dict[str, Any]:
    """`Undo` of an activity we sent before, embedding it (without its `@context`)."""
    embedded = {key: value for key, value in inner.items() if key != "@context"}
    return document(
        {
            "id": f"{embedded['id']}/undo",
            "type": "Undo",
            "actor": actor,
            "to": list(to),
            "cc": list(cc),
            "object": embedded,
        }
    )


def like(activity_id: str, actor: str, object_id: str, object_author: str) -> dict[str, Any]:
    return document(
        {
            "id": activity_id,
            "type": "Like",
            "actor": actor,
            "object": object_id,
            "to": [object_author],
        }
    )


def follow(activity_id: str, actor: str, object_id: str) -> dict[str, Any]:
    return document(
        {
            "id": activity_id,
            "type": "Follow",
            "actor": actor,
            "object": object_id,
            "to": [object_id],
        }
    )


def block(activity_id: str, actor: str, object_id: str) -> dict[str, Any]:
    return document(
        {"id": activity_id, "type": "Block", "actor": actor, "object": object_id, "to": [object_id]}
    )


def flag(
    activity_id: str, actor: str, account: str, posts: Sequence[str], content: str
) -> dict[str, Any]:
    """`Flag`: a report about `account` (and some of its posts) for its instance's
    moderators, as Mastodon sends it: from the instance actor, the account first among
    the objects, the comment as `content`, addressed to the account."""
    return document(
        {
            "id": activity_id,
            "type": "Flag",
            "actor": actor,
            "content": content,
            "object": [account, *posts],
            "to": [account],
        }
    )


def update_actor(actor_document: dict[str, Any], serial: int) -> dict[str, Any]:
    """`Update(Person)` after a profile change, carrying the whole actor document."""
    obj = {key: value for key, value in actor_document.items() if key != "@context"}
    return document(
        {
            "id": f"{obj['id']}#updates/{serial}",
            "type": "Update",
            "actor": obj["id"],
            "to": [PUBLIC],
            "cc": [obj["followers"]] if obj.get("followers") else [],
            "object": obj,
        }
    )


def delete_actor(actor: str) -> dict[str, Any]:
    """`Delete` of the actor itself, which Mastodon reads as the account's deletion."""
    return document(
        {
            "id": f"{actor}#delete",
            "type": "Delete",
            "actor": actor,
            "to": [PUBLIC],
            "object": actor,
        }
    )
