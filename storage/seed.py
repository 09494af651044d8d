"""Set-based SQL for bulk test data (`stgy reset-data-test`) and for emptying an instance."""

from __future__ import annotations

from storage.db import Conn

# Bulk statements run far longer than the pool's command timeout allows requests.
SEED_TIMEOUT = 3600.0

# Tables holding instance data, children first; schema_migrations and
# instance_secrets stay so the instance keeps its schema and its keys.
DATA_TABLES = (
    "idempotency_keys, media, notifications, mutes, blocks, bookmarks, likes, post_tags, tags,"
    " mentions, post_edits, timeline_entries, follows, posts, sessions, reserved_handles,"
    " users, accounts, outbox_events, durable_jobs, post_renderings, account_renderings"
)


async def truncate_all(conn: Conn) -> None:
    await conn.execute("TRUNCATE " + DATA_TABLES + " RESTART IDENTITY CASCADE")


async def insert_accounts(
    conn: Conn, *, first: int, last: int, base_url: str, public_key_pem: str
) -> None:
    """Local accounts user<first>..user<last> with their ActivityPub URLs."""
    await conn.execute(
        "INSERT INTO accounts (handle, display_name, bio_source, bio_html, ap_id, url, inbox_url,"
        " shared_inbox_url, outbox_url, followers_url, following_url, featured_url,"
        " public_key_pem, public_key_id, created_at)"
        " SELECT h, 'Test User ' || g, 'I am test user ' || g || '.',"
        " '<p>I am test user ' || g || '.</p>', $3 || '/users/' || h, $3 || '/@' || h,"
        " $3 || '/users/' || h || '/inbox', $3 || '/inbox', $3 || '/users/' || h || '/outbox',"
        " $3 || '/users/' || h || '/followers', $3 || '/users/' || h || '/following',"
        " $3 || '/users/' || h || '/collections/featured', $4, $3 || '/users/' || h || '#main-key',"
        " now() - interval '60 days'"
        " FROM generate_series($1::int, $2::int) g, LATERAL (SELECT 'user' || g AS h) names"
        " ON CONFLICT DO NOTHING",
        first,
        last,
        base_url,
        public_key_pem,
        timeout=SEED_TIMEOUT,
    )


async def insert_users(
    conn: Conn, *, first: int, last: int, password_hash: str, private_key_pem: str
) -> None:
    await conn.execute(
        "INSERT INTO users (account_id, email, password_hash, private_key_pem, confirmed_at)"
        " SELECT a.id, a.handle || '@example.test', $3, $4, now() FROM accounts a"
        " WHERE a.domain IS NULL AND a.handle = ANY (SELECT 'user' || g"
        "  FROM generate_series($1::int, $2::int) g)"
        " ON CONFLICT DO NOTHING",
        first,
        last,
        password_hash,
        private_key_pem,
        timeout=SEED_TIMEOUT,
    )


async def seeded_account_ids(conn: Conn) -> list[int]:
    rows = await conn.fetch(
        "SELECT id FROM accounts WHERE domain IS NULL AND handle ~ '^user[0-9]+$' ORDER BY id"
    )
    return [row["id"] for row in rows]


async def insert_posts(
    conn: Conn, *, account_ids: list[int], per_account: int, base_url: str, days: int
) -> None:
    """`per_account` public posts each, spread over the last `days` days, oldest first."""
    await conn.execute(
        "WITH made AS ("
        " SELECT a.id AS account_id, a.handle, n,"
        "  now() - (random() * make_interval(days => $3)) AS at"
        " FROM accounts a CROSS JOIN generate_series(1, $2::int) n"
        " WHERE a.id = ANY($1::bigint[])),"
        " ided AS (SELECT *, stgy_id_at(at) | (nextval('stgy_id_seq') % 65536) AS id FROM made)"
        " INSERT INTO posts (id, account_id, ap_id, url, source, html, tags, created_at, local)"
        " SELECT id, account_id, $4 || '/users/' || handle || '/posts/' || id,"
        " $4 || '/@' || handle || '/' || id,"
        " 'Post number ' || n || ' by ' || handle || ' about #topic' || (n % 50),"
        " '<p>Post number ' || n || ' by ' || handle || ' about #topic' || (n % 50) || '</p>',"
        " ARRAY['topic' || (n % 50)], at, true FROM ided ON CONFLICT DO NOTHING",
        account_ids,
        per_account,
        days,
        base_url,
        timeout=SEED_TIMEOUT,
    )


async def insert_follows(conn: Conn, *, account_ids: list[int], per_account: int) -> None:
    """Each account follows `per_account` other seeded accounts picked at random."""
    await conn.execute(
        "WITH everyone AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS idx,"
        "  count(*) OVER () AS n FROM accounts WHERE domain IS NULL AND handle ~ '^user[0-9]+$'),"
        " pairs AS (SELECT f.id AS follower_id,"
        "  (f.idx + 1 + floor(random() * (f.n - 1))::bigint) % f.n AS target_idx"
        "  FROM everyone f CROSS JOIN generate_series(1, $2::int)"
        "  WHERE f.id = ANY($1::bigint[]) AND f.n > 1)"
        " INSERT INTO follows (follower_id, followee_id, state, accepted_at)"
        " SELECT p.follower_id, e.id, 'accepted', now() FROM pairs p"
        " JOIN everyone e ON e.idx = p.target_idx ON CONFLICT DO NOTHING",
        account_ids,
        per_account,
        timeout=SEED_TIMEOUT,
    )


async def fill_home_timelines(conn: Conn, *, account_ids: list[int], since_id: int) -> None:
    """Each owner's home timeline: own and followed accounts' posts newer than `since_id`.

    Range scans of posts by (author, id) per follow: cheap, unlike a newest-N per
    owner, which would walk the whole posts table for owners following few people.
    """
    await conn.execute(
        "INSERT INTO timeline_entries (owner_id, post_id, author_id)"
        " SELECT f.follower_id, p.id, p.account_id FROM follows f"
        " JOIN posts p ON p.account_id = f.followee_id AND p.id > $2 AND p.deleted_at IS NULL"
        " WHERE f.follower_id = ANY($1::bigint[]) AND f.state = 'accepted'"
        " UNION ALL SELECT p.account_id, p.id, p.account_id FROM posts p"
        " WHERE p.account_id = ANY($1::bigint[]) AND p.id > $2 AND p.deleted_at IS NULL"
        " ON CONFLICT DO NOTHING",
        account_ids,
        since_id,
        timeout=SEED_TIMEOUT,
    )


async def id_days_ago(conn: Conn, *, days: float) -> int:
    value: int = await conn.fetchval(
        "SELECT stgy_id_at(now() - make_interval(secs => $1))", days * 86400.0
    )
    return value


async def recount(conn: Conn) -> None:
    """Recompute the counters of every account from the rows."""
    await conn.execute(
        "UPDATE accounts a SET posts_count = coalesce(p.n, 0) FROM accounts b"
        " LEFT JOIN (SELECT account_id, count(*) AS n FROM posts WHERE deleted_at IS NULL"
        " GROUP BY account_id) p ON p.account_id = b.id WHERE a.id = b.id",
        timeout=SEED_TIMEOUT,
    )
    await conn.execute(
        "UPDATE accounts a SET followers_count = coalesce(f.n, 0) FROM accounts b"
        " LEFT JOIN (SELECT followee_id, count(*) AS n FROM follows WHERE state = 'accepted'"
        " GROUP BY followee_id) f ON f.followee_id = b.id WHERE a.id = b.id",
        timeout=SEED_TIMEOUT,
    )
    await conn.execute(
        "UPDATE accounts a SET following_count = coalesce(f.n, 0) FROM accounts b"
        " LEFT JOIN (SELECT follower_id, count(*) AS n FROM follows WHERE state = 'accepted'"
        " GROUP BY follower_id) f ON f.follower_id = b.id WHERE a.id = b.id",
        timeout=SEED_TIMEOUT,
    )
    # As autovacuum would leave the tables after a while: planner statistics, and the
    # visibility map that lets timeline reads scan the index alone.
    await conn.execute("VACUUM (ANALYZE)", timeout=SEED_TIMEOUT)


async def totals(conn: Conn) -> tuple[int, int, int]:
    """Rows in posts, follows and timeline_entries."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM follows),"
        " (SELECT count(*) FROM timeline_entries)"
    )
    assert row is not None  # noqa: S101
    return int(row[0]), int(row[1]), int(row[2])


async def follow_all(conn: Conn, *, followee_id: int, follower_ids: list[int]) -> None:
    """Make every given account an accepted follower of `followee_id` (bench set-up)."""
    await conn.execute(
        "INSERT INTO follows (follower_id, followee_id, state, accepted_at)"
        " SELECT f, $1, 'accepted', now() FROM unnest($2::bigint[]) AS f WHERE f <> $1"
        " ON CONFLICT DO NOTHING",
        followee_id,
        follower_ids,
        timeout=SEED_TIMEOUT,
    )
    await conn.execute(
        "UPDATE accounts SET followers_count = (SELECT count(*) FROM follows"
        " WHERE followee_id = $1 AND state = 'accepted') WHERE id = $1",
        followee_id,
        timeout=SEED_TIMEOUT,
    )


async def bare_insert_select(conn: Conn, *, rows: int) -> None:
    """The baseline of fan-out: one INSERT ... SELECT of `rows` rows into a scratch table
    shaped like timeline_entries (primary key and author index included)."""
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS bare_entries (owner_id bigint, post_id bigint,"
        " author_id bigint, PRIMARY KEY (owner_id, post_id))"
    )
    await conn.execute(
        "INSERT INTO bare_entries SELECT g, stgy_next_id(), 1 FROM generate_series(1, $1) g",
        rows,
    )
