-- +goose Up
-- The same tables and columns as the SQLite store's first migration, in
-- PostgreSQL's types: identity ids, timestamptz, bytea for content, and
-- json (kept byte for byte, unlike jsonb) for the source's raw resource.
CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email varchar(255) UNIQUE,
  name varchar(255),
  type varchar(255),
  carepatron_id text
);

CREATE TABLE patients (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name varchar(255),
  email varchar(255),
  contact_details text,
  medical_history text,
  dietary_preferences text,
  carepatron_patient_id text,
  user_id bigint REFERENCES users(id),
  source text NOT NULL,
  source_id text NOT NULL,
  identifiers text,
  version text,
  updated_at timestamptz,
  fingerprint text,
  created_at timestamptz,
  UNIQUE (source, source_id)
);
CREATE INDEX patients_email ON patients (email);
CREATE INDEX patients_user ON patients (user_id);

CREATE TABLE healthcare_documents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  patient_id bigint REFERENCES patients(id),
  type varchar(255),
  -- The seed's DATE, with the time of day the source gives.
  date timestamptz,
  content bytea,
  source varchar(255),
  source_system text NOT NULL,
  source_type text NOT NULL,
  source_id text NOT NULL,
  patient_ref text,
  title text,
  author text,
  content_type text,
  size bigint NOT NULL DEFAULT 0,
  content_hash text,
  version text,
  updated_at timestamptz,
  raw json,
  deleted boolean NOT NULL DEFAULT false,
  fingerprint text,
  synced_at timestamptz,
  UNIQUE (source_system, source_type, source_id)
);
CREATE INDEX healthcare_documents_patient ON healthcare_documents (patient_id, date);

CREATE TABLE synchronization_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  patient_id bigint REFERENCES patients(id),
  document_id bigint REFERENCES healthcare_documents(id),
  action varchar(255),
  timestamp timestamptz,
  status varchar(255),
  details text
);
CREATE INDEX synchronization_log_patient ON synchronization_log (patient_id, timestamp);

CREATE TABLE ingested_events (
  source text NOT NULL,
  event_id text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (source, event_id)
);

CREATE TABLE sink_mappings (
  sink text NOT NULL,
  ref_system text NOT NULL,
  ref_type text NOT NULL,
  ref_id text NOT NULL,
  sink_id text,
  version text,
  fingerprint text,
  deleted boolean,
  lease_holder text,
  -- Unix milliseconds, as the shared SQL compares them.
  lease_until bigint,
  updated_at timestamptz,
  PRIMARY KEY (sink, ref_system, ref_type, ref_id)
);

CREATE TABLE source_cursors (
  source text NOT NULL,
  patient text NOT NULL,
  cursor text NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (source, patient)
);

CREATE TABLE sync_runs (
  id text PRIMARY KEY,
  patient_id bigint NOT NULL,
  phase text NOT NULL,
  total integer NOT NULL,
  done integer NOT NULL,
  errors integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Unique keys of enqueued ops: a duplicate op is skipped, and a retried
-- batch skips the ops marked done.
CREATE TABLE op_keys (
  key text PRIMARY KEY,
  done boolean NOT NULL,
  created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE op_keys;
DROP TABLE sync_runs;
DROP TABLE source_cursors;
DROP TABLE sink_mappings;
DROP TABLE ingested_events;
DROP TABLE synchronization_log;
DROP TABLE healthcare_documents;
DROP TABLE patients;
DROP TABLE users;
