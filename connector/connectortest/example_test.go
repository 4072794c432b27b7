package connectortest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
)

// An adapter's conformance test is one call per interface. Here the
// in-memory implementations stand in for the adapter under test.
func ExampleTestSink() {
	// In the adapter's package, a _test.go file holds:
	testSink := func(t *testing.T) {
		sink := connectortest.NewSink(connectortest.SinkConfig{}) // the adapter under test
		connectortest.TestSink(t, sink, connectortest.SinkOptions{
			// Optional hooks: with them the suite also proves that no write
			// made a duplicate or wrote an old version again.
			Count:       sink.Count,
			HeldVersion: sink.HeldVersion,
		})
	}
	testSource := func(t *testing.T) {
		src := connectortest.NewSource(connectortest.SourceConfig{PageSize: 2})
		patients, err := src.Fill(2, 3)
		if err != nil {
			t.Fatal(err)
		}
		connectortest.TestSource(t, src, connectortest.SourceOptions{
			Name:     "php",
			Patients: []connector.Ref{patients[0].Ref, patients[1].Ref},
		})
	}
	_, _ = testSink, testSource
}

// A response lost after the write does no harm: the engine's retry carries
// the same idempotency key, and the Sink answers it from memory.
func ExampleSink() {
	ctx := context.Background()
	sink := connectortest.NewSink(connectortest.SinkConfig{})

	patient := connector.Patient{Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: "p1"}, Name: "Synthetic Patient", Version: "1"}
	contact, _ := sink.UpsertPatient(ctx, connector.PatientWrite{Key: "patient-p1-v1", Patient: patient})

	doc := connector.Document{
		Ref:     connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"},
		Patient: patient.Ref, Type: connector.DocumentLabResult, Title: "Lipid panel",
		Content: []byte("synthetic"), Version: "1",
	}
	w := connector.DocumentWrite{Key: connector.IdempotencyKey("carepatron", doc.Ref, doc.Version, "", false), PatientSinkID: contact, Document: doc}

	sink.SetFaults(connectortest.Faults{LostResponseRate: 1})
	_, err := sink.PutDocument(ctx, w)
	fmt.Println("first try injected a fault:", errors.Is(err, connectortest.ErrInjected))

	sink.SetFaults(connectortest.Faults{})
	id, err := sink.PutDocument(ctx, w)
	fmt.Println("retry:", id, err)
	fmt.Println("calls with the key:", sink.CallsFor(w.Key), "applied:", sink.AppliedFor(w.Key))
	fmt.Println("documents held:", len(sink.Documents()), "check:", sink.Check())
	// Output:
	// first try injected a fault: true
	// retry: document-2 <nil>
	// calls with the key: 2 applied: 1
	// documents held: 1 check: <nil>
}

// A listing from the final cursor sees only what changed since.
func ExampleSource() {
	ctx := context.Background()
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php", PageSize: 2})
	patients, _ := src.Fill(1, 3)
	patient := patients[0].Ref

	cursor := ""
	for {
		page, _ := src.ListDocuments(ctx, patient, cursor)
		for _, it := range page.Items {
			fmt.Println("listed", it.Ref.ID, "version", it.Version)
		}
		cursor = page.Cursor
		if !page.More {
			break
		}
	}

	_, _ = src.UpdateDocument("doc-2", func(d *connector.Document) { d.Title = "Amended" })
	page, _ := src.ListDocuments(ctx, patient, cursor)
	for _, it := range page.Items {
		fmt.Println("changed", it.Ref.ID, "version", it.Version)
	}
	// Output:
	// listed doc-1 version 1
	// listed doc-2 version 1
	// listed doc-3 version 1
	// changed doc-2 version 2
}
