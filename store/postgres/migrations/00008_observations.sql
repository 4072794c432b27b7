-- +goose Up
-- Observations kept as data: lab results and vital signs, each the
-- provider's current revision, with the revisions it replaced in
-- observation_versions. Version 7 is another change's: goose applies
-- them in either order (store.Migrate allows it).
CREATE TABLE observations (
  id bigserial PRIMARY KEY,
  patient_id bigint NOT NULL REFERENCES patients(id),
  source_system text NOT NULL,
  source_id text NOT NULL,
  -- The lab report (a document's Source ref) that lists it as a result.
  report_type text,
  report_id text,
  category text,
  code_system text,
  code text NOT NULL,
  display text,
  status text NOT NULL,
  effective_at timestamptz,
  value double precision,
  comparator text,
  unit text,
  value_text text,
  range_low double precision,
  range_high double precision,
  range_text text,
  interpretation text,
  version text,
  updated_at timestamptz,
  deleted boolean NOT NULL DEFAULT FALSE,
  fingerprint text,
  synced_at timestamptz,
  raw bytea,
  UNIQUE (source_system, source_id)
);
-- A series: one patient's values of some codes, in time order.
CREATE INDEX observations_series ON observations (patient_id, code, effective_at);

-- Each revision an observation had before its current one, as JSON.
CREATE TABLE observation_versions (
  id bigserial PRIMARY KEY,
  observation_id bigint NOT NULL REFERENCES observations(id),
  version text,
  status text,
  data text NOT NULL,
  replaced_at timestamptz NOT NULL
);
CREATE INDEX observation_versions_observation ON observation_versions (observation_id, id);

-- +goose Down
DROP TABLE observation_versions;
DROP TABLE observations;
