package fhir_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/fhir"
	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/labs"
	"github.com/healthcare-records/healthcare-records/provider"
)

// mockSource serves a mock PHP of cfg on loopback and returns it with a
// Source over it; with a client key, the mock requires SMART Backend
// Services and the Source asks for scope (empty: provider.DefaultScope).
func mockSource(t *testing.T, cfg mockphp.Config, key *mockphp.ClientKey, scope string) (*mockphp.Server, *fhir.Source) {
	php, src, _ := countedMockSource(t, cfg, key, scope)
	return php, src
}

// countedMockSource is mockSource with a count of the searches of
// DiagnosticReport the Source made.
func countedMockSource(t *testing.T, cfg mockphp.Config, key *mockphp.ClientKey, scope string) (*mockphp.Server, *fhir.Source, *atomic.Int64) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	cfg.Logger = log
	pc := provider.Config{Logger: log}
	if key != nil {
		cfg.RequireAuth, cfg.Clients = true, []mockphp.Client{{ID: "hr", JWKS: key.JWKS()}}
		pc.SMART = &provider.SMARTConfig{ClientID: "hr", Key: key.Private, KeyID: key.Kid, Scope: scope}
	}
	php, err := mockphp.New(cfg)
	require.NoError(t, err)
	var reports atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/DiagnosticReport") {
			reports.Add(1)
		}
		php.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = php.Close() })
	php.SetPublicURL(srv.URL)
	pc.BaseURL = php.BaseURL()
	c, err := provider.New(pc)
	require.NoError(t, err)
	src, err := fhir.New(fhir.Config{Client: c, Logger: log})
	require.NoError(t, err)
	return php, src, &reports
}

// A listing finds its observations' reports in a search a page, and the
// fetches that follow search no more.
func TestObservationReportsFoundByTheListing(t *testing.T) {
	php, src, reports := countedMockSource(t, mockphp.Config{Seed: 9, Patients: 1, DocsPerPatient: 12}, nil, "")
	items := listEvery(t, src.ListObservations, php.Patients()[0].ID)
	require.NotEmpty(t, items)
	listed := reports.Load()
	labs := 0
	for _, it := range items {
		o, err := src.FetchObservation(t.Context(), it.Ref)
		require.NoError(t, err)
		if o.Category == "laboratory" {
			labs++
			assert.Equal(t, "DiagnosticReport", o.Report.Type, "observation %s", it.Ref.ID)
		}
	}
	require.Positive(t, labs)
	assert.Equal(t, listed, reports.Load(), "no report search per observation after the listing")
	assert.Less(t, listed, int64(labs), "fewer report searches than lab results")
}

// A client whose scopes do not cover Observation lists none, and its
// documents still list.
func TestObservationsForbidden(t *testing.T) {
	key, err := mockphp.NewClientKey("ES384")
	require.NoError(t, err)
	php, src := mockSource(t, mockphp.Config{Seed: 4, Patients: 1, DocsPerPatient: 6}, key,
		"system/Patient.rsu system/DocumentReference.rs system/DiagnosticReport.rs system/Binary.r")
	patient := connector.Ref{ID: php.Patients()[0].ID}

	page, err := src.ListObservations(t.Context(), patient, "")
	require.NoError(t, err)
	assert.Empty(t, page.Items)
	assert.False(t, page.More)
	docs, err := src.ListDocuments(t.Context(), patient, "")
	require.NoError(t, err)
	assert.NotEmpty(t, docs.Items)
}

// Every numeric lab result and vital sign the mock reports, in whatever
// unit, converts to its analyte's display unit.
func TestObservationUnitsConvert(t *testing.T) {
	php, src := mockSource(t, mockphp.Config{Seed: 9, Patients: 8, DocsPerPatient: 10}, nil, "")
	seen := map[string]map[string]bool{}
	for _, p := range php.Patients() {
		for _, it := range listEvery(t, src.ListObservations, p.ID) {
			o, err := src.FetchObservation(t.Context(), it.Ref)
			require.NoError(t, err)
			a, ok := labs.ByCode(o.Code.Code)
			if !ok || o.Value == nil {
				continue
			}
			_, ok = a.Convert(*o.Value, o.Unit)
			assert.True(t, ok, "%s in %q converts to %s", a.ID, o.Unit, a.Unit)
			if seen[a.ID] == nil {
				seen[a.ID] = map[string]bool{}
			}
			seen[a.ID][o.Unit] = true
		}
	}
	assert.Len(t, seen["glucose"], 2, "glucose in two units: %v", seen["glucose"])
	assert.Len(t, seen["weight"], 2, "weight in two units: %v", seen["weight"])
	assert.NotEmpty(t, seen["bmi"])
}
