package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/postgres"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

func TestStore(t *testing.T) {
	// Parallel with the replicas test: both mostly wait on jobs. (The
	// reconnect test, which restarts the server, is not parallel, so it
	// runs before them.)
	t.Parallel()
	storetest.Run(t, open)
}

func open(t *testing.T, cfg store.Config) storetest.Store {
	s, err := postgres.Open(context.Background(), pgtest.Database(t), cfg)
	require.NoError(t, err)
	return s
}

func TestIngester(t *testing.T) {
	storetest.RunIngester(t, open, func(s storetest.Store, e *connector.Engine) storetest.Ingester {
		return s.(*postgres.Store).Ingester(e)
	})
}

// Three store handles on one database, each with its own job client, as
// three replicas of the service have.
func TestPeriodic(t *testing.T) {
	t.Parallel()
	db := pgtest.Database(t)
	storetest.RunPeriodic(t, 3, func(t *testing.T, cfg store.Config) storetest.Store {
		s, err := postgres.Open(context.Background(), db, cfg)
		require.NoError(t, err)
		return s
	})
}
