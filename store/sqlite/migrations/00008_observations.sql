-- +goose Up
-- Observations kept as data: lab results and vital signs, each the
-- provider's current revision, with the revisions it replaced in
-- observation_versions. Version 7 is another change's: goose applies
-- them in either order (store.Migrate allows it).
CREATE TABLE observations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  patient_id INTEGER NOT NULL REFERENCES patients(id),
  source_system TEXT NOT NULL,
  source_id TEXT NOT NULL,
  -- The lab report (a document's Source ref) that lists it as a result.
  report_type TEXT,
  report_id TEXT,
  category TEXT,
  code_system TEXT,
  code TEXT NOT NULL,
  display TEXT,
  status TEXT NOT NULL,
  effective_at DATETIME,
  value REAL,
  comparator TEXT,
  unit TEXT,
  value_text TEXT,
  range_low REAL,
  range_high REAL,
  range_text TEXT,
  interpretation TEXT,
  version TEXT,
  updated_at DATETIME,
  deleted BOOLEAN NOT NULL DEFAULT FALSE,
  fingerprint TEXT,
  synced_at DATETIME,
  raw BLOB,
  UNIQUE (source_system, source_id)
);
-- A series: one patient's values of some codes, in time order.
CREATE INDEX observations_series ON observations (patient_id, code, effective_at);

-- Each revision an observation had before its current one, as JSON.
CREATE TABLE observation_versions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  observation_id INTEGER NOT NULL REFERENCES observations(id),
  version TEXT,
  status TEXT,
  data TEXT NOT NULL,
  replaced_at DATETIME NOT NULL
);
CREATE INDEX observation_versions_observation ON observation_versions (observation_id, id);

-- +goose Down
DROP TABLE observation_versions;
DROP TABLE observations;
