-- +goose Up
-- The practice service: who may sign in and as what, the patients a
-- dietician owns, uploads, shares, document requests and the audit log.
-- The seed's columns keep their names; the ones added here are what the
-- service needs around them.

-- users.type holds the role: admin, dietician, practitioner or patient.
ALTER TABLE users ADD COLUMN password_hash TEXT;
-- A patient user's own record.
ALTER TABLE users ADD COLUMN patient_id INTEGER REFERENCES patients(id);
ALTER TABLE users ADD COLUMN disabled_at DATETIME;
ALTER TABLE users ADD COLUMN created_at DATETIME;
ALTER TABLE users ADD COLUMN updated_at DATETIME;
-- Emails are unique whatever their case.
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

-- linked: the patient is the provider's (source, source_id); unlinked: no
-- match at the provider yet (source 'practice', source_id a local uuid).
ALTER TABLE patients ADD COLUMN link_status TEXT NOT NULL DEFAULT 'linked';
ALTER TABLE patients ADD COLUMN archived_at DATETIME;
-- When the dietician last changed the record here.
ALTER TABLE patients ADD COLUMN edited_at DATETIME;
-- The write-back of the last edit to the provider: pending, written,
-- conflict or failed; the version it was written over; a readable detail.
ALTER TABLE patients ADD COLUMN writeback_status TEXT;
ALTER TABLE patients ADD COLUMN writeback_base TEXT;
ALTER TABLE patients ADD COLUMN writeback_detail TEXT;
ALTER TABLE patients ADD COLUMN writeback_at DATETIME;
CREATE INDEX patients_email_lower ON patients (lower(email));

-- carepatron_patient_id (a seed column the engine left empty) is the
-- patient's id in the platform sink, which the store now keeps up to date
-- as it saves the sink's mapping of the patient. Filled here from the
-- mappings of the sink of the default name, "carepatron"
-- (store.Config.CarepatronSink).
UPDATE patients SET carepatron_patient_id = m.sink_id
FROM sink_mappings m
WHERE m.sink = 'carepatron' AND m.ref_type = 'Patient' AND m.ref_system = patients.source
  AND m.ref_id = patients.source_id AND m.sink_id <> '';

-- healthcare_documents is made again with content and raw last, and the
-- new uploaded_by (the user who uploaded the document; NULL for the
-- provider's documents) before them. SQLite keeps a row's columns in
-- order and a large value's tail on overflow pages, which it must walk to
-- reach any column after it: listing a patient's documents read every
-- byte of their content. The rows keep their ids, and the search index
-- its rows, which no trigger touches here (dropping a table fires none).
-- The other tables' foreign keys are checked at commit, when the rows
-- they refer to are back (defer_foreign_keys); a rename would make them
-- refer to the old table. The id sequence is kept aside meanwhile.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE healthcare_documents_v5 AS SELECT * FROM healthcare_documents;
UPDATE sqlite_sequence SET name = 'healthcare_documents_v5' WHERE name = 'healthcare_documents';
DROP TABLE healthcare_documents;
CREATE TABLE healthcare_documents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  patient_id INTEGER REFERENCES patients(id),
  type VARCHAR(255),
  date DATE,
  source VARCHAR(255),
  source_system TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source_id TEXT NOT NULL,
  patient_ref TEXT,
  title TEXT,
  author TEXT,
  content_type TEXT,
  size INTEGER NOT NULL DEFAULT 0,
  content_hash TEXT,
  version TEXT,
  updated_at DATETIME,
  deleted BOOLEAN NOT NULL DEFAULT FALSE,
  fingerprint TEXT,
  synced_at DATETIME,
  uploaded_by INTEGER REFERENCES users(id),
  content BLOB,
  raw BLOB,
  UNIQUE (source_system, source_type, source_id)
);
INSERT INTO healthcare_documents (id, patient_id, type, date, source, source_system, source_type, source_id,
  patient_ref, title, author, content_type, size, content_hash, version, updated_at, deleted, fingerprint,
  synced_at, content, raw)
SELECT id, patient_id, type, date, source, source_system, source_type, source_id, patient_ref, title, author,
  content_type, size, content_hash, version, updated_at, deleted, fingerprint, synced_at, content, raw
FROM healthcare_documents_v5;
-- Ids are never used again (AUTOINCREMENT), even those of rows gone.
DELETE FROM sqlite_sequence WHERE name = 'healthcare_documents';
UPDATE sqlite_sequence SET name = 'healthcare_documents' WHERE name = 'healthcare_documents_v5';
DROP TABLE healthcare_documents_v5;
CREATE INDEX healthcare_documents_patient ON healthcare_documents (patient_id, date);

-- The search index's triggers, as migration 00002 made them.
-- +goose StatementBegin
CREATE TRIGGER healthcare_documents_fts_insert AFTER INSERT ON healthcare_documents BEGIN
  INSERT INTO healthcare_documents_fts (rowid, title, body) VALUES (new.id, coalesce(new.title, ''),
    CASE WHEN lower(new.content_type) LIKE 'text/%' THEN substr(CAST(new.content AS TEXT), 1, 262144) ELSE '' END);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER healthcare_documents_fts_update AFTER UPDATE OF title, content, content_type ON healthcare_documents BEGIN
  DELETE FROM healthcare_documents_fts WHERE rowid = old.id;
  INSERT INTO healthcare_documents_fts (rowid, title, body) VALUES (new.id, coalesce(new.title, ''),
    CASE WHEN lower(new.content_type) LIKE 'text/%' THEN substr(CAST(new.content AS TEXT), 1, 262144) ELSE '' END);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER healthcare_documents_fts_delete AFTER DELETE ON healthcare_documents BEGIN
  DELETE FROM healthcare_documents_fts WHERE rowid = old.id;
END;
-- +goose StatementEnd

CREATE INDEX healthcare_documents_patient_type ON healthcare_documents (patient_id, type);
-- For the foreign key's checks when a user is deleted.
CREATE INDEX healthcare_documents_uploaded_by ON healthcare_documents (uploaded_by) WHERE uploaded_by IS NOT NULL;

-- Log listings filter by time, and go newest (highest id) first.
CREATE INDEX synchronization_log_timestamp ON synchronization_log (timestamp);
CREATE INDEX synchronization_log_patient_id ON synchronization_log (patient_id, id);

-- A sign-in: refresh tokens rotate within it; revoking it ends them all.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL,
  revoked_at DATETIME,
  revoke_reason TEXT,
  client_addr TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens by their SHA-256; used_at is set when one is rotated, and
-- a second use revokes its session.
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id),
  created_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL,
  used_at DATETIME
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- The keys that sign access tokens. The newest unretired one signs; a
-- retired one still verifies until retired_at plus a token lifetime.
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  private_key BLOB NOT NULL,
  created_at DATETIME NOT NULL,
  retired_at DATETIME
);

CREATE TABLE document_shares (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  document_id INTEGER NOT NULL REFERENCES healthcare_documents(id),
  patient_id INTEGER NOT NULL REFERENCES patients(id),
  shared_by INTEGER NOT NULL REFERENCES users(id),
  shared_with INTEGER NOT NULL REFERENCES users(id),
  note TEXT,
  created_at DATETIME NOT NULL,
  expires_at DATETIME,
  revoked_at DATETIME,
  revoked_by INTEGER REFERENCES users(id)
);
CREATE INDEX document_shares_with ON document_shares (shared_with, document_id);
CREATE INDEX document_shares_patient ON document_shares (patient_id);
CREATE INDEX document_shares_by ON document_shares (shared_by);
CREATE INDEX document_shares_document ON document_shares (document_id);

-- Requests for more documents, each a FHIR Task at the provider.
CREATE TABLE document_requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  patient_id INTEGER NOT NULL REFERENCES patients(id),
  requested_by INTEGER REFERENCES users(id),
  -- Repeats of a request with one key are one request; NULL for none.
  idempotency_key TEXT UNIQUE,
  what TEXT NOT NULL,
  types TEXT,
  date_from DATETIME,
  date_to DATETIME,
  reason TEXT,
  -- pending (not yet at the provider), requested, in_progress, completed,
  -- rejected, cancelled or failed.
  status TEXT NOT NULL,
  task_ref TEXT,
  detail TEXT,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  completed_at DATETIME
);
CREATE INDEX document_requests_patient ON document_requests (patient_id, created_at);
-- The requests whose status the periodic refresh asks for: the states are
-- written as the store's query writes them, so that the databases use it.
CREATE INDEX document_requests_open ON document_requests (id)
  WHERE status IN ('requested', 'in_progress');

-- Who read or changed what, append-only: the triggers below refuse any
-- update or delete. It holds ids and outcomes, never document content.
CREATE TABLE audit_log (
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
-- Listings go newest (highest id) first, by actor, patient or document.
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_patient ON audit_log (patient_id, id);
CREATE INDEX audit_log_document ON audit_log (document_id, id);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TABLE audit_log;
DROP TABLE document_requests;
DROP TABLE document_shares;
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP INDEX synchronization_log_patient_id;
DROP INDEX synchronization_log_timestamp;
DROP INDEX healthcare_documents_uploaded_by;
DROP INDEX healthcare_documents_patient_type;
-- The documents keep the column order of version 6, which version 5 reads
-- as well: it names the columns it reads.
ALTER TABLE healthcare_documents DROP COLUMN uploaded_by;
DROP INDEX patients_email_lower;
-- carepatron_patient_id keeps its values: version 5 leaves the column alone.
ALTER TABLE patients DROP COLUMN writeback_at;
ALTER TABLE patients DROP COLUMN writeback_detail;
ALTER TABLE patients DROP COLUMN writeback_base;
ALTER TABLE patients DROP COLUMN writeback_status;
ALTER TABLE patients DROP COLUMN edited_at;
ALTER TABLE patients DROP COLUMN archived_at;
ALTER TABLE patients DROP COLUMN link_status;
DROP INDEX users_email_lower;
ALTER TABLE users DROP COLUMN updated_at;
ALTER TABLE users DROP COLUMN created_at;
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE users DROP COLUMN patient_id;
ALTER TABLE users DROP COLUMN password_hash;
