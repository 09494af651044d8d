-- The fetch side of federation: outbox backfill of remote accounts, and replies
-- fetched before the post they answer.

-- When a remote account's outbox was last read to backfill its newest posts
-- (NULL: never), so that a lookup or a follow reads it once, not every time.
ALTER TABLE accounts ADD COLUMN outbox_fetched_at timestamptz;

-- Replies whose parent we did not have when they were stored: linked to it
-- (in_reply_to_id) once the parent arrives.
CREATE INDEX posts_orphan_reply_idx ON posts (in_reply_to_ap_id)
    WHERE in_reply_to_id IS NULL AND in_reply_to_ap_id IS NOT NULL;
