-- +goose Up
-- A run counts the deliveries of what it pulled that failed for good, apart
-- from its pulls: those happen after the run's listing is accounted for.
ALTER TABLE sync_runs ADD COLUMN delivery_errors INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sync_runs DROP COLUMN delivery_errors;
