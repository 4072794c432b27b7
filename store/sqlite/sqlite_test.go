package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, open)
}

func open(t *testing.T, cfg store.Config) storetest.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hr.db"), cfg)
	require.NoError(t, err)
	return s
}

func TestIngester(t *testing.T) {
	storetest.RunIngester(t, open, func(s storetest.Store, e *connector.Engine) storetest.Ingester {
		return s.(*sqlite.Store).Ingester(e)
	})
}

// Two handles on one database file, as two processes would have.
func TestPeriodic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hr.db")
	storetest.RunPeriodic(t, 2, func(t *testing.T, cfg store.Config) storetest.Store {
		s, err := sqlite.Open(context.Background(), path, cfg)
		require.NoError(t, err)
		return s
	})
}
