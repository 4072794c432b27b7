-- +goose Up
-- The SQLite store rewrites its times in this migration, into a layout
-- SQLite's date functions read. PostgreSQL stores timestamptz: nothing to
-- do, and the two stores keep one numbering of their migrations.
SELECT 1;

-- +goose Down
SELECT 1;
