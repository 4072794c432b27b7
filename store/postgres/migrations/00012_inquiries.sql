-- +goose Up
-- Prospective patients' inquiries, from the practice's web form or by
-- email, until a dietician makes a patient of one or dismisses it.
CREATE TABLE inquiries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  subject text,
  message text NOT NULL,
  -- The dietician addressed; NULL for the practice as a whole, and once
  -- that dietician's user is deleted.
  dietician_id bigint REFERENCES users(id) ON DELETE SET NULL,
  channel text NOT NULL CHECK (channel IN ('form', 'email')),
  -- An email's Message-ID: a message delivered twice is one inquiry.
  -- NULL for a form's (NULLs are distinct).
  message_id text UNIQUE,
  status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'converted', 'dismissed')),
  -- The patient a dietician made of it.
  patient_id bigint REFERENCES patients(id),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX inquiries_dietician ON inquiries (dietician_id, id);
CREATE INDEX inquiries_status ON inquiries (status, id);

-- The files an email inquiry carried, kept as bytes for download: never
-- executed, never shown inline.
CREATE TABLE inquiry_attachments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  inquiry_id bigint NOT NULL REFERENCES inquiries(id) ON DELETE CASCADE,
  name text NOT NULL,
  content_type text NOT NULL,
  size bigint NOT NULL,
  content bytea NOT NULL
);
CREATE INDEX inquiry_attachments_inquiry ON inquiry_attachments (inquiry_id, id);

-- +goose Down
DROP TABLE inquiry_attachments;
DROP TABLE inquiries;
