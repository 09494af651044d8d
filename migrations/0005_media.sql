-- Media: uploaded images (attachments, avatars, headers) and the attachments of
-- remote posts. A local upload is processed by a job into three renditions kept
-- in object storage; a remote one is hot-linked (or cached, when configured).

CREATE TABLE media (
    id            bigint PRIMARY KEY DEFAULT stgy_next_id(),
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- What the upload is for: avatars are cropped square.
    purpose       text NOT NULL DEFAULT 'attachment'
        CHECK (purpose IN ('attachment', 'avatar', 'header')),
    state         text NOT NULL DEFAULT 'processing'
        CHECK (state IN ('processing', 'ready', 'failed')),
    local         boolean NOT NULL DEFAULT true,
    -- Remote media: the attachment URL the remote server gave (hot-linked).
    remote_url    text,
    remote_preview_url text,
    content_type  text NOT NULL DEFAULT '',
    description   text NOT NULL DEFAULT '',
    focus_x       real NOT NULL DEFAULT 0 CHECK (focus_x BETWEEN -1 AND 1),
    focus_y       real NOT NULL DEFAULT 0 CHECK (focus_y BETWEEN -1 AND 1),
    width         integer,
    height        integer,
    blurhash      text,
    animated      boolean NOT NULL DEFAULT false,
    -- Public URLs of the renditions (NULL until ready) and the blob keys behind them.
    url           text,
    large_url     text,
    small_url     text,
    blob_keys     text[] NOT NULL DEFAULT '{}',
    -- The raw upload waiting for the job (never served), removed once processed.
    upload_key    text,
    bytes         bigint NOT NULL DEFAULT 0,
    error         text,
    post_id       bigint REFERENCES posts (id) ON DELETE SET NULL,
    position      smallint NOT NULL DEFAULT 0,
    -- Remote media cached here: when (for purge-remote).
    cached_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz
);
CREATE INDEX media_post_idx ON media (post_id, position) WHERE post_id IS NOT NULL;
CREATE INDEX media_account_idx ON media (account_id, id DESC);
-- The cleanup cron: local uploads never attached to anything.
CREATE INDEX media_unattached_idx ON media (created_at) WHERE post_id IS NULL AND local;
-- Uploads whose job was lost (Redis restart) are found and re-enqueued.
CREATE INDEX media_processing_idx ON media (created_at) WHERE state = 'processing';
CREATE INDEX media_cached_idx ON media (cached_at) WHERE cached_at IS NOT NULL;

ALTER TABLE accounts
    ADD COLUMN avatar_media_id bigint REFERENCES media (id) ON DELETE SET NULL,
    ADD COLUMN header_media_id bigint REFERENCES media (id) ON DELETE SET NULL;
CREATE INDEX accounts_avatar_media_idx ON accounts (avatar_media_id)
    WHERE avatar_media_id IS NOT NULL;
CREATE INDEX accounts_header_media_idx ON accounts (header_media_id)
    WHERE header_media_id IS NOT NULL;
