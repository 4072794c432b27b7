package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// practiceColumns renders the practice's columns of patient php/p1 as one
// text, in both dialects.
const practiceColumns = `SELECT COALESCE(CAST(user_id AS TEXT), '') || '|' || link_status || '|' ||
	COALESCE(CAST(archived_at AS TEXT), '') || '|' || COALESCE(CAST(edited_at AS TEXT), '') || '|' ||
	COALESCE(carepatron_patient_id, '') || '|' || COALESCE(CAST(created_at AS TEXT), '') || '|' || COALESCE(name, '')
	FROM patients WHERE source = 'php' AND source_id = 'p1'`

// The engine's writes of a patient (a pull's SavePatient, the write-back
// state) leave the columns the practice owns as the practice wrote them.
func TestEngineKeepsPracticeColumns(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (storetest.Store, func(q string, args ...any), func(q string) string)
	}{
		{"sqlite", func(t *testing.T) (storetest.Store, func(q string, args ...any), func(q string) string) {
			path := filepath.Join(t.TempDir(), "hr.db")
			s, err := sqlite.Open(ctx, path, storetest.FastConfig())
			require.NoError(t, err)
			db, err := sql.Open("sqlite", path)
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return s, func(q string, args ...any) {
					_, err := db.ExecContext(ctx, q, args...)
					require.NoError(t, err, q)
				}, func(q string) (out string) {
					require.NoError(t, db.QueryRowContext(ctx, q).Scan(&out), q)
					return out
				}
		}},
		{"postgres", func(t *testing.T) (storetest.Store, func(q string, args ...any), func(q string) string) {
			s, err := postgres.Open(ctx, pgtest.Database(t), storetest.FastConfig())
			require.NoError(t, err)
			return s, func(q string, args ...any) {
					_, err := s.Pool().Exec(ctx, q, args...)
					require.NoError(t, err, q)
				}, func(q string) (out string) {
					require.NoError(t, s.Pool().QueryRow(ctx, q).Scan(&out), q)
					return out
				}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, exec, text := tc.open(t)
			defer s.Close()
			at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			exec(`INSERT INTO users (email, name, type) VALUES ('dietician@example.invalid', 'Dietician', 'dietician')`)
			exec(`INSERT INTO patients (source, source_id, name, user_id, link_status, archived_at, edited_at,
					carepatron_patient_id, created_at, writeback_status, writeback_base, writeback_detail, writeback_at)
				SELECT 'php', 'p1', 'Typed Here', id, 'linked', $1, $1, 'cp-1', $1, 'written', '3', 'fine', $1
				FROM users WHERE email = 'dietician@example.invalid'`, at)
			before := text(practiceColumns)

			// A pull keeps the Source's copy.
			require.NoError(t, s.Update(ctx, func(tx connector.Tx) error {
				p := connector.Patient{Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: "p1"},
					Name: "From The Provider", Version: "4", UpdatedAt: at.Add(time.Hour)}
				_, err := tx.SavePatient(ctx, connector.StoredPatient{Patient: p, Fingerprint: p.Fingerprint()})
				return err
			}))
			after := text(practiceColumns)
			assert.Equal(t, before[:len(before)-len("Typed Here")], after[:len(after)-len("From The Provider")],
				"the practice's columns are as they were")
			assert.Contains(t, after, "From The Provider", "the synced fields are the Source's")

			// The write-back state is the engine's; nothing else moves.
			require.NoError(t, s.Update(ctx, func(tx connector.Tx) error {
				p, err := tx.Patient(ctx, connector.Ref{System: "php", Type: connector.PatientType, ID: "p1"})
				require.NoError(t, err)
				w, err := tx.WriteBack(ctx, p.ID)
				require.NoError(t, err)
				assert.Equal(t, connector.WriteBack{Status: connector.WriteBackWritten, Base: "3", Detail: "fine", At: at}, w)
				return tx.SaveWriteBack(ctx, p.ID, connector.WriteBack{Status: connector.WriteBackPending, Base: "4", At: at.Add(time.Minute)})
			}))
			assert.Equal(t, after, text(practiceColumns))
			assert.Equal(t, "pending|4|", text(`SELECT writeback_status || '|' || writeback_base || '|' || COALESCE(writeback_detail, '')
				FROM patients WHERE source_id = 'p1'`))
		})
	}
}
