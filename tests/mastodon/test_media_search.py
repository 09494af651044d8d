"""Media uploads and search v2 through Mastodon.py on a live instance (its worker makes the
renditions of large images), and the raw JSON checked against Mastodon's entities."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
import requests
from mastodon import MastodonAPIError, MastodonNotFoundError
from PIL import Image

from tests.conftest import LiveInstance
from tests.mastodon.conftest import Person, authorise, register_app, token_for
from tests.mastodon.entities import (
    ACCOUNT,
    HASHTAG,
    MEDIA_ATTACHMENT,
    MEDIA_META,
    SEARCH,
    STATUS,
    assert_entity,
)
from tests.mastodon.test_mastodon_py import logged_in_api
from tests.mastodon.test_statuses import bearer, eventually, second_api


@pytest.fixture
def closer() -> Iterator[ExitStack]:
    """Closes the clients a test opens."""
    with ExitStack() as stack:
        yield stack


def png(width: int, height: int, colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def assert_attachment(entity: dict[str, object]) -> None:
    assert_entity(entity, MEDIA_ATTACHMENT)
    assert_entity(entity["meta"], MEDIA_META)


def test_media_post_update_and_attach(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    closer: ExitStack,
    http: httpx.Client,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = closer.enter_context(bearer(live_instance, api))

    # A small image is processed in the request: 200 with its URLs and real sizes.
    small = api.media_post(
        png(300, 200), mime_type="image/png", description="blue", focus=(0.5, -0.25)
    )
    assert small["type"] == "image" and small["url"] and small["preview_url"]
    assert small["description"] == "blue"
    assert small["meta"]["original"] == {
        "width": 300,
        "height": 200,
        "size": "300x200",
        "aspect": 1.5,
    }
    assert small["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert small["blurhash"]
    got = raw.get(f"/api/v1/media/{small['id']}")
    assert got.status_code == 200, got.text
    assert_attachment(got.json())
    assert http.get(httpx.URL(got.json()["url"]).path).status_code == 200

    # A large one (over media.inline_pixels) goes to the worker: 202 with url null,
    # then GET answers 206 until it is done, then 200.
    posted = raw.post(
        "/api/v2/media",
        files={"file": ("big.png", png(1600, 1000), "image/png")},
        data={"description": "big"},
    )
    assert posted.status_code == 202, posted.text
    assert posted.json()["url"] is None
    assert_entity(posted.json(), MEDIA_ATTACHMENT)
    big_id = posted.json()["id"]
    first = raw.get(f"/api/v1/media/{big_id}")
    assert first.status_code in (200, 206), first.text
    if first.status_code == 206:
        assert first.json()["url"] is None

    def processed() -> object:
        found = api.media(big_id)
        return found if found["url"] is not None else None

    done = eventually(processed, "the big one processed")
    assert done["meta"]["original"]["size"] == "1600x1000"
    assert done["meta"]["small"]["width"] == live_instance.config.media.small_size
    assert raw.get(f"/api/v1/media/{big_id}").status_code == 200

    # Mastodon.py's synchronous upload polls until processed.
    waited = api.media_post(png(1200, 1000), mime_type="image/png", synchronous=True)
    assert waited["url"] is not None

    # The legacy v1 upload always answers the processed attachment.
    legacy = raw.post("/api/v1/media", files={"file": ("l.png", png(1300, 900), "image/png")})
    assert legacy.status_code == 200, legacy.text
    assert legacy.json()["url"] is not None
    assert_attachment(legacy.json())

    # An upload may be larger than other request bodies (limits.request_body_bytes).
    noisy = io.BytesIO()
    Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3)).save(noisy, "PNG")
    assert len(noisy.getvalue()) > live_instance.config.limits.request_body_bytes
    heavy = raw.post("/api/v2/media", files={"file": ("n.png", noisy.getvalue(), "image/png")})
    assert heavy.status_code == 200, heavy.text
    assert heavy.json()["meta"]["original"]["size"] == "800x800"

    # Alt text and focus change before it is attached.
    updated = api.media_update(small["id"], description="a blue rectangle", focus=(0.0, 0.1))
    assert updated["description"] == "a blue rectangle"
    assert updated["meta"]["focus"] == {"x": 0.0, "y": 0.1}

    # Only the uploader sees or edits it.
    _other, other_api = second_api(live_instance, session, http)
    try:
        other_api.media(small["id"])
        raise AssertionError("another person saw the upload")
    except MastodonNotFoundError:
        pass
    try:
        other_api.media_update(small["id"], description="mine now")
        raise AssertionError("another person edited the upload")
    except MastodonNotFoundError:
        pass

    # Attached to a status, shown in it; then no longer editable here (404, as Mastodon).
    status = api.status_post("two pictures", media_ids=[small["id"], big_id])
    attachments = status["media_attachments"]
    assert [str(a["id"]) for a in attachments] == [str(small["id"]), str(big_id)]
    assert attachments[0]["description"] == "a blue rectangle"
    shown = raw.get(f"/api/v1/statuses/{status['id']}")
    assert_entity(shown.json(), STATUS)
    for attachment in shown.json()["media_attachments"]:
        assert_attachment(attachment)
    assert raw.put(f"/api/v1/media/{small['id']}", data={"description": "x"}).status_code == 404
    assert raw.get(f"/api/v1/media/{small['id']}").status_code == 404


def test_media_bad_input_answers_json(
    live_instance: LiveInstance,
    http: httpx.Client,
    session: requests.Session,
    logged_in: httpx.Client,
    closer: ExitStack,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = closer.enter_context(bearer(live_instance, api))
    for answer in (
        raw.post("/api/v2/media", data={"description": "no file"}),
        raw.post("/api/v2/media", files={"file": ("a.txt", b"plain text", "text/plain")}),
        raw.post("/api/v2/media", files={"file": ("a.png", b"\x89PNG broken", "image/png")}),
        raw.post(
            "/api/v2/media",
            files={"file": ("a.png", png(20, 20), "image/png")},
            data={"focus": "3,4"},
        ),
        raw.post(
            "/api/v2/media",
            files={"file": ("a.png", png(20, 20), "image/png")},
            data={"description": "x" * 1501},
        ),
    ):
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"].startswith("Validation failed") or answer.json()["error"]
    # A declared type the bytes are not: refused as Mastodon refuses a type (422).
    lying = raw.post("/api/v2/media", files={"file": ("a.gif", png(20, 20), "image/gif")})
    assert lying.status_code == 422 and "file" in lying.json()["error"], lying.text
    assert raw.get("/api/v1/media/123456789").status_code == 404
    assert raw.get("/api/v1/media/abc").json() == {"error": "Record not found"}
    try:
        api.media_post(b"not an image", mime_type="image/png")
        raise AssertionError("a broken image was taken")
    except MastodonAPIError as exc:
        assert exc.args[1] == 422
    # Without a token, or a token without write:media.
    anonymous = http.post("/api/v2/media", files={"file": ("a.png", png(10, 10), "image/png")})
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": "The access token is invalid"}
    reader = register_app(http, scopes="read")
    code = authorise(logged_in, reader)["code"][0]
    token = token_for(http, reader, code).json()["access_token"]
    refused = http.post(
        "/api/v2/media",
        files={"file": ("a.png", png(10, 10), "image/png")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403
    assert refused.json() == {"error": "This action is outside the authorized scopes"}
    searched = http.get(
        "/api/v2/search", params={"q": "x"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert searched.status_code == 200, searched.text


def test_search_v2(
    live_instance: LiveInstance,
    session: requests.Session,
    logged_in: httpx.Client,
    closer: ExitStack,
    http: httpx.Client,
    person: Person,
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    raw = closer.enter_context(bearer(live_instance, api))
    word = "w" + uuid.uuid4().hex[:10]
    tag = "t" + uuid.uuid4().hex[:10]
    posted = api.status_post(f"The {word} is here #{tag}")

    found = api.search_v2(word, result_type="statuses")
    assert [str(s["id"]) for s in found["statuses"]] == [str(posted["id"])]
    assert found["accounts"] == [] and found["hashtags"] == []

    tags = api.search_v2(tag, result_type="hashtags")
    assert [t["name"] for t in tags["hashtags"]] == [tag]
    assert tags["hashtags"][0]["history"] == []

    accounts = api.search_v2(person.handle, result_type="accounts")
    assert [a["acct"] for a in accounts["accounts"]] == [person.handle]

    # All three kinds at once, raw, against the entities.
    everything = raw.get("/api/v2/search", params={"q": f"#{tag}"})
    assert everything.status_code == 200, everything.text
    assert_entity(everything.json(), SEARCH)
    assert [t["name"] for t in everything.json()["hashtags"]] == [tag]
    assert_entity(everything.json()["hashtags"][0], HASHTAG)
    who = raw.get("/api/v2/search", params={"q": person.handle, "type": "accounts"})
    assert_entity(who.json()["accounts"][0], ACCOUNT)

    # offset and limit page through; max_id pages statuses.
    second = api.status_post(f"Another {word}")
    both = raw.get("/api/v2/search", params={"q": word, "type": "statuses"}).json()["statuses"]
    assert {s["id"] for s in both} == {str(posted["id"]), str(second["id"])}
    one = raw.get("/api/v2/search", params={"q": word, "type": "statuses", "limit": 1})
    skipped = raw.get(
        "/api/v2/search", params={"q": word, "type": "statuses", "limit": 1, "offset": 1}
    )
    assert [s["id"] for s in one.json()["statuses"] + skipped.json()["statuses"]] == [
        s["id"] for s in both
    ]
    older = raw.get(
        "/api/v2/search", params={"q": word, "type": "statuses", "max_id": both[0]["id"]}
    )
    assert [s["id"] for s in older.json()["statuses"]] == [both[1]["id"]]

    # Without a token: public statuses still; resolve and offset need a person (401).
    anonymous = http.get("/api/v2/search", params={"q": word})
    assert anonymous.status_code == 200
    assert len(anonymous.json()["statuses"]) == 2
    tagged = http.get("/api/v2/search", params={"q": tag})
    assert "following" not in tagged.json()["hashtags"][0]
    refused = http.get("/api/v2/search", params={"q": word, "resolve": "true"})
    assert refused.status_code == 401 and "error" in refused.json()

    # Bad input: 422 with JSON.
    for params in (
        {"q": ""},
        {"q": word, "type": "posts"},
        {"q": word, "limit": "many"},
        {"q": word, "max_id": "x1"},
    ):
        bad = raw.get("/api/v2/search", params=params)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.json()["error"].startswith("Validation failed")
