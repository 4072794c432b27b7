package carepatron_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	adapter "github.com/healthcare-records/healthcare-records/adapters/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
	"github.com/healthcare-records/healthcare-records/connector"
)

// The Sink writes a patient and a document; delivering the document again
// with the same key costs no request.
func Example() {
	fake := carepatrontest.NewServer(carepatrontest.Config{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()

	client, _ := carepatron.New(srv.URL, carepatrontest.DefaultAPIKey)
	sink, _ := adapter.New(adapter.Config{Client: client})

	p := connector.Patient{Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: "1"}, Name: "Synthetic Patient", Version: "1"}
	pid, _ := sink.UpsertPatient(ctx, connector.PatientWrite{Key: connector.IdempotencyKey("carepatron", p.Ref, "1", "", false), Patient: p})

	d := connector.Document{
		Ref:     connector.Ref{System: "php", Type: "DocumentReference", ID: "7"},
		Patient: p.Ref, Type: connector.DocumentLabResult, Title: "Lipid panel",
		ContentType: "text/plain", Content: []byte("synthetic result"), Version: "1",
	}
	w := connector.DocumentWrite{Key: connector.IdempotencyKey("carepatron", d.Ref, "1", "", false), PatientSinkID: pid, Document: d}
	id, _ := sink.PutDocument(ctx, w)
	before := fake.Stats().Requests
	again, _ := sink.PutDocument(ctx, w)

	fmt.Println(id == again, fake.Stats().Requests-before, "requests")
	fmt.Println(fake.Documents(pid)[0].SourceLink)
	// Output:
	// true 0 requests
	// urn:healthcare-records:php:DocumentReference:7
}
