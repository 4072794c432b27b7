-- +goose Up
-- The seed's four tables keep their names and columns; the columns after
-- them are what the sync engine needs. Ids are SQLite rowids.
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email VARCHAR(255) UNIQUE,
  name VARCHAR(255),
  type VARCHAR(255),
  -- Carepatron ids are strings, not the seed's INT.
  carepatron_id TEXT
);

CREATE TABLE patients (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name VARCHAR(255),
  email VARCHAR(255),
  contact_details TEXT,
  medical_history TEXT,
  dietary_preferences TEXT,
  carepatron_patient_id TEXT,
  user_id INTEGER REFERENCES users(id),
  -- The patient's identity at its source (the provider's Patient id).
  source TEXT NOT NULL,
  source_id TEXT NOT NULL,
  identifiers TEXT,
  version TEXT,
  updated_at DATETIME,
  fingerprint TEXT,
  created_at DATETIME,
  UNIQUE (source, source_id)
);
CREATE INDEX patients_email ON patients (email);
CREATE INDEX patients_user ON patients (user_id);

CREATE TABLE healthcare_documents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  patient_id INTEGER REFERENCES patients(id),
  type VARCHAR(255),
  date DATE,
  content BLOB,
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
  raw BLOB,
  deleted BOOLEAN NOT NULL DEFAULT FALSE,
  fingerprint TEXT,
  synced_at DATETIME,
  UNIQUE (source_system, source_type, source_id)
);
CREATE INDEX healthcare_documents_patient ON healthcare_documents (patient_id, date);

CREATE TABLE synchronization_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  patient_id INTEGER REFERENCES patients(id),
  document_id INTEGER REFERENCES healthcare_documents(id),
  action VARCHAR(255),
  timestamp DATETIME,
  status VARCHAR(255),
  details TEXT
);
CREATE INDEX synchronization_log_patient ON synchronization_log (patient_id, timestamp);

-- Event ids already ingested: a repeat is acknowledged and enqueues nothing.
CREATE TABLE ingested_events (
  source TEXT NOT NULL,
  event_id TEXT NOT NULL,
  received_at DATETIME NOT NULL,
  PRIMARY KEY (source, event_id)
);

-- What each sink holds of each patient and document, and the lease that
-- serializes writes of one resource to one sink.
CREATE TABLE sink_mappings (
  sink TEXT NOT NULL,
  ref_system TEXT NOT NULL,
  ref_type TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  sink_id TEXT,
  version TEXT,
  fingerprint TEXT,
  deleted BOOLEAN,
  lease_holder TEXT,
  lease_until INTEGER,
  updated_at DATETIME,
  PRIMARY KEY (sink, ref_system, ref_type, ref_id)
);

-- Where the last listing of a patient's documents at a source ended.
CREATE TABLE source_cursors (
  source TEXT NOT NULL,
  patient TEXT NOT NULL,
  cursor TEXT NOT NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (source, patient)
);

-- Progress of sync runs (reconciles), for the progress bar.
CREATE TABLE sync_runs (
  id TEXT PRIMARY KEY,
  patient_id INTEGER NOT NULL,
  phase TEXT NOT NULL,
  total INTEGER NOT NULL,
  done INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);

-- Unique keys of enqueued ops: a duplicate op is skipped, and a retried
-- batch skips the ops marked done.
CREATE TABLE op_keys (
  key TEXT PRIMARY KEY,
  done BOOLEAN NOT NULL,
  created_at DATETIME NOT NULL
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
