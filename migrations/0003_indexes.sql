-- Indexes for search, unread counts and follow requests.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Handle prefixes (`lower(handle) LIKE 'ab%'`) and words of display names.
CREATE INDEX accounts_handle_prefix_idx ON accounts (lower(handle) text_pattern_ops);
CREATE INDEX accounts_display_name_trgm_idx ON accounts USING gin (lower(display_name) gin_trgm_ops);

-- Unread notifications of one account.
CREATE INDEX notifications_unread_idx ON notifications (account_id) WHERE read_at IS NULL;

-- Pending follow requests to an account (the approval list).
CREATE INDEX follows_pending_idx ON follows (followee_id, follower_id) WHERE state = 'pending';
