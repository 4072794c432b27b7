-- +goose Up
-- Prospective patients' inquiries, from the practice's web form or by
-- email, until a dietician makes a patient of one or dismisses it.
CREATE TABLE inquiries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  subject TEXT,
  message TEXT NOT NULL,
  -- The dietician addressed; NULL for the practice as a whole, and once
  -- that dietician's user is deleted.
  dietician_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
  channel TEXT NOT NULL CHECK (channel IN ('form', 'email')),
  -- An email's Message-ID: a message delivered twice is one inquiry.
  -- NULL for a form's (NULLs are distinct).
  message_id TEXT UNIQUE,
  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'converted', 'dismissed')),
  -- The patient a dietician made of it.
  patient_id INTEGER REFERENCES patients(id),
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
);
CREATE INDEX inquiries_dietician ON inquiries (dietician_id, id);
CREATE INDEX inquiries_status ON inquiries (status, id);

-- The files an email inquiry carried, kept as bytes for download: never
-- executed, never shown inline.
CREATE TABLE inquiry_attachments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  inquiry_id INTEGER NOT NULL REFERENCES inquiries(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  content BLOB NOT NULL
);
CREATE INDEX inquiry_attachments_inquiry ON inquiry_attachments (inquiry_id, id);

-- +goose Down
DROP TABLE inquiry_attachments;
DROP TABLE inquiries;
