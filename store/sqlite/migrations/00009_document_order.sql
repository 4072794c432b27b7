-- +goose Up
-- A patient's documents are listed newest first, documents without a date
-- last, ties by descending id. healthcare_documents_newest holds them in
-- that order, so that a page reads its rows and no more, where the index
-- on (patient_id, date) it replaces made every listing read and sort all
-- of a patient's rows; with the type and the deleted flag in it, a
-- search's matches and their counts are found without reading the rows.
-- healthcare_documents_patient_type gains the deleted flag, so that the
-- counts per type of a listing read the index alone.
CREATE INDEX healthcare_documents_newest
  ON healthcare_documents (patient_id, (date IS NULL), date DESC, id DESC, type, deleted);
DROP INDEX healthcare_documents_patient;
DROP INDEX healthcare_documents_patient_type;
CREATE INDEX healthcare_documents_patient_type ON healthcare_documents (patient_id, type, deleted);

-- +goose Down
DROP INDEX healthcare_documents_patient_type;
CREATE INDEX healthcare_documents_patient_type ON healthcare_documents (patient_id, type);
CREATE INDEX healthcare_documents_patient ON healthcare_documents (patient_id, date);
DROP INDEX healthcare_documents_newest;
