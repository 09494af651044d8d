-- Core tables: accounts (local and remote), users, posts, follows, home
-- timelines and the transactional outbox.

-- Time-ordered 64-bit ids: milliseconds since the Unix epoch in the high 48
-- bits, 16 bits of a sequence below, so id order is creation order and a
-- page of newest items is an index range scan (the scheme Mastodon uses).
CREATE SEQUENCE stgy_id_seq AS bigint CYCLE MAXVALUE 65535 MINVALUE 0 START 0;

CREATE FUNCTION stgy_next_id() RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE AS $$
    SELECT (floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint << 16)
           | nextval('stgy_id_seq')
$$;

-- The smallest id that can have been made at a given time (for since/until by date).
CREATE FUNCTION stgy_id_at(at timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT floor(extract(epoch FROM at) * 1000)::bigint << 16
$$;

CREATE TABLE accounts (
    id                bigint PRIMARY KEY DEFAULT stgy_next_id(),
    handle            text NOT NULL,
    -- NULL for accounts of this instance; the remote host otherwise.
    domain            text,
    display_name      text NOT NULL DEFAULT '',
    bio_source        text NOT NULL DEFAULT '',
    bio_html          text NOT NULL DEFAULT '',
    fields            jsonb NOT NULL DEFAULT '[]',
    locked            boolean NOT NULL DEFAULT false,
    discoverable      boolean NOT NULL DEFAULT true,
    bot               boolean NOT NULL DEFAULT false,
    ap_id             text NOT NULL UNIQUE,
    url               text,
    inbox_url         text,
    shared_inbox_url  text,
    outbox_url        text,
    followers_url     text,
    following_url     text,
    featured_url      text,
    public_key_pem    text,
    public_key_id     text,
    avatar_url        text,
    header_url        text,
    posts_count       integer NOT NULL DEFAULT 0,
    followers_count   integer NOT NULL DEFAULT 0,
    following_count   integer NOT NULL DEFAULT 0,
    moved_to_id       bigint REFERENCES accounts (id) ON DELETE SET NULL,
    fetched_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    suspended_at      timestamptz,
    deleted_at        timestamptz,
    CONSTRAINT accounts_handle_format CHECK (handle <> '' AND length(handle) <= 255),
    CONSTRAINT accounts_domain_lower CHECK (domain IS NULL OR domain = lower(domain))
);

-- Handles are unique case-insensitively per domain; local accounts share the
-- empty-string domain in this index.
CREATE UNIQUE INDEX accounts_handle_domain_key
    ON accounts (lower(handle), coalesce(domain, ''));
CREATE INDEX accounts_domain_idx ON accounts (domain) WHERE domain IS NOT NULL;
CREATE INDEX accounts_shared_inbox_idx ON accounts (shared_inbox_url)
    WHERE shared_inbox_url IS NOT NULL;

-- Credentials and keys of local accounts only.
CREATE TABLE users (
    account_id       bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    email            text NOT NULL,
    password_hash    text NOT NULL,
    private_key_pem  text NOT NULL,
    role             text NOT NULL DEFAULT 'user'
        CHECK (role IN ('user', 'moderator', 'admin')),
    approved         boolean NOT NULL DEFAULT true,
    confirmed_at     timestamptz,
    last_login_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE posts (
    id              bigint PRIMARY KEY DEFAULT stgy_next_id(),
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    ap_id           text NOT NULL UNIQUE,
    url             text,
    -- A share (boost) is a post row of its own that points at the shared post.
    share_of_id     bigint REFERENCES posts (id) ON DELETE CASCADE,
    in_reply_to_id  bigint REFERENCES posts (id) ON DELETE SET NULL,
    in_reply_to_ap_id text,
    conversation_id bigint,
    source          text NOT NULL DEFAULT '',
    html            text NOT NULL DEFAULT '',
    summary         text NOT NULL DEFAULT '',
    sensitive       boolean NOT NULL DEFAULT false,
    language        text,
    visibility      text NOT NULL DEFAULT 'public'
        CHECK (visibility IN ('public', 'unlisted', 'followers', 'direct', 'local')),
    allow_likes     boolean NOT NULL DEFAULT true,
    allow_replies   boolean NOT NULL DEFAULT true,
    tags            text[] NOT NULL DEFAULT '{}',
    replies_count   integer NOT NULL DEFAULT 0,
    likes_count     integer NOT NULL DEFAULT 0,
    shares_count    integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    edited_at       timestamptz,
    -- Soft delete: the row stays as a tombstone so the ActivityPub id answers 410.
    deleted_at      timestamptz
);
CREATE INDEX posts_account_idx ON posts (account_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX posts_reply_idx ON posts (in_reply_to_id, id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX posts_share_idx ON posts (share_of_id) WHERE share_of_id IS NOT NULL;
CREATE INDEX posts_public_idx ON posts (id DESC)
    WHERE deleted_at IS NULL AND visibility = 'public';
CREATE INDEX posts_tags_idx ON posts USING gin (tags) WHERE deleted_at IS NULL;

CREATE TABLE follows (
    follower_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followee_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    state        text NOT NULL DEFAULT 'accepted' CHECK (state IN ('pending', 'accepted')),
    ap_id        text UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    accepted_at  timestamptz,
    PRIMARY KEY (follower_id, followee_id),
    CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);
-- Fan-out reads "who follows this author": an index-only scan of this.
CREATE INDEX follows_followee_idx ON follows (followee_id, follower_id) WHERE state = 'accepted';

-- Home timelines, written by fan-out; trimmed to the newest N per owner.
CREATE TABLE timeline_entries (
    owner_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id     bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    -- The author of post_id (the sharer for a share), so unfollow removes by author.
    author_id   bigint NOT NULL,
    PRIMARY KEY (owner_id, post_id)
);
CREATE INDEX timeline_entries_author_idx ON timeline_entries (owner_id, author_id);

-- The transactional outbox: a row written in the same transaction as the change
-- it describes; jobs are derived from it and mark it done.
CREATE TABLE outbox_events (
    id           bigint PRIMARY KEY DEFAULT stgy_next_id(),
    kind         text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    enqueued_at  timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    done_at      timestamptz
);
CREATE INDEX outbox_events_pending_idx ON outbox_events (id) WHERE done_at IS NULL;
