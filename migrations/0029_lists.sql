-- Lists (Mastodon's, issue 18): a person's named sets of accounts they follow, each
-- with a timeline of its own. A member row hangs on the follow itself, so unfollowing
-- (or a block, a rejected request, a domain block cutting the follow, an account's
-- deletion, which all delete the follow) takes the account out of the owner's lists,
-- as Mastodon does, with no code of ours to forget.

CREATE TABLE lists (
    id              bigint PRIMARY KEY DEFAULT stgy_next_id(),
    owner_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title           text NOT NULL CHECK (btrim(title) <> '' AND char_length(title) <= 200),
    -- Which replies the list's timeline shows (stgy/domain/lists.py says how).
    replies_policy  text NOT NULL DEFAULT 'list'
        CHECK (replies_policy IN ('followed', 'list', 'none')),
    -- The members' posts leave the owner's home timeline (Mastodon 4.2).
    exclusive       boolean NOT NULL DEFAULT false,
    -- list_entries hold every member post with an id above this (fan-out, backfill);
    -- pages below it are read from the members' posts (the trim cron raises it).
    entries_floor   bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- For list_members' foreign key: a member row names the list's own owner.
    UNIQUE (id, owner_id)
);
CREATE INDEX lists_owner_idx ON lists (owner_id, id);
-- The home timeline's page looks up its owner's exclusive lists: for the many who
-- have none, one probe of this small index finds nothing.
CREATE INDEX lists_exclusive_idx ON lists (owner_id) WHERE exclusive;

CREATE TABLE list_members (
    list_id     bigint NOT NULL,
    owner_id    bigint NOT NULL,
    account_id  bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list_id, account_id),
    FOREIGN KEY (list_id, owner_id) REFERENCES lists (id, owner_id) ON DELETE CASCADE,
    -- Only an account the owner follows (or asked to follow) can be a member, and
    -- stops being one when the follow goes.
    FOREIGN KEY (owner_id, account_id) REFERENCES follows (follower_id, followee_id)
        ON DELETE CASCADE
);
-- The lists an author's post reaches (streaming), the lists an account is in, and the
-- cascade from a deleted follow: all by (account, owner).
CREATE INDEX list_members_account_idx ON list_members (account_id, owner_id, list_id);

-- A list's timeline as home's is kept: entries written by the fan-out job (one set-based
-- INSERT per post), so a page is a range scan of the primary key. An entry of an
-- account that left the list stays until the trim; pages keep to current members.
CREATE TABLE list_entries (
    list_id    bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    post_id    bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    author_id  bigint NOT NULL,
    PRIMARY KEY (list_id, post_id)
);
CREATE INDEX list_entries_author_idx ON list_entries (list_id, author_id);
