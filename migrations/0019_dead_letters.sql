-- Dead letters (issue 15): an outbox event whose every attempt failed stops. Its job
-- ran `jobs.max_attempts` times (`attempts` now counts attempts begun, so one that timed
-- out or took its worker down counts too); it is then marked failed with its error,
-- never enqueued again by the sweep, and waits for an admin (`stgy jobs retry|discard`).
-- A failed event has failed_at set and done_at NULL; a discarded one has both set.
ALTER TABLE outbox_events ADD COLUMN failed_at timestamptz;
CREATE INDEX outbox_events_dead_letters_idx ON outbox_events (failed_at, id)
    WHERE failed_at IS NOT NULL AND done_at IS NULL;
