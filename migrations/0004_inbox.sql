-- The receiving side of ActivityPub: activities taken at an inbox, and what we
-- know of other instances (blocks now; delivery health and signature scheme later).

-- Every activity accepted at an inbox, stored raw before it is applied by a job.
-- The activity id is unique, so a redelivered activity is recognised and dropped.
CREATE TABLE inbox_activities (
    id            bigint PRIMARY KEY DEFAULT stgy_next_id(),
    ap_id         text NOT NULL UNIQUE,
    actor_id      text NOT NULL,
    type          text NOT NULL,
    raw           jsonb NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    -- Why the activity was not applied (ignored or refused), NULL when it was.
    error         text
);
CREATE INDEX inbox_activities_unprocessed_idx ON inbox_activities (id)
    WHERE processed_at IS NULL;

-- Other instances by domain (host, with the port when not the default).
CREATE TABLE instances (
    domain            text PRIMARY KEY CHECK (domain = lower(domain) AND domain <> ''),
    blocked           boolean NOT NULL DEFAULT false,
    failures          integer NOT NULL DEFAULT 0,
    last_failure_at   timestamptz,
    last_success_at   timestamptz,
    -- 'cavage' or 'rfc9421': how delivery signs for this instance, once known.
    signature_scheme  text CHECK (signature_scheme IN ('cavage', 'rfc9421')),
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Signature checks find the key owner by key id.
CREATE INDEX accounts_public_key_id_idx ON accounts (public_key_id)
    WHERE public_key_id IS NOT NULL;
