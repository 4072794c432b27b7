package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

var audited = practice.AuditEntry{Action: practice.ActionReadPatient, Outcome: practice.OutcomeSuccess}

// TestReadInMemory: a database in memory reads on its one connection,
// refusing writes while it reads and taking them again after.
func TestReadInMemory(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, ":memory:", storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	for range 2 {
		err := s.Read(ctx, func(tx practice.Tx) error { return tx.AppendAudit(ctx, audited) })
		assert.Error(t, err, "a write in a read")
		require.NoError(t, s.Write(ctx, func(tx practice.Tx) error { return tx.AppendAudit(ctx, audited) }),
			"a write after a read")
	}
	require.NoError(t, s.Read(ctx, func(tx practice.Tx) error {
		got, err := tx.Audit(ctx, practice.AuditQuery{})
		assert.Len(t, got, 2)
		return err
	}))
}

// TestReadCreatesNoFile: the read connections open the database file only
// if it is there, so that none makes one past Open's checks of its mode.
func TestReadCreatesNoFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hr.db")
	s, err := sqlite.Open(ctx, path, storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		require.NoError(t, os.Remove(name))
	}
	err = s.Read(ctx, func(tx practice.Tx) error {
		_, err := tx.Audit(ctx, practice.AuditQuery{})
		return err
	})
	assert.Error(t, err)
	assert.NoFileExists(t, path)
}
