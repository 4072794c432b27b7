-- +goose NO TRANSACTION
-- +goose Up
-- The audit log moves to a file of its own, attached to every connection
-- as "audit" (see audit.go): every read of patient data appends to it, and
-- a commit to the records' file makes every read connection drop its
-- cache of them. SQLite makes a transaction atomic in each file, not
-- across two, so the move is statements that each commit to one file, in
-- an order that loses nothing wherever a crash stops it, and that repeat
-- without copying anything twice: create the log in its file; copy the
-- entries, ids and all (an empty table stands in for one a crash already
-- dropped); make the copy durable; only then drop the old table.
-- +goose StatementBegin
CREATE TABLE IF NOT EXISTS audit.audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at DATETIME NOT NULL,
  actor_id INTEGER,
  actor_role TEXT,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  patient_id INTEGER,
  document_id INTEGER,
  target TEXT,
  client_addr TEXT,
  request_id TEXT,
  detail TEXT
);
-- +goose StatementEnd
CREATE INDEX IF NOT EXISTS audit.audit_log_at ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit.audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX IF NOT EXISTS audit.audit_log_patient ON audit_log (patient_id, id);
CREATE INDEX IF NOT EXISTS audit.audit_log_document ON audit_log (document_id, id);
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit.audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit.audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TABLE IF NOT EXISTS main.audit_log (id INTEGER PRIMARY KEY, at, actor_id, actor_role, action, outcome,
  patient_id, document_id, target, client_addr, request_id, detail);
-- +goose StatementEnd
-- +goose StatementBegin
INSERT OR IGNORE INTO audit.audit_log (id, at, actor_id, actor_role, action, outcome, patient_id, document_id, target,
    client_addr, request_id, detail)
  SELECT id, at, actor_id, actor_role, action, outcome, patient_id, document_id, target, client_addr, request_id, detail
  FROM main.audit_log;
-- +goose StatementEnd
PRAGMA audit.wal_checkpoint(FULL);
DROP TABLE main.audit_log;

-- +goose Down
-- The same, the other way: back to the records' file, as 00006 made it.
-- +goose StatementBegin
CREATE TABLE IF NOT EXISTS main.audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at DATETIME NOT NULL,
  actor_id INTEGER,
  actor_role TEXT,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  patient_id INTEGER,
  document_id INTEGER,
  target TEXT,
  client_addr TEXT,
  request_id TEXT,
  detail TEXT
);
-- +goose StatementEnd
CREATE INDEX IF NOT EXISTS main.audit_log_at ON audit_log (at);
CREATE INDEX IF NOT EXISTS main.audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX IF NOT EXISTS main.audit_log_patient ON audit_log (patient_id, id);
CREATE INDEX IF NOT EXISTS main.audit_log_document ON audit_log (document_id, id);
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS main.audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS main.audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TABLE IF NOT EXISTS audit.audit_log (id INTEGER PRIMARY KEY, at, actor_id, actor_role, action, outcome,
  patient_id, document_id, target, client_addr, request_id, detail);
-- +goose StatementEnd
-- +goose StatementBegin
INSERT OR IGNORE INTO main.audit_log (id, at, actor_id, actor_role, action, outcome, patient_id, document_id, target,
    client_addr, request_id, detail)
  SELECT id, at, actor_id, actor_role, action, outcome, patient_id, document_id, target, client_addr, request_id, detail
  FROM audit.audit_log;
-- +goose StatementEnd
PRAGMA main.wal_checkpoint(FULL);
DROP TABLE audit.audit_log;
