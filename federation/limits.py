"""Bounds on what another server may send us, and the one JSON parser that applies them.

Every ActivityPub document we read from the network (a delivery at the inbox, the
stored activity its job applies later, an actor, note or collection page we fetch)
goes through `parse_json` and `check_document`. Within these bounds, nothing another
server sends can reach a database constraint (PostgreSQL refuses btree index entries
over 2,704 bytes) or Python's recursion limit; past them the document is refused as
a whole, naming the first property over its bound.
"""

from __future__ import annotations

from typing import Any

import orjson

# Bytes (UTF-8) of an id or a URL: the activity's id, actor, object, inReplyTo, url,
# href, the addresses in to/cc, an actor's inbox and key id, ... Everything we store in
# an indexed column (inbox_activities.ap_id, posts.ap_id, accounts.ap_id, ...) is one.
MAX_ID_BYTES = 2048
# Levels of nesting of objects and arrays: `{}` is 1, `{"object": {}}` 2. Real activities
# use under 10 (a Create holding a Note holding a tag list of objects is 5).
MAX_JSON_DEPTH = 32
# Addresses of one object: to, cc, bto, bcc and audience together.
MAX_RECIPIENTS = 1000
# Items of one object's `tag` (mentions, hashtags, custom emoji): Misskey's 3,000-character
# notes can carry a few hundred emoji.
MAX_TAGS = 256
# Items of one object's `attachment`: a note's media (Misskey allows 16 files) or an
# actor's profile fields (Pleroma reads up to 20 of another server's).
MAX_ATTACHMENTS = 32
# Bytes of a text: `content` (and each contentMap value, `_misskey_content`, a source's
# content) for the body of a post; `summary`, `name` (and their maps) for a content
# warning, a display name, a bio or a title.
MAX_CONTENT_BYTES = 262_144
MAX_SUMMARY_BYTES = 65_536
# Bytes of `preferredUsername`, stored with the domain in a unique index.
MAX_USERNAME_BYTES = 256

# Properties that hold ids or links: a string, an object (whose own id, href or url is
# checked where it is), or a list of those.
LINK_PROPERTIES = frozenset(
    {
        "@id",
        "id",
        "actor",
        "object",
        "target",
        "origin",
        "result",
        "instrument",
        "inReplyTo",
        "url",
        "href",
        "attributedTo",
        "to",
        "cc",
        "bto",
        "bcc",
        "audience",
        "context",
        "conversation",
        "inbox",
        "outbox",
        "followers",
        "following",
        "featured",
        "featuredTags",
        "liked",
        "likes",
        "shares",
        "replies",
        "sharedInbox",
        "owner",
        "controller",
        "publicKey",
        "partOf",
        "first",
        "last",
        "next",
        "prev",
        "current",
        "items",
        "orderedItems",
        "movedTo",
        "alsoKnownAs",
        "icon",
        "image",
        "tag",
        "attachment",
        "quoteUrl",
        "quoteUri",
        "_misskey_quote",
    }
)
ADDRESS_PROPERTIES = ("to", "cc", "bto", "bcc", "audience")
COUNTED_PROPERTIES = {"tag": MAX_TAGS, "attachment": MAX_ATTACHMENTS}
TEXT_PROPERTIES = {
    "content": MAX_CONTENT_BYTES,
    "_misskey_content": MAX_CONTENT_BYTES,
    "summary": MAX_SUMMARY_BYTES,
    "_misskey_summary": MAX_SUMMARY_BYTES,
    "name": MAX_SUMMARY_BYTES,
    "value": MAX_SUMMARY_BYTES,
    "preferredUsername": MAX_USERNAME_BYTES,
}
TEXT_MAPS = {
    "contentMap": MAX_CONTENT_BYTES,
    "summaryMap": MAX_SUMMARY_BYTES,
    "nameMap": MAX_SUMMARY_BYTES,
}


class LimitExceeded(ValueError):
    """A document over one of the bounds: `field` is where (`object.tag[3].href`),
    `reason` what, in a few words, and `limit` the bound it passed."""

    def __init__(self, field: str, reason: str, limit: int) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.limit = limit


def parse_json(data: bytes | str) -> Any:
    """A JSON document, refused (LimitExceeded) when nested deeper than MAX_JSON_DEPTH or
    holding a NUL character; ValueError when it is not JSON (or holds a lone surrogate:
    PostgreSQL refuses both).

    The one parser for what other servers send: the request that takes an activity in
    and the job that applies it later read it with the same bound.
    """
    if b"\\u0000" in data if isinstance(data, bytes) else "\\u0000" in data:
        # PostgreSQL cannot store NUL in text or jsonb: at most none of them.
        raise LimitExceeded("(document)", "NUL characters (\\u0000) are not accepted", 0)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):
            # orjson stops at 1,024 levels by itself, before building anything.
            raise _too_deep("") from None
        raise
    check_depth(value)
    return value


def check_depth(value: Any) -> None:
    """LimitExceeded when `value` nests objects and arrays deeper than MAX_JSON_DEPTH."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise _too_deep("")
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]


def check_document(document: Any) -> None:
    """LimitExceeded naming the first place where `document` passes a bound: its depth,
    an id or link longer than MAX_ID_BYTES, too many addresses, tags or attachments in
    one object, a text over its size."""
    stack: list[tuple[Any, str, int]] = [(document, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep(path)
        if isinstance(value, list):
            stack.extend(
                (item, f"{path}[{index}]", depth + 1)
                for index, item in enumerate(value)
                if isinstance(item, dict | list)
            )
            continue
        if not isinstance(value, dict):
            continue
        _check_object(value, path)
        stack.extend(
            (item, _at(path, key), depth + 1)
            for key, item in value.items()
            if isinstance(item, dict | list)
        )


def _check_object(obj: dict[str, Any], path: str) -> None:
    recipients = 0
    for key, value in obj.items():
        if key in LINK_PROPERTIES:
            _check_links(value, path, key)
        if key in ADDRESS_PROPERTIES:
            recipients += len(value) if isinstance(value, list) else 1
            if recipients > MAX_RECIPIENTS:
                raise LimitExceeded(
                    _at(path, key),
                    f"more than {MAX_RECIPIENTS} recipients in to, cc, bto, bcc and audience",
                    MAX_RECIPIENTS,
                )
        most = COUNTED_PROPERTIES.get(key)
        if most is not None and isinstance(value, list) and len(value) > most:
            raise LimitExceeded(_at(path, key), f"more than {most} items", most)
        size = TEXT_PROPERTIES.get(key)
        if size is not None and isinstance(value, str) and _over(value, size):
            raise LimitExceeded(_at(path, key), f"text longer than {size} bytes", size)
        size = TEXT_MAPS.get(key)
        if size is not None and isinstance(value, dict):
            for language, text in value.items():
                if isinstance(text, str) and _over(text, size):
                    field = f"{_at(path, key)}.{language}"
                    raise LimitExceeded(field, f"text longer than {size} bytes", size)


def _check_links(value: Any, path: str, key: str) -> None:
    if isinstance(value, str):
        if _over(value, MAX_ID_BYTES):
            raise _too_long(_at(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str) and _over(item, MAX_ID_BYTES):
                raise _too_long(f"{_at(path, key)}[{index}]")


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _over(text: str, limit: int) -> bool:
    """Whether `text` takes more than `limit` bytes in UTF-8."""
    # At most 4 bytes a character: most strings are measured without encoding them.
    if len(text) * 4 <= limit:
        return False
    return len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit


def _too_long(field: str) -> LimitExceeded:
    return LimitExceeded(field, f"an id or URL longer than {MAX_ID_BYTES} bytes", MAX_ID_BYTES)


def _too_deep(field: str) -> LimitExceeded:
    return LimitExceeded(
        field or "(document)", f"nested deeper than {MAX_JSON_DEPTH} levels", MAX_JSON_DEPTH
    )
