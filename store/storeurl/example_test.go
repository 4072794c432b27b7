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
	// storeurl: unsupported database url "mysql://app:xxxxx@db/records": use postgres://…, postgresql://…, host=… (libpq keyword=value), sqlite://PATH or a file path
}

// Redact shows a database URL in logs without its password, whatever its
// form.
func ExampleRedact() {
	fmt.Println(storeurl.Redact("postgres://app:hunter2@db.internal/records"))
	fmt.Println(storeurl.Redact("host=db.internal user=app password='hunter 2' dbname=records"))
	fmt.Println(storeurl.Redact("sqlite:///var/lib/hr/records.db?mode_check=off"))
	// Output:
	// postgres://app:xxxxx@db.internal/records
	// host=db.internal user=app password=xxxxx dbname=records
	// sqlite:///var/lib/hr/records.db?mode_check=off
}
