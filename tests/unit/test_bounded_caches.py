"""Every cache a server process keeps stays within its bounds in entries and bytes, however
many distinct entries it is fed (docs/architecture.md, "Memory: caches and their bounds")."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from markupsafe import Markup

from federation import httpsig
from stgy import metrics
from stgy.bounded import BoundedMap
from stgy.domain.remote import remote_keys
from stgy.fetch_limits import FetchLimits
from stgy.page_cache import RenderingCache
from stgy.web.post_cards import CardCache
from storage.remote_accounts import KnownKey
from storage.renderings import micros

T0 = micros(datetime(2026, 12, 1, tzinfo=UTC))


def _text_size(key: str, value: str) -> int:
    return len(key) + len(value)


def test_bounded_map_keeps_at_most_its_entries_least_recently_used_out() -> None:
    cache: BoundedMap[str, str] = BoundedMap(3, 1_000_000, _text_size)
    for key in "abc":
        cache.put(key, key)
    assert cache.get("a") == "a"  # now the most recently used
    cache.put("d", "d")
    assert list(cache) == ["c", "a", "d"] and "b" not in cache
    for n in range(10_000):
        cache.put(f"k{n}", "v")
    assert len(cache) == 3 and cache.bytes == sum(len(k) + 1 for k in cache)


def test_bounded_map_keeps_at_most_its_bytes() -> None:
    cache: BoundedMap[str, str] = BoundedMap(1_000, 100, _text_size)
    for n in range(50):
        cache.put(f"{n:02d}", "x" * 18)  # 20 bytes each
    assert len(cache) == 5 and cache.bytes == 100
    cache.put("big", "x" * 200)  # larger than the whole bound: not kept, nothing dropped
    assert "big" not in cache and len(cache) == 5
    cache.put("45", "x")  # replaced: its old size is given back
    assert cache.bytes == 83 and cache.pop("45") == "x" and cache.bytes == 80
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0


def test_fetch_limits_refetch_a_known_actor_once_per_interval() -> None:
    limits = FetchLimits(refetch_interval=300.0, per_minute=10.0, burst=20)
    url = "https://a.example/users/a"
    assert limits.may_refetch(url, 1000.0)
    assert not any(limits.may_refetch(url, 1000.0 + t) for t in range(1, 300))
    assert limits.may_refetch(url, 1300.0)


def test_fetch_limits_token_bucket_per_host() -> None:
    limits = FetchLimits(refetch_interval=300.0, per_minute=10.0, burst=20)
    waits = [
        limits.unknown_fetch_wait(f"https://a.example/u{n}", "a.example", 0.0) for n in range(25)
    ]
    assert waits[:20] == [0] * 20
    assert all(wait == 6 for wait in waits[20:])  # a token every 6 s
    assert limits.unknown_fetch_wait("https://b.example/u", "b.example", 0.0) == 0
    assert limits.unknown_fetch_wait("https://a.example/later", "a.example", 6.0) == 0
    assert limits.unknown_fetch_wait("https://a.example/later2", "a.example", 6.0) == 6
    # A failed fetch is not tried again within the interval, whatever the bucket holds.
    limits.fetch_failed("https://c.example/u", 10.0)
    assert limits.unknown_fetch_wait("https://c.example/u", "c.example", 70.0) == 240
    assert limits.unknown_fetch_wait("https://c.example/u", "c.example", 310.0) == 0


def test_fetch_limits_tables_are_bounded() -> None:
    limits = FetchLimits(
        refetch_interval=300.0, per_minute=10.0, burst=20, max_entries=100, max_bytes=30_000
    )
    for n in range(5_000):
        host = f"h{n}.example"
        limits.unknown_fetch_wait(f"https://{host}/users/{'x' * 100}", host, float(n))
        limits.fetch_failed(f"https://{host}/users/{'y' * 300}", float(n))
    for table in (limits.attempts, limits.buckets):
        assert len(table) <= 100 and table.bytes <= 30_000
    assert len(limits.buckets) == 100  # hosts are short: the entries bound holds them
    assert len(limits.attempts) < 100  # URLs are long: the bytes bound holds them


def test_rendering_cache_is_bounded_in_entries_too() -> None:
    cache = RenderingCache(1 << 30, max_entries=1_000)
    for post_id in range(20_000):
        cache.put_post(post_id, T0, 0, 1, b"{}")
        assert len(cache) <= 1_000
    assert cache.post(19_999, T0, 0, 1) == b"{}"


def test_card_cache_is_bounded_in_entries_and_bytes() -> None:
    cache = CardCache(1 << 30, max_entries=1_000)
    for post_id in range(20_000):
        cache.put("en", post_id, (T0,), Markup("<p>x</p>"))
        assert len(cache) <= 1_000
    small = CardCache(100_000)
    long_card = Markup("<p>{}</p>").format("x" * 1000)
    for post_id in range(5_000):
        small.put("ja", post_id, (T0,), long_card)
        assert small.bytes <= 100_000


def test_sender_key_cache_is_bounded_in_entries_and_bytes() -> None:
    remote_keys.forget_cached_keys()
    try:
        for n in range(remote_keys.KEY_CACHE_SIZE + 500):
            key_id = f"https://h{n}.example/users/a#main-key"
            known = KnownKey(n, key_id.partition("#")[0], key_id, "P" * 500)
            remote_keys._cache_key(key_id, known)
        cache = remote_keys._KEYS
        assert len(cache) == remote_keys.KEY_CACHE_SIZE
        assert cache.bytes <= remote_keys.KEY_CACHE_BYTES
        huge = "P" * 4_000_000  # what a remote server could put in its actor's publicKeyPem
        for n in range(10):
            key_id = f"https://big{n}.example/users/a#main-key"
            remote_keys._cache_key(key_id, KnownKey(n, key_id, key_id, huge))
        assert cache.bytes <= remote_keys.KEY_CACHE_BYTES
    finally:
        remote_keys.forget_cached_keys()


def test_parsed_public_keys_are_bounded() -> None:
    before = httpsig._cached_public_key.cache_info().currsize
    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    padded = pem + "\n" * httpsig.MAX_CACHED_PEM  # still a valid PEM, too long to keep
    assert httpsig.load_public_key(padded) is not None
    assert httpsig._cached_public_key.cache_info().currsize == before
    assert httpsig._cached_public_key.cache_info().maxsize == httpsig.PUBLIC_KEY_CACHE_SIZE


def test_request_metric_labels_do_not_grow_with_what_clients_send() -> None:
    before = len(metrics._REQUEST_CHILDREN)
    for _ in range(200):
        method = secrets.token_hex(4).upper()  # any token is a method to HTTP/1.1
        metrics.observe_request(method, "unmatched", "405", 0.001)
    assert len(metrics._REQUEST_CHILDREN) <= before + 1
    assert ("other", "unmatched", "405") in metrics._REQUEST_CHILDREN
