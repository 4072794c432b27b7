-- +goose Up
-- Notifications: what a user is told, in the app and by email; a user's
-- delivery per kind; the failure streaks of sources and sinks that raise
-- an alert and then a recovered notice; and the counts a sync run's
-- finished notice tells. See docs/notifications.md.
CREATE TABLE notifications (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  links TEXT NOT NULL DEFAULT '{}',
  coalesce_key TEXT,
  event_count INTEGER NOT NULL DEFAULT 1,
  delivery TEXT NOT NULL,
  email_due_at timestamptz,
  emailed_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  read_at timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, id) WHERE read_at IS NULL;
-- One unread notification per user and key: the next failure of the same
-- cause counts into it.
CREATE UNIQUE INDEX notifications_coalesce ON notifications (user_id, coalesce_key)
  WHERE read_at IS NULL AND coalesce_key IS NOT NULL;
CREATE INDEX notifications_digest ON notifications (email_due_at) WHERE email_due_at IS NOT NULL;

CREATE TABLE notification_preferences (
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  delivery TEXT NOT NULL,
  PRIMARY KEY (user_id, kind)
);

CREATE TABLE failure_streaks (
  system TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  alerted BOOLEAN NOT NULL,
  cause TEXT,
  since timestamptz,
  updated_at timestamptz NOT NULL
);

CREATE TABLE notification_run_changes (
  run TEXT NOT NULL,
  patient_id bigint NOT NULL,
  what TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (run, patient_id, what)
);

-- +goose Down
DROP TABLE notification_run_changes;
DROP TABLE failure_streaks;
DROP TABLE notification_preferences;
DROP TABLE notifications;
