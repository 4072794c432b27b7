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
  document_id bigint NOT NULL REFERENCES healthcare_documents (id),
  seq integer NOT NULL,
  version text,
  type varchar(255),
  title text,
  date timestamptz,
  author text,
  source varchar(255),
  content_type text,
  content bytea,
  size bigint NOT NULL DEFAULT 0,
  content_hash text,
  extracted_text text,
  deleted boolean NOT NULL DEFAULT FALSE,
  updated_at timestamptz,
  synced_at timestamptz,
  PRIMARY KEY (document_id, seq)
);

CREATE TABLE document_version_chunks (
  document_id bigint NOT NULL,
  version_seq integer NOT NULL,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (document_id, version_seq, seq),
  FOREIGN KEY (document_id, version_seq) REFERENCES document_versions (document_id, seq)
);
-- As content_chunks: stored out of line, not compressed again.
ALTER TABLE document_version_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- +goose Down
DROP TABLE document_version_chunks;
DROP TABLE document_versions;
