-- +goose Up
-- The practice service: who may sign in and as what, the patients a
-- dietician owns, uploads, shares, document requests and the audit log.
-- The seed's columns keep their names; the ones added here are what the
-- service needs around them.

-- users.type holds the role: admin, dietician, practitioner or patient.
ALTER TABLE users ADD COLUMN password_hash text;
-- A patient user's own record.
ALTER TABLE users ADD COLUMN patient_id bigint REFERENCES patients(id);
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
ALTER TABLE users ADD COLUMN created_at timestamptz;
ALTER TABLE users ADD COLUMN updated_at timestamptz;
-- Emails are unique whatever their case.
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

-- linked: the patient is the provider's (source, source_id); unlinked: no
-- match at the provider yet (source 'practice', source_id a local uuid).
ALTER TABLE patients ADD COLUMN link_status text NOT NULL DEFAULT 'linked';
ALTER TABLE patients ADD COLUMN archived_at timestamptz;
-- When the dietician last changed the record here.
ALTER TABLE patients ADD COLUMN edited_at timestamptz;
-- The write-back of the last edit to the provider: pending, written,
-- conflict or failed; the version it was written over; a readable detail.
ALTER TABLE patients ADD COLUMN writeback_status text;
ALTER TABLE patients ADD COLUMN writeback_base text;
ALTER TABLE patients ADD COLUMN writeback_detail text;
ALTER TABLE patients ADD COLUMN writeback_at timestamptz;
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

-- The user who uploaded a document; NULL for the provider's documents.
ALTER TABLE healthcare_documents ADD COLUMN uploaded_by bigint REFERENCES users(id);
CREATE INDEX healthcare_documents_patient_type ON healthcare_documents (patient_id, type);
-- For the foreign key's checks when a user is deleted.
CREATE INDEX healthcare_documents_uploaded_by ON healthcare_documents (uploaded_by) WHERE uploaded_by IS NOT NULL;

-- Log listings filter by time, and go newest (highest id) first.
CREATE INDEX synchronization_log_timestamp ON synchronization_log (timestamp);
CREATE INDEX synchronization_log_patient_id ON synchronization_log (patient_id, id);

-- A sign-in: refresh tokens rotate within it; revoking it ends them all.
CREATE TABLE sessions (
  id text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoke_reason text,
  client_addr text
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens by their SHA-256; used_at is set when one is rotated, and
-- a second use revokes its session.
CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  session_id text NOT NULL REFERENCES sessions(id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- The keys that sign access tokens. The newest unretired one signs; a
-- retired one still verifies until retired_at plus a token lifetime.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  private_key bytea NOT NULL,
  created_at timestamptz NOT NULL,
  retired_at timestamptz
);

CREATE TABLE document_shares (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  document_id bigint NOT NULL REFERENCES healthcare_documents(id),
  patient_id bigint NOT NULL REFERENCES patients(id),
  shared_by bigint NOT NULL REFERENCES users(id),
  shared_with bigint NOT NULL REFERENCES users(id),
  note text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz,
  revoked_by bigint REFERENCES users(id)
);
CREATE INDEX document_shares_with ON document_shares (shared_with, document_id);
CREATE INDEX document_shares_patient ON document_shares (patient_id);
CREATE INDEX document_shares_by ON document_shares (shared_by);
CREATE INDEX document_shares_document ON document_shares (document_id);

-- Requests for more documents, each a FHIR Task at the provider.
CREATE TABLE document_requests (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  patient_id bigint NOT NULL REFERENCES patients(id),
  requested_by bigint REFERENCES users(id),
  -- Repeats of a request with one key are one request; NULL for none.
  idempotency_key text UNIQUE,
  what text NOT NULL,
  types text,
  date_from timestamptz,
  date_to timestamptz,
  reason text,
  -- pending (not yet at the provider), requested, in_progress, completed,
  -- rejected, cancelled or failed.
  status text NOT NULL,
  task_ref text,
  detail text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz
);
CREATE INDEX document_requests_patient ON document_requests (patient_id, created_at);
-- The requests whose status the periodic refresh asks for: the states are
-- written as the store's query writes them, so that the databases use it.
CREATE INDEX document_requests_open ON document_requests (id)
  WHERE status IN ('requested', 'in_progress');

-- Who read or changed what, append-only: the triggers below refuse any
-- update, delete or truncate. It holds ids and outcomes, never document content.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  actor_id bigint,
  actor_role text,
  action text NOT NULL,
  outcome text NOT NULL,
  patient_id bigint,
  document_id bigint,
  target text,
  client_addr text,
  request_id text,
  detail text
);
-- Listings go newest (highest id) first, by actor, patient or document.
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_patient ON audit_log (patient_id, id);
CREATE INDEX audit_log_document ON audit_log (document_id, id);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
-- TRUNCATE is refused too.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE document_requests;
DROP TABLE document_shares;
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP INDEX synchronization_log_patient_id;
DROP INDEX synchronization_log_timestamp;
DROP INDEX healthcare_documents_uploaded_by;
DROP INDEX healthcare_documents_patient_type;
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
