-- +goose Up
-- Full-text search over document titles and text content. The index keeps
-- letters and digits as they are (no stemming, no folding of accents), the
-- way the PostgreSQL store indexes them, so both find the same documents.
-- Content is indexed only when its type is text/*, up to its first 262,144
-- characters.
CREATE VIRTUAL TABLE healthcare_documents_fts USING fts5(
  title, body, tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO healthcare_documents_fts (rowid, title, body)
SELECT id, coalesce(title, ''),
  CASE WHEN lower(content_type) LIKE 'text/%' THEN substr(CAST(content AS TEXT), 1, 262144) ELSE '' END
FROM healthcare_documents;

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

-- +goose Down
DROP TRIGGER healthcare_documents_fts_delete;
DROP TRIGGER healthcare_documents_fts_update;
DROP TRIGGER healthcare_documents_fts_insert;
DROP TABLE healthcare_documents_fts;
