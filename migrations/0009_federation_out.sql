-- The sending side of ActivityPub, and the incoming activities that need rows of their own.

-- Delivery health: when an instance started failing (reset by any success), and since
-- when it is skipped as unavailable (reset when it answers again).
ALTER TABLE instances ADD COLUMN failing_since timestamptz;
ALTER TABLE instances ADD COLUMN unavailable_since timestamptz;
CREATE INDEX instances_unavailable_idx ON instances (domain) WHERE unavailable_since IS NOT NULL;

-- Reports made by remote instances (Flag) or, later, by local users; for admins.
CREATE TABLE reports (
    id                  bigint PRIMARY KEY DEFAULT stgy_next_id(),
    ap_id               text UNIQUE,
    reporter_id         bigint REFERENCES accounts (id) ON DELETE SET NULL,
    target_account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_ids            bigint[] NOT NULL DEFAULT '{}',
    comment             text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    resolved_at         timestamptz
);
CREATE INDEX reports_open_idx ON reports (id DESC) WHERE resolved_at IS NULL;

-- Move: where a remote account said it moved to (the target's id, or its ActivityPub id
-- when we do not know that account).
ALTER TABLE accounts ADD COLUMN moved_to_ap_id text;
