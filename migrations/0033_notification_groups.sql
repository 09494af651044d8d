-- Grouped notifications (Mastodon 4.3's /api/v2/notifications): likes and shares of the
-- same post, and follows, made within the same twelve hours share a group, as Mastodon
-- groups them; every other notification is a group of its own. The key is computed
-- from the row (its id is time-ordered: milliseconds << 16), so no writer has to know it.
ALTER TABLE notifications ADD COLUMN group_key text GENERATED ALWAYS AS (
    CASE
        WHEN type = 'like' AND post_id IS NOT NULL
            THEN 'favourite-' || post_id || '-' || ((id >> 16) / 43200000)
        WHEN type = 'share' AND post_id IS NOT NULL
            THEN 'reblog-' || post_id || '-' || ((id >> 16) / 43200000)
        WHEN type = 'follow' THEN 'follow-' || ((id >> 16) / 43200000)
        ELSE 'ungrouped-' || id
    END
) STORED;
CREATE INDEX notifications_group_idx ON notifications (account_id, group_key, id DESC);
