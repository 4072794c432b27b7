package fhir_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/fhir"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/provider"
)

func newSource(t *testing.T, s *fhirServer, pageSize int) *fhir.Source {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	c, err := provider.New(provider.Config{BaseURL: s.base(), PageSize: pageSize, Logger: log,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	require.NoError(t, err)
	src, err := fhir.New(fhir.Config{Client: c, Logger: log})
	require.NoError(t, err)
	return src
}

// sourceOn builds a Source on the FHIR base baseURL (a canned test
// server) that does not retry: a canned answer would only repeat. Zero
// maxPages is the default bound.
func sourceOn(t *testing.T, baseURL string, maxPages int) *fhir.Source {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	c, err := provider.New(provider.Config{BaseURL: baseURL, Logger: log, RetryMax: -1})
	require.NoError(t, err)
	src, err := fhir.New(fhir.Config{Client: c, Logger: log, MaxPages: maxPages})
	require.NoError(t, err)
	return src
}

// seed fills s with two patients and their documents of every kind.
func seed(s *fhirServer) {
	s.patient("p1", "Ada Lovelace", "ada@example.org", "mrn-1")
	s.patient("p2", "Alan Turing", "alan@example.org", "mrn-2")
	s.docRef("d1", "p1", "11506-3", "b1", []byte("progress note one"))
	s.docRef("d2", "p1", "34117-2", "b2", []byte("history and physical"))
	s.docRef("d3", "p1", "11502-2", "b3", []byte("lab report scan"))
	s.report("r1", "p1", "", "o1", "o2")
	s.report("r2", "p1", "Binary/b3", "o3") // same content as d3
	s.docRef("d4", "p2", "18842-5", "b4", []byte("discharge summary"))
}

func TestConformance(t *testing.T) {
	s := newFHIRServer(t)
	seed(s)
	connectortest.TestSource(t, newSource(t, s, 2), connectortest.SourceOptions{
		Name:     "php",
		Patients: []connector.Ref{{ID: "p1"}, {ID: "p2"}},
	})
}

// listAll lists to the end from cursor and returns items and the final
// cursor.
func listAll(t *testing.T, src *fhir.Source, patient, cursor string) ([]connector.Item, string) {
	t.Helper()
	var items []connector.Item
	for range 100 {
		p, err := src.ListDocuments(t.Context(), connector.Ref{System: "php", Type: "Patient", ID: patient}, cursor)
		require.NoError(t, err)
		items = append(items, p.Items...)
		cursor = p.Cursor
		if !p.More {
			return items, cursor
		}
	}
	t.Fatal("listing never ended")
	return nil, ""
}

func refs(items []connector.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Ref.Type+"/"+it.Ref.ID+"@"+it.Version)
	}
	return out
}

func TestListDocuments(t *testing.T) {
	s := newFHIRServer(t)
	seed(s)
	src := newSource(t, s, 2)

	items, cursor := listAll(t, src, "p1", "")
	assert.ElementsMatch(t, []string{"DocumentReference/d1@1", "DocumentReference/d2@1", "DocumentReference/d3@1", "DiagnosticReport/r1@1"}, refs(items),
		"r2 presents d3's content and is delivered once, as d3")

	t.Run("nothing new lists nothing, though the overlap searches again", func(t *testing.T) {
		before := len(s.requestLog())
		again, next := listAll(t, src, "p1", cursor)
		assert.Empty(t, again)
		assert.NotEmpty(t, next)
		var searched bool
		for _, r := range s.requestLog()[before:] {
			searched = searched || strings.Contains(r, "_lastUpdated=gt")
		}
		assert.True(t, searched, "incremental listing uses _lastUpdated")
	})

	t.Run("a change lists only the change", func(t *testing.T) {
		s.docRef("d1", "p1", "11506-3", "b1", []byte("progress note one, amended"))
		s.docRef("d5", "p1", "11506-3", "b5", []byte("new note"))
		changed, next := listAll(t, src, "p1", cursor)
		assert.ElementsMatch(t, []string{"DocumentReference/d1@2", "DocumentReference/d5@1"}, refs(changed))
		again, _ := listAll(t, src, "p1", next)
		assert.Empty(t, again)
	})

	t.Run("a late commit within the overlap is found", func(t *testing.T) {
		_, c1 := listAll(t, src, "p1", "")
		// Stamped behind the cursor's watermark, as by a skewed clock.
		s.mu.Lock()
		s.clock = s.clock.Add(-2 * time.Minute)
		s.mu.Unlock()
		s.docRef("late", "p1", "11506-3", "bl", []byte("late"))
		got, _ := listAll(t, src, "p1", c1)
		assert.Equal(t, []string{"DocumentReference/late@1"}, refs(got))
	})

	t.Run("bad cursor", func(t *testing.T) {
		_, err := src.ListDocuments(t.Context(), connector.Ref{Type: "Patient", ID: "p1"}, "garbage")
		assert.ErrorIs(t, err, connector.ErrInvalid)
	})
}

func TestFetchDocument(t *testing.T) {
	s := newFHIRServer(t)
	seed(s)
	src := newSource(t, s, 10)
	sum := func(b string) string { h := sha256.Sum256([]byte(b)); return hex.EncodeToString(h[:]) }
	for _, tc := range []struct {
		ref     connector.Ref
		typ     connector.DocumentType
		content string
		title   string
	}{
		{connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}, connector.DocumentProgressNote, "progress note one", "Note d1"},
		{connector.Ref{System: "php", Type: "DocumentReference", ID: "d2"}, connector.DocumentPhysicalAssessment, "history and physical", "Note d2"},
		{connector.Ref{System: "php", Type: "DocumentReference", ID: "d3"}, connector.DocumentLabResult, "lab report scan", "Note d3"},
		{connector.Ref{System: "php", Type: "DocumentReference", ID: "d4"}, connector.DocumentProgressNote, "discharge summary", "Note d4"}, // 18842-5 discharge summary
		{connector.Ref{System: "php", Type: "DiagnosticReport", ID: "r2"}, connector.DocumentLabResult, "lab report scan", "CBC"},
	} {
		t.Run(tc.ref.ID, func(t *testing.T) {
			d, err := fetchWhole(t, src, tc.ref)
			require.NoError(t, err)
			require.NoError(t, d.Validate())
			assert.Equal(t, tc.ref, d.Ref)
			assert.Equal(t, tc.typ, d.Type)
			assert.Equal(t, tc.title, d.Title)
			assert.Equal(t, tc.content, string(d.Content))
			assert.Equal(t, sum(tc.content), d.ContentHash)
			assert.Equal(t, int64(len(tc.content)), d.Size)
			assert.Equal(t, "1", d.Version)
			assert.False(t, d.UpdatedAt.IsZero())
			assert.Contains(t, string(d.Raw), `"resourceType":"`+tc.ref.Type+`"`)
			assert.Equal(t, connector.Ref{System: "php", Type: "Patient", ID: map[bool]string{true: "p2", false: "p1"}[tc.ref.ID == "d4"]}, d.Patient)
		})
	}
	t.Run("lab panel rendered from its observations", func(t *testing.T) {
		d, err := fetchWhole(t, src, connector.Ref{System: "php", Type: "DiagnosticReport", ID: "r1"})
		require.NoError(t, err)
		assert.Equal(t, connector.DocumentLabResult, d.Type)
		assert.Contains(t, string(d.Content), "Hemoglobin o1: 13.5 g/dL")
		assert.Contains(t, string(d.Content), "Hemoglobin o2: 13.5 g/dL")
		assert.Equal(t, "2026-02-02", d.Date.Format("2006-01-02"))
	})
	t.Run("metadata", func(t *testing.T) {
		d, err := fetchWhole(t, src, connector.Ref{Type: "DocumentReference", ID: "d1"})
		require.NoError(t, err)
		assert.Equal(t, "Dr Example", d.Author)
		assert.Equal(t, "Example Clinic", d.Source)
		assert.Equal(t, time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC), d.Date.UTC())
	})
	t.Run("missing", func(t *testing.T) {
		_, err := fetchWhole(t, src, connector.Ref{Type: "DocumentReference", ID: "nope"})
		assert.ErrorIs(t, err, connector.ErrNotFound)
		assert.Contains(t, err.Error(), "no such resource")
	})
	t.Run("cross-origin attachment refused", func(t *testing.T) {
		s.put(map[string]any{"resourceType": "DocumentReference", "id": "evil", "status": "current",
			"subject": map[string]any{"reference": "Patient/p1"},
			"content": []any{map[string]any{"attachment": map[string]any{"url": "http://169.254.169.254/latest/meta-data"}}}})
		_, err := fetchWhole(t, src, connector.Ref{Type: "DocumentReference", ID: "evil"})
		assert.ErrorIs(t, err, provider.ErrOrigin)
		assert.True(t, connector.IsPermanent(err))
	})
	t.Run("entered in error is deleted", func(t *testing.T) {
		s.put(map[string]any{"resourceType": "DocumentReference", "id": "oops", "status": "entered-in-error",
			"subject": map[string]any{"reference": "Patient/p1"}})
		d, err := fetchWhole(t, src, connector.Ref{Type: "DocumentReference", ID: "oops"})
		require.NoError(t, err)
		assert.True(t, d.Deleted)
	})
}

func TestFindPatient(t *testing.T) {
	s := newFHIRServer(t)
	seed(s)
	s.patient("p3", "Ada Twin", "twin@example.org", "mrn-1") // shares p1's MRN
	src := newSource(t, s, 10)
	for _, tc := range []struct {
		name string
		q    connector.PatientQuery
		want string
		err  error
	}{
		{"id", connector.PatientQuery{ID: "p2"}, "p2", nil},
		{"email", connector.PatientQuery{Email: "ada@example.org"}, "p1", nil},
		{"identifier", connector.PatientQuery{Identifier: connector.Identifier{System: "urn:mrn", Value: "mrn-2"}}, "p2", nil},
		{"ambiguous", connector.PatientQuery{Identifier: connector.Identifier{System: "urn:mrn", Value: "mrn-1"}}, "", connector.ErrPermanent},
		{"no match", connector.PatientQuery{Email: "nobody@example.org"}, "", connector.ErrNotFound},
		{"missing id", connector.PatientQuery{ID: "nope"}, "", connector.ErrNotFound},
		{"empty", connector.PatientQuery{}, "", connector.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := src.FindPatient(t.Context(), tc.q)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.Ref.ID)
			assert.Equal(t, "1", p.Version)
			assert.NotEmpty(t, p.Name)
			assert.Contains(t, p.ContactDetails, "555-0100")
		})
	}
}

func TestWritePatient(t *testing.T) {
	s := newFHIRServer(t)
	seed(s)
	src := newSource(t, s, 10)
	p, err := src.FindPatient(t.Context(), connector.PatientQuery{ID: "p1"})
	require.NoError(t, err)

	edit := *p
	edit.Name = "Augusta Ada King"
	edit.Email = "ada.king@example.org"
	edit.Identifiers = append(edit.Identifiers, connector.Identifier{System: "urn:carepatron", Value: "cp-1"})
	v, err := src.WritePatient(t.Context(), edit)
	require.NoError(t, err)
	assert.Equal(t, "2", v)

	got, err := src.FindPatient(t.Context(), connector.PatientQuery{ID: "p1"})
	require.NoError(t, err)
	assert.Equal(t, "Augusta Ada King", got.Name)
	assert.Equal(t, "ada.king@example.org", got.Email)
	assert.Len(t, got.Identifiers, 2)
	s.mu.Lock()
	raw := fmt.Sprint(s.resources["Patient/p1"]["extension"])
	s.mu.Unlock()
	assert.Contains(t, raw, "keep-me", "elements the library does not model survive")

	t.Run("stale version conflicts", func(t *testing.T) {
		_, err := src.WritePatient(t.Context(), edit) // still based on version 1
		assert.ErrorIs(t, err, connector.ErrConflict)
	})
	t.Run("changed between read and write: 412", func(t *testing.T) {
		cur, err := src.FindPatient(t.Context(), connector.PatientQuery{ID: "p1"})
		require.NoError(t, err)
		s.mu.Lock()
		s.beforePut = func() { s.putLocked(s.resources["Patient/p1"]) } // another writer wins the race
		s.mu.Unlock()
		edit := *cur
		edit.Name = "Someone Else"
		_, err = src.WritePatient(t.Context(), edit)
		assert.ErrorIs(t, err, connector.ErrConflict)
		assert.Contains(t, err.Error(), "412")
	})
}

func TestRequestDocuments(t *testing.T) {
	s := newFHIRServer(t)
	seed(s)
	src := newSource(t, s, 10)
	req := connector.DocumentRequest{Patient: connector.Ref{System: "php", Type: "Patient", ID: "p1"}, Key: "req-1",
		What: "Recent lab results for diet planning", Types: []connector.DocumentType{connector.DocumentLabResult},
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	ref, err := src.RequestDocuments(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, "Task", ref.Type)
	again, err := src.RequestDocuments(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, ref, again, "the same key creates one task")

	status, _, err := src.TaskStatus(t.Context(), ref)
	require.NoError(t, err)
	assert.Equal(t, "requested", status)

	s.mu.Lock()
	task := s.resources["Task/"+ref.ID]
	s.mu.Unlock()
	assert.Equal(t, "order", task["intent"])
	assert.Equal(t, "Patient/p1", task["for"].(map[string]any)["reference"])
	assert.Contains(t, fmt.Sprint(task["input"]), "11502-2")
	assert.Contains(t, fmt.Sprint(task["input"]), "valuePeriod:map[start:2025-01-01]", "the period asked for, open-ended")

	_, err = src.RequestDocuments(t.Context(), connector.DocumentRequest{Patient: req.Patient})
	assert.ErrorIs(t, err, connector.ErrInvalid)
}

// Every reference search parameter is sent typed ("Patient/p1"): a server
// that matches references by their literal value finds nothing for a bare
// id, and answers 200 with an empty Bundle rather than an error.
func TestReferenceParamsTyped(t *testing.T) {
	s := newFHIRServer(t)
	seed(s)
	src := newSource(t, s, 2)

	items, _ := listAll(t, src, "p1", "")
	assert.Len(t, items, 4, "the strict server finds the patient's documents")
	_, err := fetchWhole(t, src, connector.Ref{Type: "DiagnosticReport", ID: "r1"})
	require.NoError(t, err)

	refParams := []string{"patient", "subject", "related", "result", "for"}
	var checked int
	for _, line := range s.requestLog() {
		_, uri, _ := strings.Cut(line, " ")
		u, err := url.Parse(uri)
		require.NoError(t, err)
		for _, p := range refParams {
			for _, v := range u.Query()[p] {
				checked++
				for _, one := range strings.Split(v, ",") {
					typ, id, ok := strings.Cut(one, "/")
					assert.True(t, ok && typ != "" && id != "", "%s=%s in %s is not a typed reference", p, one, u.Path)
				}
			}
		}
	}
	assert.Positive(t, checked)
}

// A server that matches the location parameter literally finds a
// DocumentReference by the form of the URL it stored (here relative), so
// the DiagnosticReport presenting the same content is still listed once.
func TestListDocumentsStrictLocation(t *testing.T) {
	s := newFHIRServer(t)
	s.location = true
	seed(s)
	items, _ := listAll(t, newSource(t, s, 2), "p1", "")
	assert.ElementsMatch(t, []string{"DocumentReference/d1@1", "DocumentReference/d2@1", "DocumentReference/d3@1", "DiagnosticReport/r1@1"}, refs(items))
}

func TestSequentialVersions(t *testing.T) {
	s := newFHIRServer(t)
	c, err := provider.New(provider.Config{BaseURL: s.base()})
	require.NoError(t, err)
	for _, want := range []bool{false, true} {
		src, err := fhir.New(fhir.Config{Client: c, SequentialVersions: want})
		require.NoError(t, err)
		var sv connector.SequentialVersions = src
		assert.Equal(t, want, sv.SequentialVersions(), "opaque unless configured")
	}
}
