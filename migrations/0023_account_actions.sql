-- Account actions of moderators (issue 17, docs/moderation.md), on local and remote
-- accounts alike (`accounts.suspended_at` already exists).
--   limited_at:   the account's posts leave the public, local and tag timelines, and
--                 only its followers (and people it mentions) see them.
--   sensitized_at: its posts' media are hidden behind a "sensitive" cover by default.
--   suspension_announced_at: when the `Delete` of a suspended local actor went out,
--                 after moderation.suspension_grace_seconds (NULL: not yet, or lifted).
ALTER TABLE accounts
    ADD COLUMN limited_at timestamptz,
    ADD COLUMN sensitized_at timestamptz,
    ADD COLUMN suspension_announced_at timestamptz;

-- The moderation sweep looks for local suspensions to announce or purge.
CREATE INDEX accounts_suspended_local_idx ON accounts (suspended_at)
    WHERE suspended_at IS NOT NULL AND domain IS NULL AND deleted_at IS NULL;
CREATE INDEX accounts_limited_idx ON accounts (id) WHERE limited_at IS NOT NULL;

-- The posts of a sensitized account are sensitive, whoever writes them (a local post,
-- a remote one taken in or fetched, an edit): one rule for every path that writes posts.
CREATE FUNCTION stgy_posts_sensitized() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.sensitive AND EXISTS (
        SELECT 1 FROM accounts a WHERE a.id = NEW.account_id AND a.sensitized_at IS NOT NULL
    ) THEN
        NEW.sensitive := true;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER posts_sensitized BEFORE INSERT OR UPDATE OF sensitive ON posts
    FOR EACH ROW EXECUTE FUNCTION stgy_posts_sensitized();

-- Who may see a post: as in 0002, except that the public, unlisted and local posts of a
-- limited account are seen by its followers and the people they mention only.
CREATE OR REPLACE FUNCTION stgy_can_see(author bigint, visibility text, post bigint, viewer bigint)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN viewer IS NOT NULL AND viewer = author THEN true
        WHEN viewer IS NOT NULL AND EXISTS (
            SELECT 1 FROM blocks b
            WHERE (b.account_id = author AND b.target_id = viewer)
               OR (b.account_id = viewer AND b.target_id = author)) THEN false
        WHEN visibility IN ('public', 'unlisted', 'local') THEN
            NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = author AND a.limited_at IS NOT NULL)
            OR (viewer IS NOT NULL AND (
                EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = viewer
                        AND f.followee_id = author AND f.state = 'accepted')
                OR EXISTS (SELECT 1 FROM mentions m WHERE m.post_id = post
                           AND m.account_id = viewer)))
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
