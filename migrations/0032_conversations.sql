-- Conversations (Mastodon's /api/v1/conversations): one row per local participant of a
-- thread of direct posts, pointing at the newest direct post of that thread they are in,
-- with whether they have read it. `root_id` is the thread's first post
-- (coalesce(posts.conversation_id, posts.id)). A person who removes a conversation loses
-- the row; the next direct post in the thread brings it back, as in Mastodon.
CREATE TABLE conversations (
    id            bigint PRIMARY KEY DEFAULT stgy_next_id(),
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_id       bigint NOT NULL,
    last_post_id  bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    unread        boolean NOT NULL DEFAULT false,
    UNIQUE (account_id, root_id)
);
-- Pages go by the newest post, newest first (Mastodon pages them by last_status_id).
CREATE INDEX conversations_page_idx ON conversations (account_id, last_post_id DESC);

-- The direct posts already there, read: their participants are the author and the
-- mentioned accounts, the local ones only.
INSERT INTO conversations (account_id, root_id, last_post_id, unread)
SELECT DISTINCT ON (who.account_id, coalesce(p.conversation_id, p.id))
       who.account_id, coalesce(p.conversation_id, p.id), p.id, false
FROM posts p
JOIN LATERAL (SELECT p.account_id UNION SELECT m.account_id FROM mentions m
              WHERE m.post_id = p.id) who (account_id) ON true
JOIN accounts a ON a.id = who.account_id AND a.domain IS NULL
WHERE p.visibility = 'direct' AND p.deleted_at IS NULL
ORDER BY who.account_id, coalesce(p.conversation_id, p.id), p.id DESC;
