package fhir_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/fhir"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// TestAttachmentCannotReachInternalPages is the security review's
// reproduction: a DocumentReference whose Binary redirects to an
// internal admin page, or whose attachment URL climbs out of the FHIR
// base, must fail permanently with nothing fetched, rather than deliver
// the page as a document.
func TestAttachmentCannotReachInternalPages(t *testing.T) {
	var internal atomic.Int32
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internal.Add(1)
		w.Write([]byte("internal admin page"))
	}))
	t.Cleanup(admin.Close)
	attachments := map[string]string{
		"redirected": "Binary/redirected",
		"dots":       "Binary/../../admin",
		"encoded":    "Binary/%2e%2e/%2e%2e/admin",
		"local":      "Binary/local",
	}
	ehr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/Binary/redirected":
			http.Redirect(w, r, admin.URL+"/admin", http.StatusFound)
		case "/fhir/Binary/local":
			http.Redirect(w, r, "/admin", http.StatusFound)
		case "/admin":
			internal.Add(1)
			w.Write([]byte("internal admin page"))
		default:
			var id string
			if _, err := fmt.Sscanf(r.URL.Path, "/fhir/DocumentReference/%s", &id); err != nil || attachments[id] == "" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/fhir+json")
			fmt.Fprintf(w, `{"resourceType":"DocumentReference","id":%q,"status":"current","meta":{"versionId":"1"},
				"subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"text/plain","url":%q}}]}`, id, attachments[id])
		}
	}))
	t.Cleanup(ehr.Close)
	log := slog.New(slog.DiscardHandler)
	c, err := provider.New(provider.Config{BaseURL: ehr.URL + "/fhir", BearerToken: "tok", Logger: log,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	require.NoError(t, err)
	src, err := fhir.New(fhir.Config{Client: c, Logger: log})
	require.NoError(t, err)
	for id := range attachments {
		t.Run(id, func(t *testing.T) {
			doc, err := fetchWhole(t, src, connector.Ref{Type: "DocumentReference", ID: id})
			require.Error(t, err, "delivered %q", doc)
			assert.ErrorIs(t, err, provider.ErrOrigin)
			assert.True(t, connector.IsPermanent(err))
		})
	}
	assert.Zero(t, internal.Load(), "an internal page was fetched")
}
