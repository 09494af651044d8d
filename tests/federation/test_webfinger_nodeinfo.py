"""WebFinger resources and JRDs, host-meta, and NodeInfo documents."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - parsing our own output in a test
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation import nodeinfo as ni
from federation import webfinger as wf


@pytest.mark.parametrize(
    ("resource", "user", "host"),
    [
        ("acct:alice@stgy.example", "alice", "stgy.example"),
        ("acct:Alice@STGY.example", "Alice", "stgy.example"),
        ("ACCT:alice@localhost:8000", "alice", "localhost:8000"),
        ("alice@stgy.example", "alice", "stgy.example"),
        ("@alice@stgy.example", "alice", "stgy.example"),
        ("acct:al%69ce@stgy.example", "alice", "stgy.example"),
        ("acct:stgy.example@stgy.example", "stgy.example", "stgy.example"),
    ],
)
def test_acct_resources(resource: str, user: str, host: str) -> None:
    parsed = wf.parse_resource(resource)
    assert (parsed.scheme, parsed.user, parsed.host, parsed.url) == ("acct", user, host, None)


def test_url_resources() -> None:
    parsed = wf.parse_resource("https://STGY.example/users/alice")
    assert (parsed.scheme, parsed.host, parsed.user) == ("https", "stgy.example", None)
    assert parsed.url == "https://STGY.example/users/alice"
    local = wf.parse_resource("http://localhost:8000/users/alice")
    assert local.host == "localhost:8000" and local.hostname == "localhost"
    assert wf.parse_resource("https://stgy.example:443/users/a").host == "stgy.example"
    assert wf.parse_resource("http://stgy.example:80/users/a").host == "stgy.example"
    assert wf.parse_resource("https://stgy.example:80/users/a").host == "stgy.example:80"


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        ("", "empty"),
        ("alice", "user@host"),
        ("acct:alice", "user@host"),
        ("acct:@stgy.example", "user@host"),
        ("acct:alice@", "user@host"),
        ("acct:alice@bad_host!", "not a host name"),
        ("acct:alice@stgy.example/x", "not a host name"),
        ("mailto:alice@stgy.example", "unsupported resource scheme"),
        ("https:///users/alice", "needs a host"),
        ("https://user:pw@stgy.example/users/alice", "no user info"),
        ("https://stgy.example:99999/users/alice", "not a URL"),
        ("acct:alice smith@stgy.example", "spaces or control"),
        ("acct:alice\x00@stgy.example", "spaces or control"),
        ("acct:" + "a" * 3000 + "@stgy.example", "longer than"),
    ],
)
def test_bad_resources_say_why(resource: str, reason: str) -> None:
    with pytest.raises(wf.WebFingerError, match=reason):
        wf.parse_resource(resource)


@given(st.text(max_size=200))
def test_parse_resource_raises_only_webfinger_errors(resource: str) -> None:
    try:
        parsed = wf.parse_resource(resource)
    except wf.WebFingerError:
        return
    assert parsed.scheme in ("acct", "http", "https") and parsed.host


def test_build_jrd_like_mastodon() -> None:
    jrd = wf.build_jrd(
        "acct:alice@stgy.example",
        "https://stgy.example/users/alice",
        "https://stgy.example/@alice",
        subscribe_template="https://stgy.example/authorize_interaction?uri={uri}",
    )
    assert jrd["subject"] == "acct:alice@stgy.example"
    assert jrd["aliases"] == ["https://stgy.example/users/alice", "https://stgy.example/@alice"]
    assert jrd["links"] == [
        {"rel": wf.PROFILE_PAGE, "type": "text/html", "href": "https://stgy.example/@alice"},
        {
            "rel": "self",
            "type": "application/activity+json",
            "href": "https://stgy.example/users/alice",
        },
        {"rel": wf.SUBSCRIBE, "template": "https://stgy.example/authorize_interaction?uri={uri}"},
    ]
    only_self = wf.select_links(jrd, ["self"])
    assert [link["rel"] for link in only_self["links"]] == ["self"]
    assert wf.select_links(jrd, []) == jrd
    bare = wf.build_jrd("acct:x@stgy.example", "https://stgy.example/actor")
    assert bare["aliases"] == ["https://stgy.example/actor"] and len(bare["links"]) == 1


def test_our_jrd_reads_back() -> None:
    jrd = wf.build_jrd("acct:a@s.example", "https://s.example/users/a", "https://s.example/@a")
    remote = wf.parse_jrd(jrd)
    assert remote.subject == "acct:a@s.example"
    assert remote.actor_url == "https://s.example/users/a"
    assert remote.profile_url == "https://s.example/@a"
    assert remote.aliases == ("https://s.example/users/a", "https://s.example/@a")


def test_find_self_link_in_other_servers_jrds() -> None:
    ld_only = {
        "links": [
            {"rel": "self", "type": "text/html", "href": "https://r.example/html"},
            {
                "rel": "self",
                "type": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                "href": "https://r.example/ld",
            },
        ]
    }
    assert wf.find_self_link(ld_only) == "https://r.example/ld"
    both = {
        "links": [
            *ld_only["links"],
            {
                **ld_only["links"][1],
                "type": "application/activity+json",
                "href": "https://r.example/as",
            },
        ]
    }
    assert wf.find_self_link(both) == "https://r.example/as"


@pytest.mark.parametrize(
    "jrd",
    [
        None,
        [],
        {"subject": "acct:a@r.example"},
        {"links": "nope"},
        {"links": [{"rel": "self", "type": "text/html", "href": "https://r.example/a"}]},
        {"links": [{"rel": "self", "type": "application/activity+json", "href": "ftp://r/a"}]},
        {"links": [{"rel": "self", "type": "application/activity+json", "href": 7}]},
        {"links": ["self"]},
    ],
)
def test_unusable_jrds(jrd: Any) -> None:
    with pytest.raises(wf.WebFingerError):
        wf.find_self_link(jrd)


def test_host_meta_points_at_webfinger() -> None:
    xml = wf.render_host_meta("https://stgy.example/.well-known/webfinger")
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    assert root.tag == "{http://docs.oasis-open.org/ns/xri/xrd-1.0}XRD"
    (link,) = list(root)
    assert link.attrib == {
        "rel": "lrdd",
        "template": "https://stgy.example/.well-known/webfinger?resource={uri}",
    }


def usage(**overrides: int) -> ni.Usage:
    return ni.Usage(
        **{
            "users_total": 3,
            "users_active_month": 2,
            "users_active_halfyear": 3,
            "local_posts": 10,
            **overrides,
        }
    )


def test_nodeinfo_21_document() -> None:
    doc = ni.render_nodeinfo(
        ni.Software("stgy", "0.1.0"),
        usage=usage(),
        open_registrations=True,
        node_name="Example",
        node_description="A test",
    )
    assert doc == {
        "version": "2.1",
        "software": {"name": "stgy", "version": "0.1.0"},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": True,
        "usage": {
            "users": {"total": 3, "activeMonth": 2, "activeHalfyear": 3},
            "localPosts": 10,
        },
        "metadata": {"nodeName": "Example", "nodeDescription": "A test"},
    }
    with_urls = ni.render_nodeinfo(
        ni.Software(
            "stgy", "1", repository="https://git.example/stgy", homepage="https://s.example"
        ),
        usage=usage(),
        open_registrations=False,
    )
    assert with_urls["software"]["repository"] == "https://git.example/stgy"
    assert with_urls["software"]["homepage"] == "https://s.example"


@pytest.mark.parametrize(
    ("software", "protocols", "counts"),
    [
        (ni.Software("Stgy", "1"), ("activitypub",), {}),
        (ni.Software("st gy", "1"), ("activitypub",), {}),
        (ni.Software("stgy", "1"), (), {}),
        (ni.Software("stgy", "1"), ("gopher",), {}),
        (ni.Software("stgy", "1"), ("activitypub",), {"local_posts": -1}),
    ],
)
def test_nodeinfo_refuses_what_the_schema_does_not_allow(
    software: ni.Software, protocols: tuple[str, ...], counts: dict[str, int]
) -> None:
    with pytest.raises(ValueError):
        ni.render_nodeinfo(
            software, usage=usage(**counts), open_registrations=True, protocols=protocols
        )


def test_nodeinfo_links_and_discovery() -> None:
    links = ni.render_links("https://stgy.example/nodeinfo/2.1")
    assert links == {"links": [{"rel": ni.SCHEMA_21, "href": "https://stgy.example/nodeinfo/2.1"}]}
    assert ni.find_nodeinfo_url(links) == "https://stgy.example/nodeinfo/2.1"
    older_too = {
        "links": [
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": "https://r/2.0"},
            {"rel": ni.SCHEMA_21, "href": "https://r/2.1"},
            {"rel": "something else", "href": "https://r/x"},
        ]
    }
    assert ni.find_nodeinfo_url(older_too) == "https://r/2.1"
    assert ni.find_nodeinfo_url({"links": []}) is None
    assert ni.find_nodeinfo_url("nope") is None
    assert re.fullmatch(r'application/json; profile="[^"]+#"', ni.CONTENT_TYPE_21)
