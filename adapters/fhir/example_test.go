package fhir_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/healthcare-records/healthcare-records/adapters/fhir"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// A Source lists a patient's documents and fetches one with its content.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		switch r.URL.Path {
		case "/fhir/DocumentReference":
			fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{
			  "resourceType":"DocumentReference","id":"note-1","meta":{"versionId":"3","lastUpdated":"2026-02-01T10:00:00Z"},
			  "status":"current","subject":{"reference":"Patient/p1"}}}]}`)
		case "/fhir/DiagnosticReport":
			fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset"}`)
		case "/fhir/DocumentReference/note-1":
			fmt.Fprint(w, `{"resourceType":"DocumentReference","id":"note-1","meta":{"versionId":"3"},"status":"current",
			  "type":{"coding":[{"system":"http://loinc.org","code":"11506-3"}],"text":"Progress note"},
			  "subject":{"reference":"Patient/p1"},"date":"2026-02-01",
			  "content":[{"attachment":{"contentType":"text/plain","data":"RWF0IG1vcmUgZmlicmUu"}}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	c, _ := provider.New(provider.Config{BaseURL: srv.URL + "/fhir"})
	src, _ := fhir.New(fhir.Config{Client: c})
	ctx := context.Background()
	patient := connector.Ref{System: "php", Type: "Patient", ID: "p1"}

	for cursor, more := "", true; more; {
		page, err := src.ListDocuments(ctx, patient, cursor)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, it := range page.Items {
			fmt.Println("listed", it.Ref.Type, it.Ref.ID, "version", it.Version)
		}
		cursor, more = page.Cursor, page.More
	}
	doc, err := src.FetchDocument(ctx, connector.Ref{System: "php", Type: "DocumentReference", ID: "note-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(doc.Type, doc.Title, doc.Date.Format("2006-01-02"))
	fmt.Println(string(doc.Content))
	// Output:
	// listed DocumentReference note-1 version 3
	// progress_note Progress note 2026-02-01
	// Eat more fibre.
}
