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

-- The user who uploaded a document; NULL for the provider's documents.
ALTER TABLE healthcare_documents ADD COLUMN uploaded_by INTEGER REFERENCES users(id);
CREATE INDEX healthcare_documents_patient_type ON healthcare_documents (patient_id, type);

CREATE INDEX synchronization_log_timestamp ON synchronization_log (timestamp);

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

-- Requests for more documents, each a FHIR Task at the provider.
CREATE TABLE document_requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  patient_id INTEGER NOT NULL REFERENCES patients(id),
  requested_by INTEGER REFERENCES users(id),
  idempotency_key TEXT NOT NULL UNIQUE,
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
CREATE INDEX document_requests_status ON document_requests (status);

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
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_patient ON audit_log (patient_id, at);

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
DROP INDEX synchronization_log_timestamp;
DROP INDEX healthcare_documents_patient_type;
ALTER TABLE healthcare_documents DROP COLUMN uploaded_by;
DROP INDEX patients_email_lower;
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
