-- +goose Up
-- The words of a document's content that its type does not show as text
-- (a PDF's, a C-CDA narrative's), extracted in the pull: the search index
-- takes them instead of the content when there are any.
ALTER TABLE healthcare_documents ADD COLUMN extracted_text TEXT;

DROP TRIGGER healthcare_documents_fts_insert;
DROP TRIGGER healthcare_documents_fts_update;

-- +goose StatementBegin
CREATE TRIGGER healthcare_documents_fts_insert AFTER INSERT ON healthcare_documents BEGIN
  INSERT INTO healthcare_documents_fts (rowid, title, body) VALUES (new.id, coalesce(new.title, ''),
    CASE WHEN new.extracted_text IS NOT NULL THEN substr(new.extracted_text, 1, 262144)
      WHEN lower(new.content_type) LIKE 'text/%' THEN substr(CAST(new.content AS TEXT), 1, 262144) ELSE '' END);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER healthcare_documents_fts_update AFTER UPDATE OF title, content, content_type, extracted_text ON healthcare_documents BEGIN
  DELETE FROM healthcare_documents_fts WHERE rowid = old.id;
  INSERT INTO healthcare_documents_fts (rowid, title, body) VALUES (new.id, coalesce(new.title, ''),
    CASE WHEN new.extracted_text IS NOT NULL THEN substr(new.extracted_text, 1, 262144)
      WHEN lower(new.content_type) LIKE 'text/%' THEN substr(CAST(new.content AS TEXT), 1, 262144) ELSE '' END);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER healthcare_documents_fts_insert;
DROP TRIGGER healthcare_documents_fts_update;

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

ALTER TABLE healthcare_documents DROP COLUMN extracted_text;
