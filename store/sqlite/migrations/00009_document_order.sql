-- +goose Up
-- A patient's documents are listed newest first, documents without a date
-- last, ties by descending id: this index holds them in that order, so a
-- page reads its rows and no more, where the index on (patient_id, date)
-- it replaces made every listing read and sort all of a patient's rows.
CREATE INDEX healthcare_documents_newest ON healthcare_documents (patient_id, (date IS NULL), date DESC, id DESC);
DROP INDEX healthcare_documents_patient;

-- +goose Down
CREATE INDEX healthcare_documents_patient ON healthcare_documents (patient_id, date);
DROP INDEX healthcare_documents_newest;
