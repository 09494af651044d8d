-- The public timeline's remote-only page (Mastodon's `remote=true`, issue 18) reads
-- other instances' public original posts newest first. Without an index of its own it
-- would walk posts_public_idx past every local post; on an instance whose public
-- posts are mostly local that is the whole index for one page (measured on the bench
-- database: 0.5 s for an empty page). This is posts_local_public_idx's twin.
CREATE INDEX posts_remote_public_idx ON posts (id DESC)
    WHERE deleted_at IS NULL AND visibility = 'public' AND NOT local AND share_of_id IS NULL;
