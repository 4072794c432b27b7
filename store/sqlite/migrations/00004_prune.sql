-- +goose Up
-- Pruning (Store.Prune) finds ingested events and done op keys by age.
-- The op key index holds only done keys: an op is enqueued with its key
-- not done, so the index costs nothing on the ingest path.
CREATE INDEX ingested_events_received_at ON ingested_events (received_at);
CREATE INDEX op_keys_done_created_at ON op_keys (created_at) WHERE done;

-- +goose Down
DROP INDEX op_keys_done_created_at;
DROP INDEX ingested_events_received_at;
