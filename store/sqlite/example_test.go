package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// Open creates the database and applies the migrations; the store is then
// ready for an engine.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	s, err := sqlite.Open(ctx, filepath.Join(dir, "healthcare-records.db"), store.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	err = s.Update(ctx, func(tx connector.Tx) error {
		fresh, err := tx.RecordEvent(ctx, "php", "evt-1")
		fmt.Println("first time:", fresh)
		fresh, _ = tx.RecordEvent(ctx, "php", "evt-1")
		fmt.Println("again:", fresh)
		return err
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// first time: true
	// again: false
}
