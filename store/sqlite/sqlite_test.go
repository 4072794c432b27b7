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

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg store.Config) storetest.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hr.db"), cfg)
		require.NoError(t, err)
		return s
	})
}
