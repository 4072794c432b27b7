package storeurl_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

// Open takes DATABASE_URL as it is: a file path (or sqlite://PATH) opens
// SQLite, postgres://… opens PostgreSQL.
func Example() {
	dir, _ := os.MkdirTemp("", "storeurl-example")
	defer os.RemoveAll(dir)
	databaseURL := "sqlite://" + filepath.Join(dir, "records.db") // os.Getenv("DATABASE_URL")

	s, err := storeurl.Open(context.Background(), databaseURL, store.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	hits, err := s.SearchDocuments(context.Background(), store.SearchQuery{Text: "lipid panel"})
	fmt.Println(len(hits), err)

	_, err = storeurl.Open(context.Background(), "mysql://app:hunter2@db/records", store.Config{})
	fmt.Println(err)
	// Output:
	// 0 <nil>
	// storeurl: unsupported database url "mysql://app:xxxxx@db/records": use postgres://…, postgresql://…, sqlite://PATH or a file path
}
