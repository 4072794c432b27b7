package connector_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// An engine syncs a provider's documents into a practice platform: here an
// in-memory Source and Sink over the embedded SQLite store.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(ctx, filepath.Join(dir, "hr.db"), store.Config{FetchPollInterval: 20 * time.Millisecond, Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer st.Close()

	php := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	patients, _ := php.Fill(1, 3)
	carepatron := connectortest.NewSink(connectortest.SinkConfig{})

	engine, err := connector.New(connector.Config{
		Store:   st,
		Sources: map[string]connector.Source{"php": php},
		Sinks:   map[string]connector.Sink{"carepatron": carepatron},
		Logger:  quiet,
	})
	if err != nil {
		panic(err)
	}
	if err := st.Start(ctx, engine); err != nil {
		panic(err)
	}
	defer st.Stop(ctx)

	// The provider tells us about the patient; then a manual sync pulls
	// the patient's documents and delivers them.
	patient := php.PatientRef(patients[0].Ref.ID)
	if _, err := engine.Ingest(ctx, connector.Event{ID: "evt-1", Source: "php",
		Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: patient}}}); err != nil {
		panic(err)
	}
	progress, stop := engine.Progress().Subscribe(0)
	defer stop()
	if _, err := engine.Sync(ctx, "php", patient.ID, connector.ActionManualSync, false); err != nil {
		panic(err)
	}
	timeout := time.After(10 * time.Second)
	for done := false; !done; {
		select {
		case p := <-progress:
			if p.Phase == connector.PhaseDone {
				fmt.Printf("synced %d of %d documents\n", p.Done, p.Total)
				done = true
			}
		case <-timeout:
			fmt.Println("no progress")
			return
		}
	}
	for deadline := time.Now().Add(10 * time.Second); len(carepatron.Documents()) < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("documents in the sink:", len(carepatron.Documents()))
	// Output:
	// synced 3 of 3 documents
	// documents in the sink: 3
}

// A malformed change is refused before anything is recorded.
func ExampleEvent_Validate() {
	ev := connector.Event{ID: "evt-2", Source: "php", Changes: []connector.Change{
		{Kind: "replace", Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}},
	}}
	fmt.Println(ev.Validate())
	// Output:
	// event "evt-2" change 0: invalid input: change has unknown kind "replace"
}

// Version ids are opaque: the Source's update times order revisions, and
// numeric ids only for a Source that says its ids are sequential.
func ExampleCompareRevisions() {
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	older := connector.Revision{Version: "f3a9c1e2", UpdatedAt: at}
	newer := connector.Revision{Version: "0b7d44aa", UpdatedAt: at.Add(time.Minute)}
	fmt.Println(connector.CompareRevisions(newer, older, false))
	fmt.Println(connector.CompareRevisions(connector.Revision{Version: "10"}, connector.Revision{Version: "9"}, false))
	fmt.Println(connector.CompareRevisions(connector.Revision{Version: "10"}, connector.Revision{Version: "9"}, true))
	// Output:
	// newer
	// unordered
	// newer
}
