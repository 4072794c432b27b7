-- +goose Up
-- The words of a document's content that its type does not show as text
-- (a PDF's, a C-CDA narrative's), extracted in the pull: the search
-- vector takes them instead of the content when there are any.
ALTER TABLE healthcare_documents ADD COLUMN extracted_text text;

-- +goose StatementBegin
CREATE FUNCTION hr_document_text(title text, content_type text, content bytea, extracted text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF extracted IS NOT NULL THEN
    RETURN regexp_replace(coalesce(title, '') || ' ' || left(extracted, 262144), '[^[:alnum:]]+', ' ', 'g');
  END IF;
  RETURN hr_search_text(title, content_type, content);
END;
$$;
-- +goose StatementEnd

DROP INDEX healthcare_documents_search;
ALTER TABLE healthcare_documents DROP COLUMN search;
ALTER TABLE healthcare_documents ADD COLUMN search tsvector
  GENERATED ALWAYS AS (to_tsvector('simple', hr_document_text(title, content_type, content, extracted_text))) STORED;
CREATE INDEX healthcare_documents_search ON healthcare_documents USING gin (search);

-- +goose Down
DROP INDEX healthcare_documents_search;
ALTER TABLE healthcare_documents DROP COLUMN search;
ALTER TABLE healthcare_documents ADD COLUMN search tsvector
  GENERATED ALWAYS AS (to_tsvector('simple', hr_search_text(title, content_type, content))) STORED;
CREATE INDEX healthcare_documents_search ON healthcare_documents USING gin (search);
ALTER TABLE healthcare_documents DROP COLUMN extracted_text;
DROP FUNCTION hr_document_text(text, text, bytea, text);
