-- +goose Up
-- Full-text search over document titles and text content, indexed the way
-- the SQLite store's FTS5 table is: runs of letters and digits, lower-cased,
-- no stemming and no stop words (the 'simple' configuration), content only
-- when its type is text/* and up to its first 262,144 characters.

-- hr_search_text is the text a document is searchable by. Content that is
-- not valid UTF-8 counts as empty rather than failing the document's save.
-- +goose StatementBegin
CREATE FUNCTION hr_search_text(title text, content_type text, content bytea) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  body text := '';
BEGIN
  IF lower(content_type) LIKE 'text/%' AND content IS NOT NULL THEN
    BEGIN
      body := left(convert_from(content, 'UTF8'), 262144);
    EXCEPTION WHEN OTHERS THEN
      body := '';
    END;
  END IF;
  RETURN regexp_replace(coalesce(title, '') || ' ' || body, '[^[:alnum:]]+', ' ', 'g');
END;
$$;
-- +goose StatementEnd

ALTER TABLE healthcare_documents ADD COLUMN search tsvector
  GENERATED ALWAYS AS (to_tsvector('simple', hr_search_text(title, content_type, content))) STORED;
CREATE INDEX healthcare_documents_search ON healthcare_documents USING gin (search);

-- +goose Down
DROP INDEX healthcare_documents_search;
ALTER TABLE healthcare_documents DROP COLUMN search;
DROP FUNCTION hr_search_text(text, text, bytea);
