"""federation.limits: the one JSON parser with its depth bound, and the document check that
names the first property past a bound; and fetched documents read through both."""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation import limits
from federation.fetch import FetchError, fetch_json
from tests.federation.test_fetch_deliver import (  # noqa: F401 - fixtures
    Reply,
    Seen,
    activity_json,
    client,
    serve,
)

D = limits.MAX_JSON_DEPTH


def arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


# ---- parse_json: depth


@pytest.mark.parametrize("depth", [D + 1, 40, 1020, 1024, 1025, 100_000])
def test_documents_nested_deeper_than_the_bound_are_refused_whatever_the_depth(
    depth: int,
) -> None:
    with pytest.raises(limits.LimitExceeded) as refused:
        limits.parse_json(arrays(depth))
    assert refused.value.limit == D
    assert f"deeper than {D}" in str(refused.value)


def test_documents_at_the_bound_are_read() -> None:
    assert limits.parse_json(arrays(D)) == json.loads(arrays(D))
    document = {"a": json.loads(arrays(D - 1))}
    assert limits.parse_json(orjson.dumps(document)) == document


@pytest.mark.parametrize("text", [b"{", b"", b"NaN", b'"\\ud800"', b"\xff"])
def test_what_is_not_json_is_a_value_error_not_a_limit(text: bytes) -> None:
    with pytest.raises(ValueError) as refused:
        limits.parse_json(text)
    assert not isinstance(refused.value, limits.LimitExceeded)


@pytest.mark.parametrize("text", [b'{"name": "a\\u0000b"}', '{"name": "a\\u0000b"}'])
def test_nul_characters_are_refused_postgresql_cannot_store_them(text: bytes | str) -> None:
    with pytest.raises(limits.LimitExceeded) as refused:
        limits.parse_json(text)
    assert "NUL" in refused.value.reason and refused.value.limit == 0


@given(
    st.recursive(
        # orjson reads integers past 64 bits as floats; we read no such numbers.
        st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=3), children, max_size=3)
        ),
        max_leaves=60,
    )
)
def test_parse_json_agrees_with_the_standard_library_within_the_bound(value: Any) -> None:
    text = json.dumps(value)
    if "\\u0000" in text:
        with pytest.raises(limits.LimitExceeded):
            limits.parse_json(text)
        return
    try:
        parsed = limits.parse_json(text)
    except limits.LimitExceeded:
        with pytest.raises(limits.LimitExceeded):
            limits.check_depth(value)
        return
    assert parsed == json.loads(text)
    limits.check_depth(parsed)


# ---- check_document


def note(**extra: Any) -> dict[str, Any]:
    return {
        "id": "https://remote.example/notes/1",
        "type": "Create",
        "actor": "https://remote.example/users/a",
        "object": {
            "id": "https://remote.example/notes/1/object",
            "type": "Note",
            "content": "<p>hi</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            **extra,
        },
    }


def refused(document: Any) -> tuple[str, int]:
    with pytest.raises(limits.LimitExceeded) as caught:
        limits.check_document(document)
    return caught.value.field, caught.value.limit


LONG = "https://remote.example/" + "x" * limits.MAX_ID_BYTES
BIG_CONTENT = "あ" * (limits.MAX_CONTENT_BYTES // 3 + 1)  # three bytes each in UTF-8
TOO_MANY_TAGS = [{"type": "Hashtag", "name": f"#{i}"} for i in range(limits.MAX_TAGS + 1)]


def test_a_plain_activity_passes() -> None:
    limits.check_document(note(tag=[{"type": "Mention", "href": "https://remote.example/u"}]))


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"inReplyTo": LONG}, "object.inReplyTo"),
        ({"inReplyTo": {"id": LONG, "type": "Note"}}, "object.inReplyTo.id"),
        ({"url": [{"type": "Link", "href": LONG}]}, "object.url[0].href"),
        ({"cc": ["https://remote.example/f", LONG]}, "object.cc[1]"),
        ({"attachment": [{"type": "Image", "url": LONG}]}, "object.attachment[0].url"),
        ({"replies": {"first": {"next": LONG}}}, "object.replies.first.next"),
        ({"contentMap": {"ja": BIG_CONTENT}}, "object.contentMap.ja"),
        ({"source": {"content": "x" * (limits.MAX_CONTENT_BYTES + 1)}}, "object.source.content"),
        ({"name": "x" * (limits.MAX_SUMMARY_BYTES + 1)}, "object.name"),
        ({"tag": TOO_MANY_TAGS}, "object.tag"),
    ],
)  # fmt: skip
def test_the_first_place_past_a_bound_is_named(extra: dict[str, Any], field: str) -> None:
    assert refused(note(**extra))[0] == field


def test_ids_are_measured_in_utf8_bytes() -> None:
    base = "https://remote.example/"
    fits = base + "é" * ((limits.MAX_ID_BYTES - len(base)) // 2)
    limits.check_document({"id": fits})
    assert refused({"id": fits + "é"}) == ("id", limits.MAX_ID_BYTES)


def test_recipients_are_counted_across_to_cc_bto_bcc_and_audience() -> None:
    share = limits.MAX_RECIPIENTS // 5
    addresses = {
        name: [f"https://r.example/{name}/{i}" for i in range(share)]
        for name in ("to", "cc", "bto", "bcc", "audience")
    }
    limits.check_document(addresses)
    addresses["audience"].append("https://r.example/one-more")
    assert refused(addresses) == ("audience", limits.MAX_RECIPIENTS)


def test_an_actor_with_a_long_username_or_inbox_is_refused() -> None:
    actor = {"id": "https://r.example/u/a", "type": "Person", "preferredUsername": "a"}
    limits.check_document(actor)
    name = "a" * (limits.MAX_USERNAME_BYTES + 1)
    assert refused({**actor, "preferredUsername": name}) == (
        "preferredUsername",
        limits.MAX_USERNAME_BYTES,
    )
    assert refused({**actor, "endpoints": {"sharedInbox": LONG}})[0] == "endpoints.sharedInbox"
    assert refused({**actor, "publicKey": {"id": LONG}})[0] == "publicKey.id"


def test_check_document_bounds_depth_too() -> None:
    document: Any = {"a": 1}
    for _ in range(D):
        document = {"object": document}
    assert refused(document) == ("object" + ".object" * (D - 1), D)


# ---- fetched documents


async def test_a_fetched_document_over_a_limit_is_a_fetch_error(
    serve: Any,  # noqa: F811
    client: httpx.AsyncClient,  # noqa: F811
) -> None:
    async def handler(seen: Seen) -> Reply:
        return activity_json({"id": server.url(seen.target), "type": "Note", "inReplyTo": LONG})

    server = await serve(handler)
    with pytest.raises(FetchError) as failed:
        await fetch_json(client, server.url("/notes/1"), signer=None, allow_private=True)
    assert failed.value.reason == (
        f"over a limit: inReplyTo: an id or URL longer than {limits.MAX_ID_BYTES} bytes"
    )


async def test_a_fetched_document_nested_1020_deep_is_a_fetch_error(
    serve: Any,  # noqa: F811
    client: httpx.AsyncClient,  # noqa: F811
) -> None:
    async def handler(seen: Seen) -> Reply:
        document = orjson.dumps({"id": server.url(seen.target), "type": "Note", "x": "deep"})
        body = document.replace(b'"deep"', arrays(1020).encode())
        return Reply(200, {"Content-Type": "application/activity+json"}, body)

    server = await serve(handler)
    with pytest.raises(FetchError) as failed:
        await fetch_json(client, server.url("/notes/2"), signer=None, allow_private=True)
    assert f"deeper than {D}" in failed.value.reason


async def test_a_fetched_document_with_a_nul_character_is_a_fetch_error(
    serve: Any,  # noqa: F811
    client: httpx.AsyncClient,  # noqa: F811
) -> None:
    async def handler(seen: Seen) -> Reply:
        return activity_json({"id": server.url(seen.target), "type": "Person", "name": "a\x00"})

    server = await serve(handler)
    with pytest.raises(FetchError) as failed:
        await fetch_json(client, server.url("/users/nul"), signer=None, allow_private=True)
    assert "NUL" in failed.value.reason
