-- +goose Up
-- Content above the engine's streaming threshold is kept in parts of 1 MiB,
-- written in the transaction that keeps its document and read back one part
-- at a time, so that no step holds a large document whole. The document's
-- own content column is NULL then; its size and content_hash describe the
-- whole. Parts go with their document.
CREATE TABLE content_chunks (
  document_id INTEGER NOT NULL REFERENCES healthcare_documents (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (document_id, seq)
);

-- +goose Down
DROP TABLE content_chunks;
