-- Followed hashtags (Mastodon's /api/v1/tags/:name/follow): public posts with a tag a
-- person follows come into their home timeline, by the same fan-out as their follows'.
CREATE TABLE followed_tags (
    id          bigint PRIMARY KEY DEFAULT stgy_next_id(),
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag         text NOT NULL CHECK (tag = lower(tag) AND tag <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, tag)
);
-- Fan-out reads "who follows this tag"; pages read a person's follows newest first.
CREATE INDEX followed_tags_tag_idx ON followed_tags (tag, account_id);
CREATE INDEX followed_tags_page_idx ON followed_tags (account_id, id DESC);
