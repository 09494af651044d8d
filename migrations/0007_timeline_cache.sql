-- Rendered JSON of posts and accounts for timeline pages (storage/renderings.py).
--
-- A row holds what the API's serializer makes of the post (or profile) fields that
-- change only on an edit (or profile change), as a JSON object left open for the
-- live fields (counts, the viewer's own state) that each page adds in SQL. A row is
-- used only while `version` equals the source row's (coalesce(edited_at, created_at)
-- of a post, updated_at of an account) and `format` equals the serializer's, so a
-- stale row is never shown; outbox handlers delete rows that went stale. No foreign
-- keys: filling the cache must never fail on a post or account removed meanwhile,
-- and orphans are deleted by the same handlers.
CREATE TABLE post_renderings (
    post_id  bigint PRIMARY KEY,
    version  timestamptz NOT NULL,
    format   integer NOT NULL,
    body     text NOT NULL
);

CREATE TABLE account_renderings (
    account_id  bigint PRIMARY KEY,
    version     timestamptz NOT NULL,
    format      integer NOT NULL,
    body        text NOT NULL
);
