-- Jobs that must outlive Redis: deliveries to other servers and mails. Each is written
-- here in the transaction that asks for it, enqueued by the outbox relay after commit
-- (enqueued_at NULL until then), and deleted once it has run to an end (delivered,
-- refused, or out of retries). The worker's recovery loop enqueues again a row whose
-- job is no longer in Redis, so a Redis that lost its data loses none of them.
CREATE TABLE durable_jobs (
    id           bigint PRIMARY KEY DEFAULT stgy_next_id(),
    function     text NOT NULL,
    -- The SAQ job key: one row per key, as the queue keeps one job per key.
    key          text NOT NULL UNIQUE,
    kwargs       jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    enqueued_at  timestamptz
);
CREATE INDEX durable_jobs_unrelayed_idx ON durable_jobs (id) WHERE enqueued_at IS NULL;
