package fhir_test

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/fhir"
	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/provider"
)

// The Source keeps the connector.Source contract against the mock PHP,
// authorized with SMART Backend Services (ES384).
func TestConformanceMockPHP(t *testing.T) {
	key, err := mockphp.NewClientKey("ES384")
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	php, err := mockphp.New(mockphp.Config{Seed: 4, Patients: 3, DocsPerPatient: 4, RequireAuth: true,
		Clients: []mockphp.Client{{ID: "hr", JWKS: key.JWKS()}}, Logger: log})
	require.NoError(t, err)
	srv := httptest.NewServer(php)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = php.Close() })
	php.SetPublicURL(srv.URL)

	c, err := provider.New(provider.Config{BaseURL: php.BaseURL(), PageSize: 3, Logger: log,
		SMART: &provider.SMARTConfig{ClientID: "hr", Key: key.Private, KeyID: key.Kid}})
	require.NoError(t, err)
	src, err := fhir.New(fhir.Config{Client: c, Logger: log})
	require.NoError(t, err)

	var patients []connector.Ref
	for _, p := range php.Patients() {
		patients = append(patients, connector.Ref{ID: p.ID})
	}
	require.NotEmpty(t, patients)
	connectortest.TestSource(t, src, connectortest.SourceOptions{Name: "php", Patients: patients})
}

// A lab report the mock exposes as a DocumentReference and as the
// DiagnosticReport it names in context.related is listed once.
func TestLabReportListedOnce(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	php, err := mockphp.New(mockphp.Config{Seed: 4, Patients: 2, DocsPerPatient: 6, Logger: log})
	require.NoError(t, err)
	srv := httptest.NewServer(php)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = php.Close() })
	php.SetPublicURL(srv.URL)
	c, err := provider.New(provider.Config{BaseURL: php.BaseURL(), Logger: log})
	require.NoError(t, err)
	src, err := fhir.New(fhir.Config{Client: c, Logger: log})
	require.NoError(t, err)

	reports := 0
	for _, p := range php.Patients() {
		listed := map[connector.Ref]bool{}
		cursor := ""
		for {
			page, err := src.ListDocuments(t.Context(), connector.Ref{ID: p.ID}, cursor)
			require.NoError(t, err)
			for _, it := range page.Items {
				listed[connector.Ref{Type: it.Ref.Type, ID: it.Ref.ID}] = true
			}
			if !page.More {
				break
			}
			cursor = page.Cursor
		}
		for _, d := range php.Documents(p.ID) {
			if d.DiagnosticReportID == "" {
				continue
			}
			reports++
			assert.True(t, listed[connector.Ref{Type: "DocumentReference", ID: d.ID}], "the lab report's document is listed")
			assert.False(t, listed[connector.Ref{Type: "DiagnosticReport", ID: d.DiagnosticReportID}], "its DiagnosticReport is not listed again")
		}
	}
	require.Positive(t, reports, "the data set has lab reports")
}
