-- When each session was last used, and from which address: shown on /settings/sessions.
-- Written at most once every few minutes per session (stgy/domain/session_use.py), not
-- per request. NULL for sessions older than this migration until they are used again
-- (a volatile default on ADD COLUMN would rewrite the table; SET DEFAULT does not).
ALTER TABLE sessions ADD COLUMN last_used_at timestamptz;
ALTER TABLE sessions ALTER COLUMN last_used_at SET DEFAULT now();
ALTER TABLE sessions ADD COLUMN last_used_ip text;
