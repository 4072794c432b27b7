package folder_test

import (
	"context"
	"fmt"
	"os"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/examples/custom-adapter/folder"
)

// A listing pages a patient's documents behind a cursor; the final cursor
// lists only what changes next.
func ExampleSource() {
	ctx := context.Background()
	src := folder.NewSource(os.DirFS("../testdata"), folder.SourceConfig{Name: "Example Clinic", PageSize: 1})
	patient := connector.Ref{Type: connector.PatientType, ID: "example"}

	cursor := ""
	for {
		page, err := src.ListDocuments(ctx, patient, cursor)
		if err != nil {
			panic(err)
		}
		for _, it := range page.Items {
			fmt.Println("listed", it.Ref.ID, "version", it.Version)
		}
		cursor = page.Cursor
		if !page.More {
			break
		}
	}
	fmt.Println("cursor:", cursor)

	doc, err := src.FetchDocument(ctx, connector.Ref{Type: "DocumentReference", ID: "discharge-summary"})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %s, %d bytes of %s\n", doc.Title, doc.Type, doc.Size, doc.ContentType)

	_, err = src.FetchDocument(ctx, connector.Ref{Type: "DocumentReference", ID: "../Patient-example"})
	fmt.Println(err)
	// Output:
	// listed discharge-summary version 2
	// listed episode-summary version 1
	// cursor: 2024-05-03T10:15:00Z|episode-summary
	// Discharge Summary: other, 98 bytes of text/plain
	// fetch /DocumentReference/../Patient-example: invalid input: "../Patient-example" is not a FHIR id
}

// A retry with the same idempotency key (after a lost response, say) is
// answered from the Sink's memory and writes nothing.
func ExampleSink() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "folder-sink-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	sink, err := folder.OpenSink(dir)
	if err != nil {
		panic(err)
	}
	defer sink.Close()

	patient := connector.Patient{Ref: connector.Ref{System: "files", Type: connector.PatientType, ID: "p1"}, Name: "Synthetic Patient", Version: "1"}
	pid, err := sink.UpsertPatient(ctx, connector.PatientWrite{Key: connector.IdempotencyKey("folder", patient.Ref, "1", "", false), Patient: patient})
	if err != nil {
		panic(err)
	}
	doc := connector.Document{Ref: connector.Ref{System: "files", Type: "DocumentReference", ID: "d1"}, Patient: patient.Ref,
		Type: connector.DocumentLabResult, Title: "Synthetic lab report", Content: []byte("synthetic"), Version: "1"}
	w := connector.DocumentWrite{Key: connector.IdempotencyKey("folder", doc.Ref, "1", "", false), PatientSinkID: pid, Document: doc}
	first, _ := sink.PutDocument(ctx, w)
	again, _ := sink.PutDocument(ctx, w)
	fmt.Println("same id:", first == again, "writes:", sink.Writes(), "held version:", sink.HeldVersion(doc.Ref))
	// Output:
	// same id: true writes: 2 held version: 1
}
