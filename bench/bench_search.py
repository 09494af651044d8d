"""Post search over 1,000,000 posts, a fifth of them Japanese: p50/p99 and req/s.

`GET /api/search?type=posts&q=...` for a two-character Japanese word (`天気`), an
English word (`weather`) and a four-character Japanese word (`天気予報`, whose exact
matches rank above scattered bigrams): one connection (the time a search answers in)
and --connections connections (what the server keeps up with). For comparison,
in the same run and on the same data, the storage query alone (no HTTP, one
connection) for the English word against the index of today's search (migration
0018: CJK bigrams) and against the old `simple` configuration's (`to_tsvector('simple',
summary || ' ' || source)`, kept in a bench-only column with its own GIN index).

The database is seeded once and kept (`stgy_bench_search1m`): 10,000 accounts and
their posts, made by one INSERT ... SELECT over generate_series per 100,000 posts from
word lists, with skewed word frequencies so words (and two-character Japanese words)
recur as they do in real text. It is seeded under the migrations before 0018, and 0018
is then applied and timed: the figure `search_migration_s` (printed when seeding) is
what upgrading a database of a million posts costs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.common import (  # noqa: E402 - needs the repo root on sys.path
    STGY_SERVE,
    VAR_DIR,
    bench_config,
    prepare_database,
    report,
    say,
    start_server,
)
from bench.load import Load, interleaved, run_load  # noqa: E402
from storage import search as search_sql  # noqa: E402
from storage import seed  # noqa: E402
from storage.db import create_database_if_missing, drop_database  # noqa: E402
from storage.migrations import MIGRATIONS_DIR, migrate  # noqa: E402

DATABASE = "stgy_bench_search1m"
ACCOUNTS = 10_000
CHUNK = 100_000
JAPANESE_EVERY = 5  # every fifth post is Japanese
SEARCH_MIGRATION = "0018"
OLD_COLUMN = "bench_simple_search"

# Common words first: a word's share falls with its place in the list (see WORD_SKEW).
JAPANESE = """
今日 明日 昨日 時間 仕事 友達 写真 本当 最近 自分 会社 電車 映画 音楽 料理 散歩
週末 毎日 場所 気持 景色 休み 旅行 東京 大阪 京都 公園 部屋 会議 予定 朝ご飯 晩ご飯 雨
ラーメン コーヒー カメラ ゲーム アニメ ニュース テレビ パソコン スマホ イベント 桜 猫 犬
季節 温泉 新幹線 図書館 美術館 動物園 台風 地震 花火 お祭り 紅葉 夕焼け 星空
家族 子供 先生 学生 学校 授業 宿題 試験 勉強 日本語 英語 漫画 小説 作家 読書 練習 試合
野球 サッカー 選手 応援 優勝 記録 大会 山登り 海辺 川沿い 駅前 商店街 喫茶店 本屋 花屋
パン屋 お弁当 お茶 紅茶 牛乳 果物 野菜 魚 肉 お寿司 天ぷら うどん そば カレー 餃子 焼肉
お菓子 ケーキ 誕生日 記念日 結婚式 引っ越し 掃除 洗濯 買い物 散髪 病院 薬局 銀行 郵便局
自転車 飛行機 空港 車 道路 信号 交差点 建物 新聞 雑誌 手紙 番組 歌手 俳優 舞台 劇場 展示
研究 開発 天気 設計 実験 論文 発表 資料 計画 経験 問題 答え 質問 意見 情報 技術 言葉 文化 歴史
経済 政治 社会 世界 地球 宇宙 自然 天気予報 環境 空気 太陽 月 雪 風 雲 虹 朝 夜 夕方 昼休み 夏休み
"""
PARTICLES = "は が を に で と の も へ から まで より".split()
ENDINGS = "です ました ですね だ よ でした だった かな".split()
ENGLISH = """
the a and to of in is it you that for on with this was my just be have at so but not are
today time day good people like new will get one all now can about out what more when
your up back think know going really still see great night work home some make love
morning week first way want last little other over much coffee city friends
walk train rain sun music book film photo picture lunch dinner breakfast tea park
garden river mountain beach sea cat dog bird tree flower spring summer autumn winter
snow wind cloud sky star moon light dark cold warm hot cool long short old young big
small early late fast slow happy sad tired busy free quiet loud open close start end
write read listen watch play run sleep eat drink cook clean wash buy sell pay call meet
talk ask answer learn teach study test game team match score win lose draw goal plan
idea project code server bug fix release update version network federation post reply
share follow search timeline account profile avatar header field link image video
sound song album concert ticket station airport flight hotel trip travel map street
road bridge tower building window door room table chair desk lamp phone screen camera
paper letter weather story poem note word language history science nature space earth world
country town village market shop store price money bank office meeting email message
""".split()
WORD_SKEW = 2.0  # a word's index is len * random()^WORD_SKEW: the first ones recur most

QUERIES = {"ja2": "天気", "en": "weather", "ja4": "天気予報"}


def japanese_words() -> list[str]:
    return JAPANESE.split()


async def _count(conn: asyncpg.Connection, sql: str, *args: object) -> int:
    return int(await conn.fetchval(sql, *args))


async def is_seeded(url: str, posts: int) -> bool:
    conn = await asyncpg.connect(url)
    try:
        has_old = await _count(
            conn,
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'posts' AND column_name = $1",
            OLD_COLUMN,
        )
        return bool(has_old) and await _count(conn, "SELECT count(*) FROM posts") >= posts
    finally:
        await conn.close()


async def seed_posts(url: str, posts: int, base_url: str) -> None:
    """A fresh database under the migrations before 0018, 10,000 accounts, `posts` posts
    (indexes dropped while inserting and rebuilt after, as a bulk load does)."""
    await drop_database(url)
    await create_database_if_missing(url)
    conn = await asyncpg.connect(url)
    try:
        with TemporaryDirectory() as earlier:
            for path in sorted(MIGRATIONS_DIR.glob("[0-9]*.sql")):
                if path.name < SEARCH_MIGRATION:
                    (Path(earlier) / path.name).write_text(path.read_text(encoding="utf-8"))
            await migrate(conn, Path(earlier))
        await seed.insert_accounts(
            conn, first=1, last=ACCOUNTS, base_url=base_url, public_key_pem="bench"
        )
        rows = await conn.fetch("SELECT id, handle FROM accounts ORDER BY id")
        ids, handles = [r["id"] for r in rows], [r["handle"] for r in rows]
        indexes = await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'posts'"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        for index in indexes:
            await conn.execute("DROP INDEX " + index["indexname"])
        await conn.execute(
            "ALTER TABLE posts ADD COLUMN " + OLD_COLUMN + " tsvector"
            " GENERATED ALWAYS AS (to_tsvector('simple', summary || ' ' || source)) STORED"
        )
        started = time.monotonic()
        for first in range(1, posts + 1, CHUNK):
            last = min(posts, first + CHUNK - 1)
            await conn.execute(
                _INSERT_POSTS,
                first,
                last,
                ids,
                handles,
                japanese_words(),
                PARTICLES,
                ENDINGS,
                ENGLISH,
                base_url,
                JAPANESE_EVERY,
                WORD_SKEW,
                timeout=seed.SEED_TIMEOUT,
            )
            say(f"seeded {last} posts ({time.monotonic() - started:.0f} s)")
        for index in indexes:
            await conn.execute(index["indexdef"], timeout=seed.SEED_TIMEOUT)
        await conn.execute(
            "CREATE INDEX posts_" + OLD_COLUMN + "_idx ON posts USING gin (" + OLD_COLUMN + ")"
            " WHERE deleted_at IS NULL AND visibility = 'public'",
            timeout=seed.SEED_TIMEOUT,
        )
        await conn.execute("VACUUM (ANALYZE)", timeout=seed.SEED_TIMEOUT)
        say(f"seeded and indexed in {time.monotonic() - started:.0f} s")
    finally:
        await conn.close()


# Post g (1 = newest, 2.5 s apart) by account g % 10,000; every fifth in Japanese:
# sentences of words joined by particles, each ending in a verb ending and 。; the others
# 6 to 20 English words. `random()` in a subquery that names g runs again for each post.
_INSERT_POSTS = (
    "WITH made AS ("
    " SELECT g, ($3::bigint[])[1 + g % cardinality($3::bigint[])] AS account_id,"
    "  ($4::text[])[1 + g % cardinality($4::text[])] AS handle,"
    "  now() - g * interval '2.5 seconds' AS at,"
    "  CASE WHEN g % $10 = 0 THEN"
    "   (SELECT string_agg(($5::text[])[1 + floor(cardinality($5::text[])"
    "     * power(random(), $11))::int]"
    "    || CASE WHEN i % 4 = 0"
    "     THEN ($7::text[])[1 + floor(random() * cardinality($7::text[]))::int] || '。'"
    "     ELSE ($6::text[])[1 + floor(random() * cardinality($6::text[]))::int] END, ''"
    "    ORDER BY i) FROM generate_series(1, 4 + g % 13) AS i)"
    "  ELSE (SELECT string_agg(($8::text[])[1 + floor(cardinality($8::text[])"
    "     * power(random(), $11))::int], ' ' ORDER BY i)"
    "   FROM generate_series(1, 6 + g % 15) AS i) END AS body,"
    "  CASE WHEN g % $10 = 0 THEN 'ja' ELSE 'en' END AS language"
    " FROM generate_series($1::int, $2::int) AS g),"
    " ided AS (SELECT *, stgy_id_at(at) | (nextval('stgy_id_seq') % 65536) AS id FROM made)"
    " INSERT INTO posts (id, account_id, ap_id, url, source, html, language, created_at, local)"
    " SELECT id, account_id, $9 || '/users/' || handle || '/posts/' || id,"
    " $9 || '/@' || handle || '/' || id, body, '<p>' || body || '</p>', language, at, true"
    " FROM ided"
)


async def migrate_timed(env: dict[str, str]) -> float:
    started = time.monotonic()
    await asyncio.to_thread(prepare_database, env)
    return time.monotonic() - started


async def sql_figures(url: str, rounds: int) -> dict[str, tuple[float, float, float, int]]:
    """p50 and p99 in ms, queries/s on one connection, and matches, of the storage query
    for each way: today's query on `search`, the old one on the bench-only column."""
    conn = await asyncpg.connect(url)
    try:
        figures: dict[str, tuple[float, float, float, int]] = {}
        for name, text in QUERIES.items():
            query = await search_sql.post_query(conn, text=text)

            async def new(query: search_sql.PostQuery = query) -> object:
                return await search_sql.post_ids_matching(
                    conn, query=query, viewer_id=None, until=None, limit=20
                )

            matches = await _count(
                conn, "SELECT count(*) FROM posts WHERE search @@ $1::tsquery", query.matching
            )
            figures[f"{name}_new"] = (*await _timed(new, rounds), matches)
        english = QUERIES["en"]

        async def old() -> object:
            return await conn.fetch(_OLD_QUERY, english, None, None, 20)

        matches = await _count(
            conn,
            _OLD_COUNT,
            english,
        )
        figures["en_old"] = (*await _timed(old, rounds), matches)
        for name, text in QUERIES.items():
            if name.startswith("ja"):
                found = await _count(
                    conn,
                    _OLD_COUNT,
                    text,
                )
                say(f"the old index finds {found} posts for {text}")
        return figures
    finally:
        await conn.close()


_OLD_COUNT = (
    "SELECT count(*) FROM posts WHERE bench_simple_search @@ websearch_to_tsquery('simple', $1)"
)
# The query before migration 0018, on the bench-only column holding the old vector.
_OLD_QUERY = (
    "SELECT p.id FROM posts p"
    " WHERE p.bench_simple_search @@ websearch_to_tsquery('simple', $1)"
    " AND p.deleted_at IS NULL AND p.visibility = 'public' AND p.share_of_id IS NULL"
    " AND ($3::bigint IS NULL OR p.id < $3)"
    " AND ($2::bigint IS NULL OR stgy_can_see(p.account_id, p.visibility, p.id, $2))"
    " AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = p.account_id"
    "  AND a.suspended_at IS NULL AND a.deleted_at IS NULL)"
    " ORDER BY p.id DESC LIMIT $4"
)


async def _timed(run: Callable[[], Awaitable[object]], rounds: int) -> tuple[float, float, float]:
    for _ in range(3):
        await run()
    times: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99, 1000 / statistics.fmean(ordered)


async def sizes(url: str) -> tuple[int, int, int]:
    """Bytes of the new GIN index, the old one, and the posts table (with TOAST)."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT pg_relation_size('posts_search_idx'),"
            " pg_relation_size('posts_" + OLD_COLUMN + "_idx'),"
            " pg_table_size('posts')"
        )
        assert row is not None  # noqa: S101
        return int(row[0]), int(row[1]), int(row[2])
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=5, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the HTTP loads")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--sql-rounds", type=int, default=200, help="storage queries timed")
    args = parser.parse_args()
    database = DATABASE if args.posts == 1_000_000 else f"stgy_bench_search{args.posts}"
    bench = bench_config(database=database)
    url = bench.config.database.url
    asyncio.run(create_database_if_missing(url))
    if not asyncio.run(is_seeded(url, args.posts)):
        say(f"seeding {database}: {args.posts} posts (minutes)")
        asyncio.run(seed_posts(url, args.posts, bench.config.instance.base_url))
        seconds = asyncio.run(migrate_timed(bench.env))
        say(f"migration {SEARCH_MIGRATION} took {seconds:.0f} s on {args.posts} posts")
        report("search_migration_s", seconds, "s")
        asyncio.run(_analyze(url))
    prepare_database(bench.env)
    new_size, old_size, table_size = asyncio.run(sizes(url))
    say(
        f"GIN index {new_size / 2**20:.0f} MiB (old simple: {old_size / 2**20:.0f} MiB),"
        f" posts table {table_size / 2**20:.0f} MiB"
    )
    figures = asyncio.run(sql_figures(url, args.sql_rounds))
    with start_server(
        STGY_SERVE, bench.env, f"{bench.base_url}/healthz", log=VAR_DIR / "search.log"
    ):
        loads: dict[str, Callable[[], Load]] = {}
        for name, text in QUERIES.items():
            target = f"{bench.base_url}/api/search?type=posts&q={quote(text)}"
            check = httpx.get(target)
            check.raise_for_status()
            say(f"{text}: a page has {len(check.json()['posts'])} posts")
            loads[name] = _load(target, 1, args.duration)
            loads[f"{name}, {args.connections} connections"] = _load(
                target, args.connections, args.duration
            )
        got = interleaved(loads, args.rounds)
    for name, text in QUERIES.items():
        p50, p99, qps, matches = figures[f"{name}_new"]
        say(f"{text}: {matches} posts match")
        alone, busy = got[name], got[f"{name}, {args.connections} connections"]
        report(f"search_api_p50_{name}", alone.p50_ms, "ms")
        report(f"search_api_p99_{name}", alone.p99_ms, "ms")
        report(f"search_api_rps_{name}", alone.rps, "req/s")
        report(f"search_api_p50_{name}_{args.connections}_connections", busy.p50_ms, "ms")
        report(f"search_api_p99_{name}_{args.connections}_connections", busy.p99_ms, "ms")
        report(f"search_api_rps_{name}_{args.connections}_connections", busy.rps, "req/s")
        report(f"search_sql_p50_{name}", p50, "ms")
        report(f"search_sql_p99_{name}", p99, "ms")
    p50, p99, qps, matches = figures["en_new"]
    old_p50, old_p99, old_qps, old_matches = figures["en_old"]
    say(f"old simple index: {old_matches} posts match {QUERIES['en']}")
    report("search_sql_p50_en_vs_old_simple", p50, "ms", old_p50)
    report("search_sql_p99_en_vs_old_simple", p99, "ms", old_p99)
    report("search_sql_qps_en_vs_old_simple", qps, "queries/s", old_qps)
    errors = sum(load.errors for load in got.values())
    report("search_errors", errors, "responses")
    return 1 if errors else 0


def _load(target: str, connections: int, duration: float) -> Callable[[], Load]:
    def load() -> Load:
        return run_load(target, connections, duration)

    return load


async def _analyze(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM (ANALYZE)", timeout=seed.SEED_TIMEOUT)
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(main())
