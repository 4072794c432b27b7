package postgres_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/postgres"
)

// One replica of the service: every replica runs the same code against
// the same DATABASE_URL. (This example needs a server, so it only
// compiles; internal/pgtest starts one for the package's tests.)
func Example() {
	ctx := context.Background()
	s, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), store.Config{})
	if err != nil {
		log.Fatal(err) // the message shows the URL with its password masked
	}
	defer s.Close()
	var source connector.Source // your adapters
	var sink connector.Sink
	e, err := connector.New(connector.Config{
		Store:    s,
		Sources:  map[string]connector.Source{"php": source},
		Sinks:    map[string]connector.Sink{"carepatron": sink},
		Progress: s.Progress(), // progress from every replica
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(ctx, e); err != nil {
		log.Fatal(err)
	}
	defer s.Stop(ctx)

	// Hand events to the grouped Ingester: concurrent webhooks commit
	// together.
	ingest := s.Ingester(e)
	_, err = ingest.Ingest(ctx, connector.Event{ID: "evt-1", Source: "php", Changes: []connector.Change{
		{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}, Version: "1"}}})
	if err != nil {
		log.Fatal(err)
	}
}

func ExampleRedact() {
	fmt.Println(postgres.Redact("postgres://app:hunter2@db.internal:5432/records"))
	fmt.Println(postgres.Redact("postgres://db.internal/records?user=app&password=hunter2"))
	// Output:
	// postgres://app:xxxxx@db.internal:5432/records
	// postgres://db.internal/records?password=xxxxx&user=app
}
