-- Mail: single-use tokens (email confirmation, email change, password reset),
-- per-user notification mail settings, and which notifications were mailed.

-- Only a SHA-256 of each token is kept: the token itself exists in the mail alone.
CREATE TABLE mail_tokens (
    id          bigint PRIMARY KEY DEFAULT stgy_next_id(),
    account_id  bigint NOT NULL REFERENCES users (account_id) ON DELETE CASCADE,
    purpose     text NOT NULL
        CHECK (purpose IN ('confirm_email', 'change_email', 'reset_password')),
    token_hash  bytea NOT NULL UNIQUE,
    -- The address the mail went to: confirming proves this one.
    email       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX mail_tokens_account_idx ON mail_tokens (account_id, purpose) WHERE used_at IS NULL;

-- Notification mails are opt-in.
ALTER TABLE users
    ADD COLUMN mail_on_follow boolean NOT NULL DEFAULT false,
    ADD COLUMN mail_on_mention boolean NOT NULL DEFAULT false;

-- A notification is mailed at most once, however often its event is applied.
CREATE TABLE notification_mails (
    notification_id  bigint PRIMARY KEY REFERENCES notifications (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now()
);
