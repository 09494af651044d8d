-- A moderator's warning reaches its person in the app too (issue 17), not only by mail:
-- a notification of type 'moderation_warning' carrying the warning's text. Its
-- from_account_id is the warned account itself (moderators stay unnamed, as Mastodon
-- does); each warning is a notification of its own, so the once-only index leaves
-- warnings out.
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check CHECK (type IN (
    'follow', 'follow_request', 'mention', 'reply', 'like', 'share', 'moderation_warning'));
ALTER TABLE notifications ADD COLUMN text text
    CHECK ((type = 'moderation_warning') = (text IS NOT NULL));
DROP INDEX notifications_once_idx;
CREATE UNIQUE INDEX notifications_once_idx
    ON notifications (account_id, type, from_account_id, coalesce(post_id, 0))
    WHERE type <> 'moderation_warning';
