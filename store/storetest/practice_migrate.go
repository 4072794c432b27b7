package storetest

import (
	"context"
	"database/sql"
	"strconv"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Migrations is a store's own migrations over a new, empty database.
type Migrations struct {
	DB       *sql.DB
	Provider *goose.Provider
	// Schema describes the database's tables, columns, indexes,
	// constraints and triggers: equal descriptions, equal schemas.
	Schema func(ctx context.Context) (string, error)
}

// practiceVersion is the migration that adds the practice's schema.
const practiceVersion = 6

// RunPracticeMigration holds the practice's migration to going down and
// up again over a database that has data: up to the version before it,
// up (filling carepatron_patient_id from the mappings), down again,
// keeping the engine's rows, and up to the same schema as the first time.
func RunPracticeMigration(t *testing.T, m Migrations) {
	ctx := context.Background()
	db := m.DB
	exec := func(query string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, query, args...)
		require.NoError(t, err, query)
	}
	count := func(query string) int {
		t.Helper()
		var n int
		require.NoError(t, db.QueryRowContext(ctx, query).Scan(&n), query)
		return n
	}
	version := func() int64 {
		t.Helper()
		v, err := m.Provider.GetDBVersion(ctx)
		require.NoError(t, err)
		return v
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	_, err := m.Provider.UpTo(ctx, practiceVersion-1)
	require.NoError(t, err)
	require.Equal(t, int64(practiceVersion-1), version())
	exec(`INSERT INTO users (email, name, type) VALUES ('dee@example.org', 'Dee', 'dietician')`)
	for _, id := range []string{"p1", "p2"} {
		exec(`INSERT INTO patients (name, source, source_id, created_at) VALUES ($1, 'php', $2, $3)`, "Patient "+id, id, now)
	}
	for _, d := range []string{"d1", "d2"} {
		exec(`INSERT INTO healthcare_documents (patient_id, source_system, source_type, source_id, title, content_type,
				content, size)
			SELECT id, 'php', 'DocumentReference', $1, 'Lipid panel', 'text/plain', $2, 11 FROM patients
			WHERE source_id = 'p1'`, d, []byte("cholesterol"))
	}
	var d1, d2 int64
	require.NoError(t, db.QueryRowContext(ctx, `SELECT id FROM healthcare_documents WHERE source_id = 'd1'`).Scan(&d1))
	require.NoError(t, db.QueryRowContext(ctx, `SELECT id FROM healthcare_documents WHERE source_id = 'd2'`).Scan(&d2))
	exec(`INSERT INTO synchronization_log (patient_id, document_id, action, status) SELECT patient_id, id, 'webhook', 'success'
		FROM healthcare_documents WHERE id = $1`, d1)
	exec(`DELETE FROM healthcare_documents WHERE id = $1`, d2)
	for _, m := range [][3]string{
		{"carepatron", "Patient", "p1"}, {"cp", "Patient", "p2"}, {"carepatron", "DocumentReference", "d1"},
	} {
		exec(`INSERT INTO sink_mappings (sink, ref_system, ref_type, ref_id, sink_id) VALUES ($1, 'php', $2, $3, $4)`,
			m[0], m[1], m[2], m[0]+"-"+m[2])
	}

	_, err = m.Provider.UpTo(ctx, practiceVersion)
	require.NoError(t, err)
	require.GreaterOrEqual(t, version(), int64(practiceVersion), "the practice's migration is applied")
	var cp1 string
	require.NoError(t, db.QueryRowContext(ctx, `SELECT carepatron_patient_id FROM patients WHERE source_id = 'p1'`).Scan(&cp1))
	assert.Equal(t, "carepatron-p1", cp1, "filled from the platform's mapping")
	assert.Equal(t, 1, count(`SELECT count(*) FROM patients WHERE source_id = 'p2' AND carepatron_patient_id IS NULL`),
		"another sink's id is not the platform's")
	var content []byte
	require.NoError(t, db.QueryRowContext(ctx, `SELECT content FROM healthcare_documents WHERE id = $1`, d1).Scan(&content))
	assert.Equal(t, "cholesterol", string(content), "documents keep their ids and content")
	assert.Equal(t, 1, count(`SELECT count(*) FROM synchronization_log l JOIN healthcare_documents d ON d.id = l.document_id`))
	exec(`INSERT INTO healthcare_documents (source_system, source_type, source_id) VALUES ('php', 'DocumentReference', 'd3')`)
	assert.Equal(t, 1, count(`SELECT count(*) FROM healthcare_documents WHERE source_id = 'd3' AND id > `+
		strconv.FormatInt(d2, 10)), "no id is used again")
	schema, err := m.Schema(ctx)
	require.NoError(t, err)
	require.Contains(t, schema, "audit_log", "the schema is described")

	addPractice := func() {
		t.Helper()
		exec(`UPDATE users SET patient_id = (SELECT id FROM patients WHERE source_id = 'p1'), password_hash = 'h',
			created_at = $1`, now)
		exec(`UPDATE patients SET link_status = 'unlinked', writeback_status = 'pending', archived_at = $1`, now)
		exec(`UPDATE healthcare_documents SET uploaded_by = (SELECT id FROM users)`)
		exec(`INSERT INTO sessions (id, user_id, created_at, expires_at) SELECT 's1', id, $1, $1 FROM users`, now)
		exec(`INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ('t1', 's1', $1, $1)`, now)
		exec(`INSERT INTO signing_keys (kid, alg, private_key, created_at) VALUES ('k1', 'EdDSA', $1, $2)`, []byte{1}, now)
		exec(`INSERT INTO document_shares (document_id, patient_id, shared_by, shared_with, created_at)
			SELECT d.id, d.patient_id, u.id, u.id, $1 FROM healthcare_documents d, users u WHERE d.patient_id IS NOT NULL`, now)
		exec(`INSERT INTO document_requests (patient_id, what, status, created_at, updated_at)
			SELECT id, 'labs', 'pending', $1, $1 FROM patients`, now)
		exec(`INSERT INTO audit_log (at, action, outcome) VALUES ($1, 'patient.read', 'success')`, now)
	}
	addPractice()

	_, err = m.Provider.DownTo(ctx, practiceVersion-1)
	require.NoError(t, err, "down")
	assert.Equal(t, int64(practiceVersion-1), version())
	for _, q := range []string{
		`SELECT count(*) FROM audit_log`, `SELECT count(*) FROM sessions`, `SELECT count(*) FROM document_shares`,
		`SELECT count(link_status) FROM patients`, `SELECT count(uploaded_by) FROM healthcare_documents`,
		`SELECT count(password_hash) FROM users`,
	} {
		_, err := db.ExecContext(ctx, q)
		assert.Error(t, err, "gone: %s", q)
	}
	assert.Equal(t, 2, count(`SELECT count(*) FROM patients`), "the engine's rows stay")
	assert.Equal(t, 2, count(`SELECT count(*) FROM healthcare_documents`))
	assert.Equal(t, 1, count(`SELECT count(*) FROM users`))

	_, err = m.Provider.UpTo(ctx, practiceVersion)
	require.NoError(t, err, "up again")
	again, err := m.Schema(ctx)
	require.NoError(t, err)
	assert.Equal(t, schema, again, "the same schema")
	assert.Equal(t, 0, count(`SELECT count(*) FROM audit_log`))
	addPractice()
	assert.Equal(t, 1, count(`SELECT count(*) FROM audit_log`))
}
