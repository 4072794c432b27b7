-- +goose Up
-- Every version of a document that the current one replaced, with its
-- metadata, hash, content and extracted text, numbered from 1 in the order
-- they were kept: an amended document no longer overwrites the last one.
-- The current version is the document's own row (its number is one more
-- than the last kept here). A version is kept when what a sink shows of
-- the document changes (its fingerprint): a re-sync of the same version
-- keeps nothing. Content held in parts (content_chunks) is kept in parts
-- too, in document_version_chunks.
CREATE TABLE document_versions (
  document_id INTEGER NOT NULL REFERENCES healthcare_documents (id),
  seq INTEGER NOT NULL,
  version TEXT,
  type VARCHAR(255),
  title TEXT,
  date DATE,
  author TEXT,
  source VARCHAR(255),
  content_type TEXT,
  content BLOB,
  size INTEGER NOT NULL DEFAULT 0,
  content_hash TEXT,
  extracted_text TEXT,
  deleted BOOLEAN NOT NULL DEFAULT FALSE,
  updated_at DATETIME,
  synced_at DATETIME,
  PRIMARY KEY (document_id, seq)
);

CREATE TABLE document_version_chunks (
  document_id INTEGER NOT NULL,
  version_seq INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (document_id, version_seq, seq),
  FOREIGN KEY (document_id, version_seq) REFERENCES document_versions (document_id, seq)
);

-- +goose Down
DROP TABLE document_version_chunks;
DROP TABLE document_versions;
