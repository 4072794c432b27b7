-- +goose Up
-- Times used to be written in Go's time.Time.String layout
-- ("2026-03-01 12:00:00.5 +0000 UTC"), which SQLite's date and time
-- functions do not read: datetime() and julianday() gave NULL. The store
-- now writes them in the driver's "sqlite" layout
-- ("2026-03-01 12:00:00.5+00:00"), which they read and which sorts as it
-- reads. Every time the store wrote is UTC; rewrite them in the new layout.
UPDATE patients SET updated_at = replace(updated_at, ' +0000 UTC', '+00:00') WHERE updated_at LIKE '% +0000 UTC';
UPDATE patients SET created_at = replace(created_at, ' +0000 UTC', '+00:00') WHERE created_at LIKE '% +0000 UTC';
UPDATE healthcare_documents SET "date" = replace("date", ' +0000 UTC', '+00:00') WHERE "date" LIKE '% +0000 UTC';
UPDATE healthcare_documents SET updated_at = replace(updated_at, ' +0000 UTC', '+00:00') WHERE updated_at LIKE '% +0000 UTC';
UPDATE healthcare_documents SET synced_at = replace(synced_at, ' +0000 UTC', '+00:00') WHERE synced_at LIKE '% +0000 UTC';
UPDATE synchronization_log SET "timestamp" = replace("timestamp", ' +0000 UTC', '+00:00') WHERE "timestamp" LIKE '% +0000 UTC';
UPDATE ingested_events SET received_at = replace(received_at, ' +0000 UTC', '+00:00') WHERE received_at LIKE '% +0000 UTC';
UPDATE sink_mappings SET updated_at = replace(updated_at, ' +0000 UTC', '+00:00') WHERE updated_at LIKE '% +0000 UTC';
UPDATE source_cursors SET updated_at = replace(updated_at, ' +0000 UTC', '+00:00') WHERE updated_at LIKE '% +0000 UTC';
UPDATE sync_runs SET created_at = replace(created_at, ' +0000 UTC', '+00:00') WHERE created_at LIKE '% +0000 UTC';
UPDATE sync_runs SET updated_at = replace(updated_at, ' +0000 UTC', '+00:00') WHERE updated_at LIKE '% +0000 UTC';
UPDATE op_keys SET created_at = replace(created_at, ' +0000 UTC', '+00:00') WHERE created_at LIKE '% +0000 UTC';

-- +goose Down
-- The times stay in the new layout, which the store reads as well.
SELECT 1;
