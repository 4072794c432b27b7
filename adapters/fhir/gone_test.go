package fhir_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/fhir"
	"github.com/healthcare-records/healthcare-records/connector"
)

// answer is one canned HTTP answer.
type answer struct {
	status int
	ctype  string
	body   string
}

func (a answer) write(w http.ResponseWriter) {
	if a.ctype != "" {
		w.Header().Set("Content-Type", a.ctype)
	}
	w.WriteHeader(a.status)
	fmt.Fprint(w, a.body)
}

const (
	notFoundOutcome = `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"gone"}]}`
	htmlNotFound    = `<html><body><h1>404 Not Found</h1><p>nginx</p></body></html>`
	liveDocRef      = `{"resourceType":"DocumentReference","id":"d1","meta":{"versionId":"1","lastUpdated":"2026-02-01T10:00:00Z"},
		"status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"text/plain","url":"Binary/b1"}}]}`
	livePatient = `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1","lastUpdated":"2026-02-01T10:00:00Z"}}`
)

func historyOf(method string) answer {
	entry := `{"fullUrl":"http://x/fhir/DocumentReference/d1","request":{"method":"DELETE","url":"DocumentReference/d1"},"response":{"status":"204"}}`
	if method != "DELETE" {
		entry = `{"fullUrl":"http://x/fhir/DocumentReference/d1","resource":` + liveDocRef + `,"request":{"method":"` + method + `","url":"DocumentReference/d1"}}`
	}
	return answer{200, "application/fhir+json", `{"resourceType":"Bundle","type":"history","entry":[` + entry + `]}`}
}

// goneServer answers the read of the resource, its history and the
// attachment Binary/b1 as the case says; nil answers are a FHIR 404.
func goneSource(t *testing.T, read, history, binary *answer) *fhir.Source {
	t.Helper()
	fhirNotFound := answer{404, "application/fhir+json", notFoundOutcome}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := &fhirNotFound
		switch p := strings.TrimPrefix(r.URL.Path, "/fhir/"); {
		case strings.HasSuffix(p, "/_history"):
			if history != nil {
				a = history
			}
		case p == "Binary/b1":
			if binary != nil {
				a = binary
			}
		default:
			if read != nil {
				a = read
			}
		}
		a.write(w)
	}))
	t.Cleanup(srv.Close)
	return sourceOn(t, srv.URL+"/fhir", 0)
}

// Only the FHIR server can confirm a deletion: ErrNotFound (which deletes
// the document at every sink) needs a FHIR OperationOutcome with the 404
// or 410, or a DELETE in the resource's history. An HTML or empty 404 of a
// proxy is retried.
func TestDeletedOnlyWhenFHIRSaysSo(t *testing.T) {
	ptr := func(a answer) *answer { return &a }
	for _, tc := range []struct {
		name          string
		read, history *answer
		binary        *answer
		deleted       bool
	}{
		{name: "fhir 404 outcome", read: ptr(answer{404, "application/fhir+json", notFoundOutcome}), deleted: true},
		{name: "fhir 410 outcome with parameters", read: ptr(answer{410, "application/fhir+json; charset=utf-8; fhirVersion=4.0", notFoundOutcome}), deleted: true},
		{name: "410 outcome as application/json", read: ptr(answer{410, "application/json", notFoundOutcome}), deleted: true},
		{name: "html 404 of a proxy", read: ptr(answer{404, "text/html", htmlNotFound}), history: ptr(answer{404, "text/html", htmlNotFound})},
		{name: "empty 404", read: ptr(answer{404, "", ""}), history: ptr(answer{404, "", ""})},
		{name: "empty 410", read: ptr(answer{410, "", ""}), history: ptr(answer{404, "", ""})},
		{name: "outcome sent as html", read: ptr(answer{404, "text/html", notFoundOutcome}), history: ptr(answer{404, "text/html", htmlNotFound})},
		{name: "json 404 that is not an outcome", read: ptr(answer{404, "application/json", `{"error":"no route"}`}), history: ptr(answer{404, "text/html", htmlNotFound})},
		{name: "html 404, history has no deletion", read: ptr(answer{404, "text/html", htmlNotFound}), history: ptr(historyOf("PUT"))},
		{name: "html 404, fhir 404 for the history is no confirmation", read: ptr(answer{404, "text/html", htmlNotFound})},
		{name: "html 404, history records the deletion", read: ptr(answer{404, "text/html", htmlNotFound}), history: ptr(historyOf("DELETE")), deleted: true},
		{name: "document there, attachment gone", read: ptr(answer{200, "application/fhir+json", liveDocRef})},
		{name: "document there, attachment html 404", read: ptr(answer{200, "application/fhir+json", liveDocRef}), binary: ptr(answer{404, "text/html", htmlNotFound})},
		{name: "html 200 instead of the resource", read: ptr(answer{200, "text/html", htmlNotFound})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := goneSource(t, tc.read, tc.history, tc.binary)
			_, err := fetchWhole(t, src, connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"})
			require.Error(t, err)
			if tc.deleted {
				assert.ErrorIs(t, err, connector.ErrNotFound)
				return
			}
			assert.NotErrorIs(t, err, connector.ErrNotFound, "must not delete the document")
			assert.False(t, connector.IsPermanent(err), "retried: %v", err)
		})
	}
}

func TestPatientReadNotFound(t *testing.T) {
	ptr := func(a answer) *answer { return &a }
	for _, tc := range []struct {
		name          string
		read, history *answer
		notFound      bool
	}{
		{name: "fhir 404 outcome", read: ptr(answer{404, "application/fhir+json", notFoundOutcome}), notFound: true},
		{name: "fhir 410 outcome", read: ptr(answer{410, "application/fhir+json", notFoundOutcome}), notFound: true},
		{name: "html 404", read: ptr(answer{404, "text/html", htmlNotFound}), history: ptr(answer{404, "text/html", htmlNotFound})},
		{name: "empty 404", read: ptr(answer{404, "", ""}), history: ptr(answer{404, "", ""})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := goneSource(t, tc.read, tc.history, nil)
			_, err := src.FindPatient(t.Context(), connector.PatientQuery{ID: "p1"})
			require.Error(t, err)
			if tc.notFound {
				assert.ErrorIs(t, err, connector.ErrNotFound)
				return
			}
			assert.NotErrorIs(t, err, connector.ErrNotFound)
			assert.False(t, connector.IsPermanent(err), "retried: %v", err)
		})
	}
	t.Run("found", func(t *testing.T) {
		src := goneSource(t, ptr(answer{200, "application/fhir+json", livePatient}), nil, nil)
		p, err := src.FindPatient(t.Context(), connector.PatientQuery{ID: "p1"})
		require.NoError(t, err)
		assert.Equal(t, time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC), p.UpdatedAt.UTC())
	})
}
