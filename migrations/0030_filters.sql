-- Mastodon's filters (issue 18): a person's named filters, each applying in some
-- contexts (home, notifications, public, thread, account), warning about what matches
-- or hiding it, until it expires (NULL: never). What matches is a keyword (whole word
-- or anywhere in the text) or a chosen post.

CREATE TABLE filters (
    id             bigint PRIMARY KEY DEFAULT stgy_next_id(),
    account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 256),
    context        text[] NOT NULL CHECK (cardinality(context) BETWEEN 1 AND 5
        AND context <@ ARRAY['home', 'notifications', 'public', 'thread', 'account']),
    action         text NOT NULL DEFAULT 'warn' CHECK (action IN ('warn', 'hide')),
    expires_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- A person's filters, read on each page they look at (most people have none).
CREATE INDEX filters_account_idx ON filters (account_id, id);

CREATE TABLE filter_keywords (
    id          bigint PRIMARY KEY DEFAULT stgy_next_id(),
    filter_id   bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword     text NOT NULL CHECK (length(keyword) BETWEEN 1 AND 512),
    whole_word  boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filter_keywords_filter_idx ON filter_keywords (filter_id, id);

-- No foreign key to posts: a filtered post that is deleted simply matches nothing.
CREATE TABLE filter_posts (
    id          bigint PRIMARY KEY DEFAULT stgy_next_id(),
    filter_id   bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    post_id     bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (filter_id, post_id)
);
