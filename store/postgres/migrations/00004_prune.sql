-- +goose Up
-- Pruning (Store.Prune) finds ingested events and done op keys by age.
-- Events are inserted in time order, so a BRIN index (a few pages, next to
-- no cost per insert) narrows the search to the old part of the table. The
-- op key index holds only done keys: an op is enqueued with its key not
-- done, so it costs nothing on the ingest path.
CREATE INDEX ingested_events_received_at ON ingested_events USING brin (received_at) WITH (autosummarize = on);
CREATE INDEX op_keys_done_created_at ON op_keys (created_at) WHERE done;

-- +goose Down
DROP INDEX op_keys_done_created_at;
DROP INDEX ingested_events_received_at;
