-- +goose Up
-- Content above the engine's streaming threshold is kept in parts of 1 MiB,
-- written in the transaction that keeps its document and read back one part
-- at a time, so that no step holds a large document whole. The document's
-- own content column is NULL then; its size and content_hash describe the
-- whole. A deletion drops its document's parts (documents are marked
-- deleted, not removed); whatever removes a document row removes its parts
-- first. No ON DELETE CASCADE: a migration that rebuilds
-- healthcare_documents, as SQLite's 00006 does, would wipe every part.
CREATE TABLE content_chunks (
  document_id INTEGER NOT NULL REFERENCES healthcare_documents (id),
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (document_id, seq)
);

-- +goose Down
DROP TABLE content_chunks;
