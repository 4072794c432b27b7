package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// TestAuditTruncateRefused: PostgreSQL's TRUNCATE, which no row trigger
// sees, cannot empty the audit log either (storetest's Audit case holds
// both databases to refusing UPDATE and DELETE).
func TestAuditTruncateRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.Database(t), storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Write(ctx, func(tx practice.Tx) error {
		return tx.AppendAudit(ctx, practice.AuditEntry{Action: practice.ActionReadPatient, Outcome: practice.OutcomeSuccess})
	}))
	for _, stmt := range []string{`TRUNCATE audit_log`, `TRUNCATE audit_log RESTART IDENTITY CASCADE`} {
		_, err = s.Pool().Exec(ctx, stmt)
		if assert.Error(t, err, stmt) {
			assert.Contains(t, err.Error(), "append-only", stmt)
		}
	}
	var n int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&n))
	assert.Equal(t, 1, n)
}
