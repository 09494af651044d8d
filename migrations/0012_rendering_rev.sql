-- Renderings kept in the app's memory as well as in post_renderings (stgy/page_cache.py).
-- A page's statement returns each post's version, and the app uses what it holds only
-- while that version is current. An edit changes coalesce(edited_at, created_at), but
-- two things change a post's rendering without an edit: a mentioned account's new
-- handle, and a remote attachment cached here. render_rev counts those, so the cached
-- copies of every process go stale at once, with no message between processes.
-- (A constant default: PostgreSQL adds the column without rewriting the table.)
ALTER TABLE posts ADD COLUMN render_rev integer NOT NULL DEFAULT 0;

-- Stored renderings now record the rev they were made from; the old rows carry none.
TRUNCATE post_renderings;
ALTER TABLE post_renderings ADD COLUMN rev integer NOT NULL;
