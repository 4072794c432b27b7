package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// BenchmarkBackfill is storetest.BenchBackfill on SQLite: 10,000
// documents over 100 patients into a sink limited to 500 writes/s.
//
//	go test -run '^$' -bench Backfill -benchtime 1x ./store/sqlite/
func BenchmarkBackfill(b *testing.B) {
	for b.Loop() {
		storetest.BenchBackfill(b, func(cfg store.Config) (storetest.Store, error) {
			return sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), cfg)
		})
	}
}

// BenchmarkPracticeLists lists and searches documents among 100,000.
//
//	go test -run '^$' -bench PracticeLists ./store/sqlite/
func BenchmarkPracticeLists(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), storetest.FastConfig())
	require.NoError(b, err)
	defer s.Close()
	storetest.BenchPracticeLists(b, s)
}

// BenchmarkAudit is storetest.BenchAudit on SQLite: what an audit entry
// costs, by the size of the batch it is appended in (to the audit file).
//
//	go test -run '^$' -bench Audit -benchtime 1x ./store/sqlite/
func BenchmarkAudit(b *testing.B) {
	for b.Loop() {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), storetest.FastConfig())
		require.NoError(b, err)
		storetest.BenchAudit(b, "SQLite", s)
		require.NoError(b, s.Close())
	}
}
