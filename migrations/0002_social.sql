-- The social core: sessions, instance secrets, likes, shares, bookmarks,
-- mentions, tags, blocks, mutes, notifications, edits, idempotency keys.

-- Secrets the instance makes for itself on first use (e.g. the token key).
CREATE TABLE instance_secrets (
    name        text PRIMARY KEY,
    value       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A login: the JWT carries the session id; logout and refresh work on the row,
-- so revocation survives a Redis restart.
CREATE TABLE sessions (
    id          bigint PRIMARY KEY DEFAULT stgy_next_id(),
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    user_agent  text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account_idx ON sessions (account_id) WHERE revoked_at IS NULL;

-- Old handles stay reserved for the account that had them (profile URLs redirect).
CREATE TABLE reserved_handles (
    handle_lower  text PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Removing a deleted post from every home timeline finds its rows by post.
CREATE INDEX timeline_entries_post_idx ON timeline_entries (post_id);

ALTER TABLE users ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';

-- Posts of this instance, denormalised for the local timeline's index.
ALTER TABLE posts ADD COLUMN local boolean NOT NULL DEFAULT true;
ALTER TABLE posts ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', summary || ' ' || source)) STORED;
CREATE INDEX posts_local_public_idx ON posts (id DESC)
    WHERE deleted_at IS NULL AND visibility = 'public' AND local AND share_of_id IS NULL;
CREATE INDEX posts_search_idx ON posts USING gin (search)
    WHERE deleted_at IS NULL AND visibility = 'public';
-- One live share per account and post.
CREATE UNIQUE INDEX posts_one_share_idx ON posts (account_id, share_of_id)
    WHERE share_of_id IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE post_edits (
    id          bigint PRIMARY KEY DEFAULT stgy_next_id(),
    post_id     bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    source      text NOT NULL,
    html        text NOT NULL,
    summary     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX post_edits_post_idx ON post_edits (post_id, id);

CREATE TABLE mentions (
    post_id     bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, account_id)
);
CREATE INDEX mentions_account_idx ON mentions (account_id, post_id DESC);

CREATE TABLE tags (
    name          text PRIMARY KEY CHECK (name = lower(name) AND name <> ''),
    last_used_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tags_prefix_idx ON tags (name text_pattern_ops);

CREATE TABLE post_tags (
    tag      text NOT NULL REFERENCES tags (name) ON DELETE CASCADE,
    post_id  bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, post_id)
);
CREATE INDEX post_tags_post_idx ON post_tags (post_id);

CREATE TABLE likes (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id     bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    ap_id       text UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, post_id)
);
CREATE INDEX likes_post_idx ON likes (post_id, created_at DESC);

CREATE TABLE bookmarks (
    id          bigint NOT NULL DEFAULT stgy_next_id(),
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id     bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, post_id)
);
CREATE INDEX bookmarks_page_idx ON bookmarks (account_id, id DESC);

CREATE TABLE blocks (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    ap_id       text UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, target_id),
    CONSTRAINT blocks_not_self CHECK (account_id <> target_id)
);
CREATE INDEX blocks_target_idx ON blocks (target_id, account_id);

CREATE TABLE mutes (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, target_id),
    CONSTRAINT mutes_not_self CHECK (account_id <> target_id)
);

CREATE TABLE notifications (
    id               bigint PRIMARY KEY DEFAULT stgy_next_id(),
    account_id       bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type             text NOT NULL CHECK (type IN (
                         'follow', 'follow_request', 'mention', 'reply', 'like', 'share')),
    from_account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id          bigint REFERENCES posts (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    read_at          timestamptz
);
-- The same event notifies once, however often its job runs.
CREATE UNIQUE INDEX notifications_once_idx
    ON notifications (account_id, type, from_account_id, coalesce(post_id, 0));
CREATE INDEX notifications_page_idx ON notifications (account_id, id DESC);

-- A retried POST with the same Idempotency-Key returns the first result.
CREATE TABLE idempotency_keys (
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key         text NOT NULL,
    post_id     bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);

-- Who may see a post: the author always; nobody across a block; anyone for
-- public, unlisted and local posts; followers (and mentioned accounts) for
-- followers-only posts; mentioned accounts for direct posts.
CREATE FUNCTION stgy_can_see(author bigint, visibility text, post bigint, viewer bigint)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN viewer IS NOT NULL AND viewer = author THEN true
        WHEN viewer IS NOT NULL AND EXISTS (
            SELECT 1 FROM blocks b
            WHERE (b.account_id = author AND b.target_id = viewer)
               OR (b.account_id = viewer AND b.target_id = author)) THEN false
        WHEN visibility IN ('public', 'unlisted', 'local') THEN true
        WHEN viewer IS NULL THEN false
        WHEN visibility = 'followers' THEN
            EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = viewer
                    AND f.followee_id = author AND f.state = 'accepted')
            OR EXISTS (SELECT 1 FROM mentions m WHERE m.post_id = post AND m.account_id = viewer)
        WHEN visibility = 'direct' THEN
            EXISTS (SELECT 1 FROM mentions m WHERE m.post_id = post AND m.account_id = viewer)
        ELSE false
    END
$$;
