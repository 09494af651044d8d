"""The in-memory renderings of a process: used only for the versions asked for, and
bounded by their bytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stgy.page_cache import RenderingCache
from storage.renderings import micros

T0 = micros(datetime(2026, 12, 1, tzinfo=UTC))
T1 = T0 + 1


def test_an_entry_is_used_only_for_its_own_version() -> None:
    cache = RenderingCache(1 << 20)
    cache.put_post(7, T0, 0, 1, b'{"id":"7"')
    cache.put_account(7, T0, 1, b'{"id":"a7"')
    assert cache.post(7, T0, 0, 1) == b'{"id":"7"'
    assert cache.account(7, T0, 1) == b'{"id":"a7"'  # the same id, another kind of row
    assert cache.post(7, T1, 0, 1) is None  # edited
    assert cache.post(7, T0, 1, 1) is None  # a new render_rev (mention, cached media)
    assert cache.post(7, T0, 0, 2) is None  # another serializer
    assert cache.account(7, T1, 1) is None
    assert cache.post(8, T0, 0, 1) is None
    cache.put_post(7, T1, 0, 1, b'{"id":"7","edited"')
    assert cache.post(7, T1, 0, 1) == b'{"id":"7","edited"'
    assert cache.post(7, T0, 0, 1) is None
    assert len(cache) == 2


def test_the_oldest_entries_go_when_the_bytes_run_over() -> None:
    body = b"x" * 800  # 1,000 bytes an entry with its overhead
    cache = RenderingCache(10_000)
    for post_id in range(10):
        cache.put_post(post_id, T0, 0, 1, body)
    assert len(cache) == 10 and cache.bytes == 10_000
    cache.put_post(10, T0, 0, 1, body)
    # Down to three quarters of the bound, the first put first out.
    assert cache.bytes <= 7_500
    assert cache.post(10, T0, 0, 1) == body
    assert cache.post(0, T0, 0, 1) is None
    kept = [i for i in range(11) if cache.post(i, T0, 0, 1) is not None]
    assert kept == list(range(11 - len(kept), 11))
    # Replacing an entry counts its bytes once.
    before = cache.bytes
    cache.put_post(10, T1, 0, 1, body)
    assert cache.bytes == before
    cache.clear()
    assert (len(cache), cache.bytes) == (0, 0)


def test_a_cache_of_no_bytes_keeps_nothing() -> None:
    cache = RenderingCache(0)
    cache.put_post(1, T0, 0, 1, b"{")
    assert cache.post(1, T0, 0, 1) is None and len(cache) == 0


def test_versions_are_exact_microseconds() -> None:
    moment = datetime(2026, 12, 1, 11, 59, 0, 123456, tzinfo=UTC)
    assert micros(moment) == 1_796_126_340_123_456
    assert micros(moment + timedelta(microseconds=1)) == micros(moment) + 1


def test_a_page_reads_a_copy_of_its_own_and_the_cache_keeps_what_it_can() -> None:
    cache = RenderingCache(2_000)
    cache.put_post(1, T0, 0, 1, b"a" * 800)
    own = cache.page({1, 2, -5})
    assert own.post(1, T0, 0, 1) == b"a" * 800
    own.put_post(2, T0, 0, 1, b"b" * 800)
    own.put_account(5, T0, 1, b"c" * 800)
    assert len(own) == 3  # unbounded: the whole page
    cache.keep(own)
    assert cache.bytes <= 2_000
    assert cache.account(5, T0, 1) == b"c" * 800  # the newest kept, the oldest gone
    assert RenderingCache(0).page({1}).post(1, T0, 0, 1) is None
