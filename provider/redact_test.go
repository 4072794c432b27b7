package provider_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/provider"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://ehr.example.org/fhir", "https://ehr.example.org/fhir"},
		{"https://u:secret@ehr.example.org/fhir", "https://u:xxxxx@ehr.example.org/fhir"},
		{"ftp://svc:secret@files.example.org/x", "ftp://svc:xxxxx@files.example.org/x"},
		{"https://u:secret@ehr.example.org/%zz", "xxxxx@ehr.example.org/%zz"},
		{"svc:secret@ehr.example.org", "xxxxx@ehr.example.org"},
		{"https://token@ehr.example.org/fhir", "https://xxxxx@ehr.example.org/fhir"},
		{"not a url", "not a url"},
		{"carepatron.example/TOKEN@x", "xxxxx@x"},
	} {
		assert.Equal(t, tc.want, provider.RedactURL(tc.in), tc.in)
	}
}

func TestConfigErrorsRedactCredentials(t *testing.T) {
	key := testRSAKey(t)
	for _, cfg := range []provider.Config{
		{BaseURL: "ftp://svc:secret@ehr.example.org/fhir"},
		{BaseURL: "https://u:secret@ehr.example.org/fhir"},
		{BaseURL: "https://u:secret@ehr.example.org/%zz"},
		{BaseURL: "https://ehr.example.org/fhir", ContentOrigins: []string{"ftp://svc:secret@files.example.org"}},
		{BaseURL: "https://ehr.example.org/fhir", ContentOrigins: []string{"https://u:secret@files.example.org"}},
		{BaseURL: "https://ehr.example.org/fhir", ContentOrigins: []string{"https://u:secret@files.example.org/%zz"}},
		{BaseURL: "https://ehr.example.org/fhir", SMART: &provider.SMARTConfig{ClientID: "c", Key: key, TokenURL: "ftp://svc:secret@ehr.example.org/token"}},
		{BaseURL: "https://ehr.example.org/fhir", SMART: &provider.SMARTConfig{ClientID: "c", Key: key, TokenURL: "https://u:secret@ehr.example.org/token"}},
		{BaseURL: "https://ehr.example.org/fhir", SMART: &provider.SMARTConfig{ClientID: "c", Key: key, TokenURL: "https://u:secret@ehr.example.org/%zz"}},
	} {
		_, err := provider.New(cfg)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "secret")
	}
}

// phi are search parameters that carry patient data, with values that
// must appear in no log line and no error.
var phi = url.Values{
	"email":      {"jane.roe@example.org"},
	"name":       {"Jane Roe"},
	"family":     {"Roefamily"},
	"given":      {"Janegiven"},
	"birthdate":  {"1971-02-03"},
	"identifier": {"urn:mrn|MRN123456"},
}

func assertNoPHI(t *testing.T, s string) {
	t.Helper()
	for k, vs := range phi {
		for _, v := range vs {
			for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
				assert.NotContains(t, s, form, k)
			}
		}
	}
}

func TestTransportErrorsLeaveOutTheQuery(t *testing.T) {
	srv := newServer(t, http.NotFoundHandler())
	base := srv.URL
	srv.Close() // connection refused
	c := newClient(t, base, func(c *provider.Config) { c.RetryMax = -1 })
	_, err := c.Search(t.Context(), "Patient", phi)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/Patient")
	assertNoPHI(t, err.Error())
}

func TestLogsLeaveOutTheQuery(t *testing.T) {
	var calls atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // retried, and logged
			return
		}
		writeJSON(w, 200, searchset(""))
	}))
	var logs bytes.Buffer
	c := newClient(t, srv.URL, func(c *provider.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, err := c.Search(t.Context(), "Patient", phi)
	require.NoError(t, err)
	require.Equal(t, int32(2), calls.Load())
	assert.Contains(t, logs.String(), "fhir retry", "the retry is logged")
	assert.Contains(t, logs.String(), "path=/Patient")
	assertNoPHI(t, logs.String())
	assert.NotContains(t, logs.String(), "email=")
}
