package storetest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// A store proves it keeps the contract in one call from its own tests.
func ExampleRun() {
	// In a _test.go file of the store's package:
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, cfg store.Config) storetest.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), cfg)
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	}
}
