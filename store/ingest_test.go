package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// TestIngesterCanceled: a caller that gives up gets its context's error.
func TestIngesterCanceled(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hr.db"), storetest.FastConfig())
	require.NoError(t, err)
	defer s.Close()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	e, err := connector.New(connector.Config{Store: s, Sources: map[string]connector.Source{"php": src}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Ingester(e).Ingest(ctx, connector.Event{ID: "e", Source: "php",
		Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: src.DocumentRef("d"), Version: "1"}}})
	assert.ErrorIs(t, err, context.Canceled)
}
