package fhir_test

import (
	"context"
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

// strictPageSize is the page size the client asks for. It differs from
// mockphp.IgnoredCountPageSize, so a server ignoring _count answers pages
// shorter than asked, and it is smaller than a patient's documents, so
// listings take more than one page.
const strictPageSize = 4

// The Source keeps the connector.Source contract, and lists every
// document, against a server with each strict behaviour real FHIR servers
// have (issue 12: a lenient mock hid documents a real server's answers
// made the sync drop), alone and all at once.
func TestStrictServers(t *testing.T) {
	tests := []struct {
		name      string
		behaviour mockphp.ServerBehaviour
	}{
		{"TypedReferences", mockphp.ServerBehaviour{TypedReferences: true}},
		{"UUIDVersions", mockphp.ServerBehaviour{UUIDVersions: true}},
		{"OffsetPaging", mockphp.ServerBehaviour{OffsetPaging: true}},
		{"IgnoreCount", mockphp.ServerBehaviour{IgnoreCount: true}},
		{"NoCapabilityStatement", mockphp.ServerBehaviour{NoCapabilityStatement: true}},
		{"RequireIfMatch", mockphp.ServerBehaviour{RequireIfMatch: true}},
		{"NoTombstones", mockphp.ServerBehaviour{NoTombstones: true}},
		{"StrictAll", mockphp.StrictAll()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { testStrictServer(t, tc.behaviour) })
	}
}

func testStrictServer(t *testing.T, behaviour mockphp.ServerBehaviour) {
	key, err := mockphp.NewClientKey("ES384")
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	php, err := mockphp.New(mockphp.Config{Seed: 4, Patients: 3, DocsPerPatient: 6, RequireAuth: true,
		Clients: []mockphp.Client{{ID: "hr", JWKS: key.JWKS()}}, Logger: log, Server: behaviour})
	require.NoError(t, err)
	srv := httptest.NewServer(php) // on 127.0.0.1
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = php.Close() })
	php.SetPublicURL(srv.URL)

	// Before the suite, which wants a Source that does not change: some
	// versions past the first, and a deleted document.
	pats := php.Patients()
	require.NotEmpty(t, pats)
	docs := php.Documents(pats[0].ID)
	require.Greater(t, len(docs), 2)
	for range 3 {
		_, err := php.UpdateDocument(docs[1].ID)
		require.NoError(t, err)
	}
	deleted := docs[2].ID
	require.NoError(t, php.DeleteDocument(deleted))

	c, err := provider.New(provider.Config{BaseURL: php.BaseURL(), PageSize: strictPageSize, Logger: log,
		SMART: &provider.SMARTConfig{ClientID: "hr", Key: key.Private, KeyID: key.Kid}})
	require.NoError(t, err)
	src, err := fhir.New(fhir.Config{Client: c, Logger: log})
	require.NoError(t, err)

	var patients []connector.Ref
	for _, p := range pats {
		patients = append(patients, connector.Ref{ID: p.ID})
	}
	connectortest.TestSource(t, src, connectortest.SourceOptions{Name: "php", Patients: patients})

	t.Run("Complete", func(t *testing.T) {
		for _, p := range pats {
			listed := listEveryDocument(t, src, p.ID)
			var live, missed []string
			for _, d := range php.Documents(p.ID) {
				if d.Deleted {
					if it, ok := listed["DocumentReference/"+d.ID]; ok {
						assert.True(t, it.Deleted, "patient %s: deleted document %s is listed as live", p.ID, d.ID)
					}
					continue
				}
				if d.DiagnosticReportID != "" {
					_, again := listed["DiagnosticReport/"+d.DiagnosticReportID]
					assert.False(t, again, "patient %s: lab report %s is listed as its document and again as DiagnosticReport %s", p.ID, d.ID, d.DiagnosticReportID)
				}
				live = append(live, d.ID)
				if it, ok := listed["DocumentReference/"+d.ID]; !ok || it.Deleted {
					missed = append(missed, d.ID)
				} else {
					assert.Equal(t, d.VersionID, it.Version, "patient %s: document %s is listed at a version the server no longer has", p.ID, d.ID)
				}
			}
			assert.Empty(t, missed, "patient %s: the listing misses %d of %d live documents: the sync would drop them", p.ID, len(missed), len(live))
		}
	})
	t.Run("Observations", func(t *testing.T) {
		listed := 0
		for _, p := range pats {
			items := listEvery(t, src.ListObservations, p.ID)
			listed += len(items)
			for _, it := range items {
				o, err := src.FetchObservation(t.Context(), connector.Ref{System: "php", Type: it.Ref.Type, ID: it.Ref.ID})
				require.NoError(t, err)
				assert.Equal(t, it.Version, o.Version, "observation %s", it.Ref.ID)
				assert.Equal(t, p.ID, o.Patient.ID)
				assert.NotEmpty(t, o.Code.Code)
				assert.NotZero(t, o.Effective)
				if o.Category == "laboratory" {
					assert.Equal(t, "DiagnosticReport", o.Report.Type, "a lab result belongs to its report")
				}
			}
		}
		assert.Equal(t, php.Count("Observation"), listed, "every observation is listed once")
	})
	t.Run("Deleted", func(t *testing.T) {
		doc, err := fetchWhole(t, src, connector.Ref{System: "php", Type: "DocumentReference", ID: deleted})
		if err == nil {
			require.NotNil(t, doc)
			assert.True(t, doc.Deleted, "FetchDocument of a deleted document returned it live")
			return
		}
		assert.ErrorIs(t, err, connector.ErrNotFound, "FetchDocument of a deleted document")
	})
	t.Run("WritePatient", func(t *testing.T) {
		p, err := src.FindPatient(t.Context(), connector.PatientQuery{ID: pats[0].ID})
		require.NoError(t, err)
		version, err := src.WritePatient(t.Context(), *p)
		require.NoError(t, err, "writing back the patient at its current version")
		assert.NotEqual(t, p.Version, version, "the write made a new version")
		now := php.Patients()[0]
		assert.Equal(t, now.VersionID, version, "WritePatient returns the server's new version")
		p.Version = pats[0].VersionID // stale now
		_, err = src.WritePatient(t.Context(), *p)
		assert.ErrorIs(t, err, connector.ErrConflict, "writing at a stale version")
	})
	if behaviour.UUIDVersions {
		t.Run("OpaqueVersions", func(t *testing.T) {
			if sv, ok := any(src).(connector.SequentialVersions); ok {
				assert.False(t, sv.SequentialVersions(), "the server's versionIds are UUIDs; the Source must not promise sequential versions")
			}
		})
	}
}

// listEveryDocument pages the patient's documents from the beginning to
// the end and returns the last item listed per "Type/id".
func listEveryDocument(t *testing.T, src connector.Source, patientID string) map[string]connector.Item {
	t.Helper()
	return listEvery(t, src.ListDocuments, patientID)
}

// listEvery is listEveryDocument for any of a Source's listings.
func listEvery(t *testing.T, list func(context.Context, connector.Ref, string) (connector.Page, error), patientID string) map[string]connector.Item {
	t.Helper()
	out := map[string]connector.Item{}
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "patient %s: the listing does not end", patientID)
		page, err := list(t.Context(), connector.Ref{ID: patientID}, cursor)
		require.NoError(t, err)
		for _, it := range page.Items {
			out[it.Ref.Type+"/"+it.Ref.ID] = it
		}
		if !page.More {
			return out
		}
		cursor = page.Cursor
	}
}
