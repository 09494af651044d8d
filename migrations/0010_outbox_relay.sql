-- Events recorded for the relay (stgy/domain/relay.py) wait with enqueued_at NULL
-- until a worker stamps and enqueues them; this index finds them without a scan.
CREATE INDEX outbox_events_unrelayed_idx ON outbox_events (id)
    WHERE enqueued_at IS NULL AND done_at IS NULL;
