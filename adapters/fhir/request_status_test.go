package fhir_test

import (
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/fhir"
	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// A document request the mock PHP fulfils after its TaskDelay is tracked
// from requested to completed, and the documents it created are listed.
func TestRequestTrackerMockPHP(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	php, err := mockphp.New(mockphp.Config{Seed: 9, Patients: 1, DocsPerPatient: 2, TaskDelay: 300 * time.Millisecond, Logger: log})
	require.NoError(t, err)
	srv := httptest.NewServer(php)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = php.Close() })
	php.SetPublicURL(srv.URL)
	require.NoError(t, php.Start(t.Context())) // its document-request scheduler
	c, err := provider.New(provider.Config{BaseURL: php.BaseURL(), Logger: log})
	require.NoError(t, err)
	src, err := fhir.New(fhir.Config{Client: c, Logger: log})
	require.NoError(t, err)
	var tracker connector.RequestTracker = src

	patient := connector.Ref{System: "php", Type: connector.PatientType, ID: php.Patients()[0].ID}
	listed := func() int {
		n, cursor := 0, ""
		for {
			page, err := src.ListDocuments(t.Context(), patient, cursor)
			require.NoError(t, err)
			n += len(page.Items)
			if !page.More {
				return n
			}
			cursor = page.Cursor
		}
	}
	before := listed()

	task, err := src.RequestDocuments(t.Context(), connector.DocumentRequest{Patient: patient, Key: "req-1",
		What: "Recent results", Types: []connector.DocumentType{connector.DocumentLabResult, connector.DocumentProgressNote}})
	require.NoError(t, err)
	status, _, err := tracker.RequestStatus(t.Context(), task)
	require.NoError(t, err)
	assert.Equal(t, connector.RequestRequested, status, "not fulfilled before the task delay")

	require.Eventually(t, func() bool {
		status, _, err = tracker.RequestStatus(t.Context(), task)
		return err == nil && status == connector.RequestCompleted
	}, 10*time.Second, 20*time.Millisecond, "completed after the task delay (last: %s, %v)", status, err)
	assert.Equal(t, before+2, listed(), "a lab report and a progress note were added")

	_, _, err = tracker.RequestStatus(t.Context(), connector.Ref{System: "php", Type: "Task", ID: "no-such-task"})
	assert.ErrorIs(t, err, connector.ErrNotFound, "a task the server does not have")
	_, _, err = tracker.RequestStatus(t.Context(), connector.Ref{System: "php", Type: "Patient", ID: patient.ID})
	assert.ErrorIs(t, err, connector.ErrInvalid, "only tasks are requests")
}

// Every FHIR Task status reads as a request state, with the status reason
// as the detail; a code FHIR does not define keeps the request open.
func TestRequestStatusMapping(t *testing.T) {
	s := newFHIRServer(t)
	seed(s)
	src := newSource(t, s, 10)
	task, err := src.RequestDocuments(t.Context(), connector.DocumentRequest{
		Patient: connector.Ref{System: "php", Type: connector.PatientType, ID: "p1"}, Key: "req-1"})
	require.NoError(t, err)
	for _, tc := range []struct {
		status, reason string
		want           connector.RequestStatus
		detail         string
	}{
		{"requested", "", connector.RequestRequested, ""},
		{"accepted", "", connector.RequestRequested, ""},
		{"in-progress", "", connector.RequestInProgress, ""},
		{"on-hold", "waiting for the lab", connector.RequestInProgress, "waiting for the lab"},
		{"completed", "", connector.RequestCompleted, ""},
		{"rejected", "no such records", connector.RequestRejected, "no such records"},
		{"cancelled", "", connector.RequestCancelled, ""},
		{"entered-in-error", "", connector.RequestCancelled, ""},
		{"failed", "", connector.RequestFailed, ""},
		{"paused-by-vendor", "", connector.RequestInProgress, "task status paused-by-vendor"},
	} {
		t.Run(tc.status, func(t *testing.T) {
			s.mu.Lock()
			r := s.resources["Task/"+task.ID]
			r["status"] = tc.status
			delete(r, "statusReason")
			if tc.reason != "" {
				r["statusReason"] = map[string]any{"text": tc.reason}
			}
			s.mu.Unlock()
			got, detail, err := src.RequestStatus(t.Context(), task)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.detail, detail)
		})
	}
}
