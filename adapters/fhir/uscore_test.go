package fhir_test

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/fhir"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// exampleServer serves HL7 and US Core example resources as they are,
// each at Type/id, and answers every search of a type with all of that
// type's resources (or the Bundle set for it), with no meta.lastUpdated
// added: most examples carry none, as many servers' resources don't.
type exampleServer struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	resources map[string]json.RawMessage // "Type/id"
	searches  map[string]json.RawMessage // type -> searchset Bundle
	binaries  map[string][]byte          // id -> content
}

func newExampleServer(t *testing.T) *exampleServer {
	e := &exampleServer{t: t, resources: map[string]json.RawMessage{}, searches: map[string]json.RawMessage{}, binaries: map[string][]byte{}}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *exampleServer) base() string { return e.srv.URL + "/fhir" }

// example reads testdata/name, edits it (edit may be nil) and serves it.
func (e *exampleServer) example(name string, edit func(map[string]any)) map[string]any {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(e.t, err)
	var m map[string]any
	require.NoError(e.t, json.Unmarshal(data, &m))
	if edit != nil {
		edit(m)
		data, err = json.Marshal(m)
		require.NoError(e.t, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if m["resourceType"] == "Bundle" {
		e.searches[m["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)["resourceType"].(string)] = data
	} else {
		e.resources[m["resourceType"].(string)+"/"+m["id"].(string)] = data
	}
	return m
}

func (e *exampleServer) resource(r string) {
	var m map[string]any
	require.NoError(e.t, json.Unmarshal([]byte(r), &m))
	e.mu.Lock()
	defer e.mu.Unlock()
	e.resources[m["resourceType"].(string)+"/"+m["id"].(string)] = json.RawMessage(r)
}

func (e *exampleServer) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/fhir/"), "/")
	w.Header().Set("Content-Type", "application/fhir+json")
	switch {
	case len(parts) == 2 && parts[0] == "Binary":
		if data, ok := e.binaries[parts[1]]; ok {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(data)
			return
		}
	case len(parts) == 2:
		if data, ok := e.resources[parts[0]+"/"+parts[1]]; ok {
			w.Write(data)
			return
		}
	case len(parts) == 1:
		if data, ok := e.searches[parts[0]]; ok && r.URL.Query().Get("_lastUpdated") == "" {
			w.Write(data)
			return
		}
		var entries []string
		for k, v := range e.resources {
			if strings.HasPrefix(k, parts[0]+"/") && r.URL.Query().Get("_lastUpdated") == "" {
				entries = append(entries, `{"resource":`+string(v)+`,"search":{"mode":"match"}}`)
			}
		}
		w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","total":` + strconv.Itoa(len(entries)) + `,"entry":[` + strings.Join(entries, ",") + `]}`))
		return
	}
	w.WriteHeader(404)
	w.Write([]byte(notFoundOutcome))
}

func exampleSource(t *testing.T, e *exampleServer) *fhir.Source {
	t.Helper()
	return sourceOn(t, e.base(), 0)
}

const practitioner1 = `{"resourceType":"Practitioner","id":"practitioner-1","name":[{"family":"Bone","given":["Ronald"],"prefix":["Dr"]}]}`

// Real US Core examples map to the document types they are.
func TestUSCoreExamples(t *testing.T) {
	e := newExampleServer(t)
	noDisplay := func(key string) func(map[string]any) {
		return func(m map[string]any) {
			for _, a := range m[key].([]any) {
				delete(a.(map[string]any), "display")
			}
		}
	}
	e.example("uscore-documentreference-discharge-summary.json", nil)
	e.example("uscore-r4build-documentreference-episode-summary-url.json", nil)
	e.example("uscore-diagnosticreport-cbc.json", nil)
	e.example("uscore-diagnosticreport-bone-density-report.json", noDisplay("resultsInterpreter"))
	e.example("uscore-diagnosticreport-cardiology-report.json", func(m map[string]any) {
		// Served from the test server rather than example.org; its hash is
		// not a SHA-1 at all, which FHIR's leniency lets through.
		m["presentedForm"].([]any)[0].(map[string]any)["url"] = "Binary/cardiopanel"
	})
	e.binaries["1-note"] = []byte("episode summary")
	e.binaries["cardiopanel"] = []byte("%PDF-1.3 cardiology")
	e.resource(practitioner1)
	src := exampleSource(t, e)

	for _, tc := range []struct {
		ref     string
		typ     connector.DocumentType
		author  string
		content string
		updated time.Time
	}{
		{ref: "DocumentReference/discharge-summary", typ: connector.DocumentProgressNote, content: "No activity restriction"},
		{ref: "DocumentReference/episode-summary", typ: connector.DocumentOther, author: "Ronald Bone, MD", content: "episode summary"},
		{ref: "DiagnosticReport/cbc", typ: connector.DocumentLabResult, author: "Dr Ronald Bone", content: "LEUKOCYTES: (not available)",
			updated: time.Date(2005, 7, 6, 15, 29, 58, 597e6, time.UTC)},
		{ref: "DiagnosticReport/bone-density-report", typ: connector.DocumentOther, author: "Ronald Bone", content: "%PDF-1.3"},
		{ref: "DiagnosticReport/cardiology-report", typ: connector.DocumentOther, author: "Dr Ronald Bone", content: "%PDF-1.3 cardiology"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			typ, id, _ := strings.Cut(tc.ref, "/")
			before := time.Now().Add(-time.Minute)
			d, err := fetchWhole(t, src, connector.Ref{System: "php", Type: typ, ID: id})
			require.NoError(t, err)
			require.NoError(t, d.Validate())
			assert.Equal(t, tc.typ, d.Type)
			assert.Equal(t, "example", d.Patient.ID)
			assert.Equal(t, tc.author, d.Author)
			assert.Contains(t, string(d.Content), tc.content)
			if tc.updated.IsZero() {
				// No meta.lastUpdated: the answer's Date.
				assert.WithinRange(t, d.UpdatedAt, before, time.Now().Add(time.Minute))
			} else {
				assert.Equal(t, tc.updated, d.UpdatedAt.UTC())
			}
		})
	}
}

func TestDocumentTypes(t *testing.T) {
	loinc := func(code string) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": code}}}
	}
	clinicalNote := map[string]any{"coding": []any{map[string]any{"system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "code": "clinical-note"}}}
	v2 := func(code string) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": code}}}
	}
	for _, tc := range []struct {
		name string
		res  map[string]any
		want connector.DocumentType
	}{
		{"consult note", map[string]any{"resourceType": "DocumentReference", "type": loinc("11488-4")}, connector.DocumentProgressNote},
		{"discharge summary", map[string]any{"resourceType": "DocumentReference", "type": loinc("18842-5")}, connector.DocumentProgressNote},
		{"procedure note", map[string]any{"resourceType": "DocumentReference", "type": loinc("28570-0")}, connector.DocumentProgressNote},
		{"nurse note", map[string]any{"resourceType": "DocumentReference", "type": loinc("34746-8")}, connector.DocumentProgressNote},
		{"history and physical", map[string]any{"resourceType": "DocumentReference", "type": loinc("34117-2")}, connector.DocumentPhysicalAssessment},
		{"lab report", map[string]any{"resourceType": "DocumentReference", "type": loinc("11502-2")}, connector.DocumentLabResult},
		{"pathology report", map[string]any{"resourceType": "DocumentReference", "type": loinc("11526-1")}, connector.DocumentLabResult},
		{"clinical note of another type", map[string]any{"resourceType": "DocumentReference", "type": loinc("99999-9"), "category": []any{clinicalNote}}, connector.DocumentProgressNote},
		{"imaging narrative, though a clinical note", map[string]any{"resourceType": "DocumentReference", "type": loinc("18748-4"), "category": []any{clinicalNote}}, connector.DocumentOther},
		{"unknown", map[string]any{"resourceType": "DocumentReference", "type": loinc("84095-9")}, connector.DocumentOther},
		{"report LAB", map[string]any{"resourceType": "DiagnosticReport", "code": loinc("58410-2"), "category": []any{v2("LAB")}}, connector.DocumentLabResult},
		{"report PAT", map[string]any{"resourceType": "DiagnosticReport", "code": loinc("60567-5"), "category": []any{v2("PAT")}}, connector.DocumentLabResult},
		{"report HM", map[string]any{"resourceType": "DiagnosticReport", "code": loinc("58410-2"), "category": []any{v2("HM")}}, connector.DocumentLabResult},
		{"report RAD", map[string]any{"resourceType": "DiagnosticReport", "code": loinc("24627-2"), "category": []any{v2("RAD"), v2("LAB")}}, connector.DocumentOther},
		{"report LOINC pathology", map[string]any{"resourceType": "DiagnosticReport", "code": loinc("60567-5"), "category": []any{loinc("LP7839-6")}}, connector.DocumentLabResult},
		{"report LOINC radiology", map[string]any{"resourceType": "DiagnosticReport", "code": loinc("24627-2"), "category": []any{loinc("LP29684-5")}}, connector.DocumentOther},
		{"report of a lab report code", map[string]any{"resourceType": "DiagnosticReport", "code": loinc("11502-2")}, connector.DocumentLabResult},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newExampleServer(t)
			tc.res["id"], tc.res["status"] = "x", "current"
			tc.res["subject"] = map[string]any{"reference": "Patient/p1"}
			tc.res["content"] = []any{map[string]any{"attachment": map[string]any{"contentType": "text/plain", "data": "eA=="}}}
			tc.res["presentedForm"] = []any{map[string]any{"contentType": "text/plain", "data": "eA=="}}
			data, err := json.Marshal(tc.res)
			require.NoError(t, err)
			e.resource(string(data))
			d, err := fetchWhole(t, exampleSource(t, e), connector.Ref{Type: tc.res["resourceType"].(string), ID: "x"})
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Type)
		})
	}
}

// An author without a display is named by the contained or referenced
// Practitioner, PractitionerRole or Organization; one that cannot be read
// is left out without failing the document.
func TestAuthors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		author    string // JSON array
		contained string // JSON array
		want      string
	}{
		{"display", `[{"reference":"Practitioner/practitioner-1","display":"Dr Who"}]`, `[]`, "Dr Who"},
		{"contained practitioner", `[{"reference":"#a1"}]`, `[{"resourceType":"Practitioner","id":"a1","name":[{"text":"Nurse Ratched"}]}]`, "Nurse Ratched"},
		{"contained organization", `[{"reference":"#o1"}]`, `[{"resourceType":"Organization","id":"o1","name":"Riverside Clinic"}]`, "Riverside Clinic"},
		{"contained role", `[{"reference":"#r1"}]`, `[{"resourceType":"PractitionerRole","id":"r1","practitioner":{"reference":"#a1"}},{"resourceType":"Practitioner","id":"a1","name":[{"given":["Ann"],"family":"Lee"}]}]`, "Ann Lee"},
		{"referenced practitioner", `[{"reference":"Practitioner/practitioner-1"}]`, `[]`, "Ronald Bone"},
		{"referenced role names its practitioner", `[{"reference":"PractitionerRole/role-1"}]`, `[]`, "Ronald Bone"},
		{"absolute on the server", `[{"reference":"BASE/Practitioner/practitioner-1"}]`, `[]`, "Ronald Bone"},
		{"on another server: not read", `[{"reference":"http://elsewhere.example/fhir/Practitioner/practitioner-1"}]`, `[]`, ""},
		{"cannot be read", `[{"reference":"Practitioner/missing"},{"display":"Dr Two"}]`, `[]`, "Dr Two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newExampleServer(t)
			e.resource(practitioner1)
			e.resource(`{"resourceType":"PractitionerRole","id":"role-1","practitioner":{"reference":"Practitioner/practitioner-1"}}`)
			e.resource(`{"resourceType":"DocumentReference","id":"x","status":"current","subject":{"reference":"Patient/p1"},
				"contained":` + tc.contained + `,"author":` + strings.ReplaceAll(tc.author, "BASE", e.base()) + `,
				"content":[{"attachment":{"contentType":"text/plain","data":"eA=="}}]}`)
			d, err := fetchWhole(t, exampleSource(t, e), connector.Ref{Type: "DocumentReference", ID: "x"})
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Author)
		})
	}
}

// A lab panel whose subject is only a display, listed under the patient,
// is that patient's.
func TestReportSubjectByDisplay(t *testing.T) {
	e := newExampleServer(t)
	e.example("uscore-diagnosticreport-cbc.json", func(m map[string]any) {
		m["subject"] = map[string]any{"display": "Amy Shaw"}
	})
	src := exampleSource(t, e)
	_, err := fetchWhole(t, src, connector.Ref{Type: "DiagnosticReport", ID: "cbc"})
	assert.True(t, connector.IsPermanent(err), "not listed: whose it is is unknown")

	var listed []connector.Item
	cursor := ""
	for {
		p, err := src.ListDocuments(t.Context(), connector.Ref{Type: "Patient", ID: "example"}, cursor)
		require.NoError(t, err)
		listed = append(listed, p.Items...)
		if cursor = p.Cursor; !p.More {
			break
		}
	}
	require.Len(t, listed, 1)
	d, err := fetchWhole(t, src, listed[0].Ref)
	require.NoError(t, err)
	assert.Equal(t, "example", d.Patient.ID)
	assert.Equal(t, connector.DocumentLabResult, d.Type)

	t.Run("not listed: the patient its results name", func(t *testing.T) {
		e.resource(`{"resourceType":"Observation","id":"cbc-leukocytes","status":"final","code":{"text":"Leukocytes"},
			"subject":{"reference":"Patient/example"},"valueQuantity":{"value":10.2,"unit":"10*3/uL"}}`)
		d, err := fetchWhole(t, exampleSource(t, e), connector.Ref{Type: "DiagnosticReport", ID: "cbc"})
		require.NoError(t, err)
		assert.Equal(t, "example", d.Patient.ID)
		assert.Contains(t, string(d.Content), "Leukocytes: 10.2 10*3/uL")
	})
}

// A listing of real US Core DocumentReferences, which carry no
// meta.lastUpdated, still dates every item.
func TestListingItemsDated(t *testing.T) {
	e := newExampleServer(t)
	e.example("uscore-bundle-docref-searchset-2.json", nil)
	src := exampleSource(t, e)
	p, err := src.ListDocuments(t.Context(), connector.Ref{Type: "Patient", ID: "example"}, "")
	require.NoError(t, err)
	require.Len(t, p.Items, 3)
	for _, it := range p.Items {
		assert.False(t, it.UpdatedAt.IsZero(), it.Ref.ID)
	}
}

// An attachment whose bytes do not match its SHA-1 fails permanently,
// saying so, rather than being retried forever.
func TestAttachmentHashMismatch(t *testing.T) {
	e := newExampleServer(t)
	other := sha1.Sum([]byte("something else"))
	e.binaries["b1"] = []byte("the note")
	e.resource(`{"resourceType":"DocumentReference","id":"x","status":"current","subject":{"reference":"Patient/p1"},
		"content":[{"attachment":{"contentType":"text/plain","url":"Binary/b1","hash":"` + base64.StdEncoding.EncodeToString(other[:]) + `"}}]}`)
	_, err := fetchWhole(t, exampleSource(t, e), connector.Ref{Type: "DocumentReference", ID: "x"})
	require.Error(t, err)
	assert.ErrorIs(t, err, connector.ErrPermanent)
	assert.ErrorIs(t, err, provider.ErrHashMismatch)
	assert.Contains(t, err.Error(), "hash mismatch")
}
