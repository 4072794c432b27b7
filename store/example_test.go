package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// Each sink's deliveries have a queue of their own, and failed ops wait in
// the dead-letter list until replayed.
func ExampleStore_DeadLetters() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	s, err := sqlite.Open(ctx, filepath.Join(dir, "hr.db"), store.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	dead, err := s.DeadLetters(ctx, 10)
	if err != nil {
		panic(err)
	}
	fmt.Println("dead letters:", len(dead))
	fmt.Println("carepatron deliveries run on", store.QueueDeliver("carepatron"))
	// Output:
	// dead letters: 0
	// carepatron deliveries run on hr_deliver_carepatron
}
