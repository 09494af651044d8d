"""Post search inside Chinese, Japanese and Korean text (migration 0018), through the API.

The test database is shared by the whole run, so each test makes words of its own: a
random two-kanji word is as good as unique, and it sits in natural sentences.
"""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg
from quart.typing import TestClientProtocol as Client

from tests.conftest import make_user
from tests.integration.test_notifications import create_post
from tests.integration.test_search import search, word


def kanji(n: int = 2) -> str:
    """`n` random CJK unified ideographs: a word no other test writes."""
    return "".join(chr(0x4E00 + secrets.randbelow(0x9FA5 - 0x4E00)) for _ in range(n))


def katakana(n: int = 4) -> str:
    return "".join(chr(0x30A1 + secrets.randbelow(0x30F6 - 0x30A1)) for _ in range(n))


def full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (ａ for a)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


async def post_ids(client: Client, q: str, **params: Any) -> list[str]:
    found = await search(client, q=q, type="posts", **params)
    return [p["id"] for p in found["posts"]]


async def test_japanese_words_inside_sentences(client: Client) -> None:
    alice = await make_user(client)
    first, last, marker = kanji(), kanji(), word()
    post = await create_post(
        client, alice, f"{first}は良い天気ですね。散歩に行きました。{marker} {last}"
    )
    other = await create_post(client, alice, f"雨の日は家で本を読みます {marker}")

    # A word at the sentence's start, at the text's end, and inside.
    assert await post_ids(client, first) == [post["id"]]
    assert await post_ids(client, last) == [post["id"]]
    assert await post_ids(client, f"天気 {marker}") == [post["id"]]
    assert await post_ids(client, f"散歩 {marker}") == [post["id"]]
    # Kana, and a word across scripts (a verb's kanji and its kana ending).
    assert await post_ids(client, f"ですね {marker}") == [post["id"]]
    assert await post_ids(client, f"行きました {marker}") == [post["id"]]
    assert await post_ids(client, f"本を読みます {marker}") == [other["id"]]
    # Words of both posts, newest first; a word neither has.
    assert await post_ids(client, f"は {marker}") == [other["id"], post["id"]]
    assert await post_ids(client, f"晴れ {marker}") == []
    # The characters of a two-character word apart are not that word.
    apart = kanji(1) + "と" + kanji(1)
    spread = await create_post(client, alice, f"{apart}です")
    assert await post_ids(client, apart) == [spread["id"]]
    assert await post_ids(client, apart[0] + apart[2]) == []
    # Without the word: websearch's minus works on a CJK word too.
    assert await post_ids(client, f"{marker} -天気") == [other["id"]]


async def test_english_and_mixed_text(client: Client) -> None:
    alice = await make_user(client)
    name, english = kanji(), word()
    mixed = await create_post(client, alice, f"iPhone{name}を買った! The {english} is great.")
    plain = await create_post(client, alice, f"Plain English about {english} only")

    assert await post_ids(client, english) == [plain["id"], mixed["id"]]
    assert await post_ids(client, name) == [mixed["id"]]
    assert await post_ids(client, f"{name} {english}") == [mixed["id"]]
    # Latin letters written against Japanese: one word as typed, and as two.
    assert await post_ids(client, f"iphone{name}") == [mixed["id"]]
    assert await post_ids(client, f"iPhone {name}を買った") == [mixed["id"]]
    assert await post_ids(client, f'"{english} is great" {name}') == [mixed["id"]]
    assert await post_ids(client, f"{english} -{name}") == [plain["id"]]


async def test_katakana_hangul_and_hiragana_words(client: Client) -> None:
    alice = await make_user(client)
    kata, marker = katakana(), word()
    post = await create_post(client, alice, f"新しい{kata}を試した。コーヒーが美味しい {marker}")
    korean = await create_post(client, alice, f"오늘은 날씨가 좋네요 {marker}")

    assert await post_ids(client, kata) == [post["id"]]
    assert await post_ids(client, f"コーヒー {marker}") == [post["id"]]
    assert await post_ids(client, f"美味しい {marker}") == [post["id"]]
    assert await post_ids(client, f"날씨 {marker}") == [korean["id"]]
    assert await post_ids(client, f"좋네요 {marker}") == [korean["id"]]
    # Half-width katakana is the same word (NFKC), in the post or in the query.
    half = await create_post(client, alice, f"ｺｰﾋｰを淹れた {marker}")
    assert await post_ids(client, f"ｺｰﾋｰ {marker}") == [half["id"], post["id"]]


async def test_full_width_latin_letters_and_digits(client: Client) -> None:
    alice = await make_user(client)
    latin, other = word(), word()
    wide = await create_post(client, alice, f"{full_width(latin.upper())} ２０２６年です")
    narrow = await create_post(client, alice, f"{other} in ASCII")

    assert await post_ids(client, latin) == [wide["id"]]
    assert await post_ids(client, f"{latin} 2026年") == [wide["id"]]
    assert await post_ids(client, f'"{full_width(latin)} 2026年です"') == [wide["id"]]
    assert await post_ids(client, full_width(other)) == [narrow["id"]]


async def test_one_character_query_finds_the_character_anywhere(client: Client) -> None:
    alice = await make_user(client)
    # A character from CJK extension A, which no other test writes.
    one = chr(0x3400 + secrets.randbelow(0x4DB5 - 0x3400))
    start = await create_post(client, alice, f"{one}が好き")
    end = await create_post(client, alice, f"黒{one}。")
    alone = await create_post(client, alice, f"{one} and more")
    inside = await create_post(client, alice, f"白{one}黒")
    ids = await post_ids(client, one)
    assert ids == [inside["id"], alone["id"], end["id"], start["id"]]


async def test_exact_phrase_ranks_above_scattered_bigrams(client: Client) -> None:
    alice = await make_user(client)
    a, b, c, d = kanji(1), kanji(1), kanji(1), kanji(1)
    whole = a + b + c + d
    # Oldest to newest: exact, scattered, exact, scattered (all three bigrams apart).
    exact_old = await create_post(client, alice, f"昔の{whole}の話")
    scattered_old = await create_post(client, alice, f"{a}{b}{c}。{c}{d}は別")
    exact_new = await create_post(client, alice, f"今日も{whole}")
    scattered_new = await create_post(client, alice, f"{c}{d}と{a}{b}{c}")
    await create_post(client, alice, f"{a}{b}だけ")  # not every bigram: no match

    expected = [exact_new["id"], exact_old["id"], scattered_new["id"], scattered_old["id"]]
    assert await post_ids(client, whole) == expected
    # Pages go on in the same order, whatever their size.
    first = await post_ids(client, whole, limit=2)
    assert first == expected[:2]
    assert await post_ids(client, whole, limit=2, until=first[-1]) == expected[2:]
    pages: list[str] = []
    until: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 1} | ({"until": until} if until else {})
        page = await post_ids(client, whole, **params)
        if not page:
            break
        pages += page
        until = page[-1]
    assert pages == expected
    # In quotes, only the exact ones.
    assert await post_ids(client, f'"{whole}"') == [exact_new["id"], exact_old["id"]]


async def test_query_of_punctuation_alone_finds_nothing(client: Client) -> None:
    alice = await make_user(client)
    await create_post(client, alice, "!!! 。。。 ...")
    for q in ("!!!", "。、！？", "...", '"', "-", "・・・", "「」", "()"):
        found = await search(client, q=q, type="posts")
        assert found["posts"] == [], q
        everything = await search(client, q=q)
        assert everything["posts"] == [], q
    response = await client.get("/api/search", query_string={"q": "   ", "type": "posts"})
    assert response.status_code == 400


async def test_queries_turned_into_bigrams(database_url: str) -> None:
    """What the SQL functions make of a query: the exact form (phrases of bigrams) and
    the matching one (bigrams anywhere)."""
    conn = await asyncpg.connect(database_url)
    try:
        cases = {
            "天気": ("'天気'", "'天気'"),
            "天気予報": ("'天気' <-> '気予' <-> '予報'", "'天気' & '気予' & '予報'"),
            "猫": ("'猫':*", "'猫':*"),
            "ＡＢＣ": ("'abc'", "'abc'"),
            "iPhone買った": ("'iphone' <-> '買っ' <-> 'った'", "'iphone' <-> '買っ' & 'った'"),
            # A word followed in its phrase keeps its last character (as the text has
            # it); with quotes, only exact matches.
            '"買った iphone"': (
                "'買っ' <-> 'った' <-> 'た':* <-> 'iphone'",
                "'買っ' <-> 'った' <-> 'た':* <-> 'iphone'",
            ),
            "-東京都 cat": ("!( '東京' <-> '京都' ) & 'cat'", "!( '東京' & '京都' ) & 'cat'"),
            "!!!": ("", ""),
        }
        for query, (exact, matching) in cases.items():
            row = await conn.fetchrow(
                "SELECT stgy_search_query($1, true)::text, stgy_search_query($1, false)::text",
                query,
            )
            assert row is not None
            assert (row[0], row[1]) == (exact, matching), query
        vector = await conn.fetchval("SELECT stgy_search_vector('今日は天気。黒猫 ＯＫ')::text")
        lexemes = dict(item.split(":") for item in vector.split(" "))
        assert lexemes == {
            "'今日'": "1",
            "'日は'": "2",
            "'は天'": "3",
            "'天気'": "4",
            "'気'": "5",
            "'黒猫'": "6",
            "'猫'": "7",
            "'ok'": "8",
        }
    finally:
        await conn.close()
