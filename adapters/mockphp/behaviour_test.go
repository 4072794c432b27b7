package mockphp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

// labReport returns a lab report document of srv with its DiagnosticReport
// and the id of one of the report's Observations.
func labReport(t testing.TB, srv *mockphp.Server) (mockphp.DocumentInfo, string) {
	t.Helper()
	for _, d := range srv.Documents("") {
		if d.DiagnosticReportID == "" || d.Deleted {
			continue
		}
		body, ok := srv.Resource("DiagnosticReport", d.DiagnosticReportID)
		require.True(t, ok)
		var dr struct {
			Result []struct{ Reference string } `json:"result"`
		}
		require.NoError(t, json.Unmarshal(body, &dr))
		require.NotEmpty(t, dr.Result)
		obs, ok := strings.CutPrefix(dr.Result[0].Reference, "Observation/")
		require.True(t, ok, dr.Result[0].Reference)
		return d, obs
	}
	t.Fatal("the data set has no lab report")
	return mockphp.DocumentInfo{}, ""
}

// binaryDocument returns a live document whose content is behind a Binary.
func binaryDocument(t testing.TB, srv *mockphp.Server) mockphp.DocumentInfo {
	t.Helper()
	for _, d := range srv.Documents("") {
		if d.BinaryID != "" && !d.Deleted {
			return d
		}
	}
	t.Fatal("the data set has no document with a Binary")
	return mockphp.DocumentInfo{}
}

// total runs one search and returns Bundle.total and the entry count,
// failing unless it answers 200 with a searchset.
func total(t testing.TB, u string) (int, int) {
	t.Helper()
	r := do(t, http.MethodGet, u, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	b := r.json(t)
	require.Equal(t, "searchset", b["type"])
	return int(b["total"].(float64)), len(entries(t, b))
}

func TestTypedReferences(t *testing.T) {
	for _, typed := range []bool{false, true} {
		t.Run("TypedReferences="+strconv.FormatBool(typed), func(t *testing.T) {
			srv, ts := start(t, mockphp.Config{Seed: 7, Patients: 3, DocsPerPatient: 6,
				Server: mockphp.ServerBehaviour{TypedReferences: typed}})
			base := ts.URL + "/fhir/R4"
			lab, obs := labReport(t, srv)
			p := lab.PatientID
			docs := len(srv.Documents(p))
			bare := func(n int) int {
				if typed {
					return 0
				}
				return n
			}
			tests := []struct {
				name, query string
				want        int
			}{
				{"patient bare id", "DocumentReference?patient=" + p, bare(docs)},
				{"patient typed", "DocumentReference?patient=Patient/" + p, docs},
				{"patient absolute", "DocumentReference?patient=" + url.QueryEscape(base+"/Patient/"+p), docs},
				{"subject bare id", "DocumentReference?subject=" + p, bare(docs)},
				{"subject typed", "DocumentReference?subject=Patient/" + p, docs},
				{"patient of the wrong type", "DocumentReference?patient=Group/" + p, 0},
				{"observation patient bare id", "Observation?patient=" + p + "&_id=" + obs, bare(1)},
				{"result bare id", "DiagnosticReport?result=" + obs, bare(1)},
				{"result typed", "DiagnosticReport?result=Observation/" + obs, 1},
				{"result absolute", "DiagnosticReport?result=" + url.QueryEscape(base+"/Observation/"+obs), 1},
				{"related bare id", "DocumentReference?related=" + lab.DiagnosticReportID, bare(1)},
				{"related typed", "DocumentReference?related=DiagnosticReport/" + lab.DiagnosticReportID, 1},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					n, got := total(t, base+"/"+tc.query)
					assert.Equal(t, tc.want, n, "total")
					assert.Equal(t, tc.want, got, "entries")
				})
			}
		})
	}
}

func TestUUIDVersions(t *testing.T) {
	clock := newClock()
	cfg := mockphp.Config{Seed: 9, Patients: 2, DocsPerPatient: 2, Clock: clock.Now,
		Server: mockphp.ServerBehaviour{UUIDVersions: true}}
	srv, ts := start(t, cfg)
	base := ts.URL + "/fhir/R4/"
	p := srv.Patients()[0]
	_, err := uuid.Parse(p.VersionID)
	require.NoError(t, err, "generated resources carry UUID versions too: %q", p.VersionID)

	r := do(t, http.MethodGet, base+"Patient/"+p.ID, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, `W/"`+p.VersionID+`"`, r.header.Get("ETag"))
	pat := r.json(t)
	current := r.header.Get("ETag")

	tags := []string{p.VersionID}
	var stamps []string
	for i := range 6 {
		clock.Add(time.Second)
		pat["gender"] = []string{"male", "female", "other"}[i%3]
		body, _ := json.Marshal(pat)
		r := do(t, http.MethodPut, base+"Patient/"+p.ID, body, "If-Match", current)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		pat, current = r.json(t), r.header.Get("ETag")
		tag := meta(pat, "versionId")
		_, err := uuid.Parse(tag)
		require.NoError(t, err, "versionId %q", tag)
		assert.Equal(t, `W/"`+tag+`"`, r.header.Get("ETag"))
		tags = append(tags, tag)
		stamps = append(stamps, meta(pat, "lastUpdated"))
	}
	assert.Len(t, slices.Compact(slices.Sorted(slices.Values(tags))), len(tags), "every version has its own id")
	assert.False(t, slices.IsSorted(tags), "version ids do not sort in update order: %v", tags)
	assert.True(t, slices.IsSorted(stamps), "lastUpdated still increases: %v", stamps)

	t.Run("vread takes the uuid", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"Patient/"+p.ID+"/_history/"+tags[2], nil)
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, tags[2], meta(r.json(t), "versionId"))
		assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, base+"Patient/"+p.ID+"/_history/2", nil).status)
	})
	t.Run("history lists the uuids newest first", func(t *testing.T) {
		var got []string
		for _, e := range entries(t, do(t, http.MethodGet, base+"Patient/"+p.ID+"/_history", nil).json(t)) {
			got = append(got, meta(e, "versionId"))
		}
		want := slices.Clone(tags)
		slices.Reverse(want)
		assert.Equal(t, want, got)
	})
	t.Run("a stale If-Match fails 412", func(t *testing.T) {
		body, _ := json.Marshal(pat)
		r := do(t, http.MethodPut, base+"Patient/"+p.ID, body, "If-Match", `W/"`+tags[3]+`"`)
		assert.Equal(t, http.StatusPreconditionFailed, r.status)
	})
	t.Run("If-None-Match with the current uuid answers 304", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"Patient/"+p.ID, nil, "If-None-Match", `W/"`+tags[len(tags)-1]+`"`)
		assert.Equal(t, http.StatusNotModified, r.status)
	})
	t.Run("the same seed gives the same uuids", func(t *testing.T) {
		again, err := mockphp.New(cfg)
		require.NoError(t, err)
		assert.Equal(t, p.VersionID, again.Patients()[0].VersionID)
	})
}

func TestOffsetPaging(t *testing.T) {
	for _, offsetPaging := range []bool{false, true} {
		t.Run("OffsetPaging="+strconv.FormatBool(offsetPaging), func(t *testing.T) {
			_, ts := start(t, mockphp.Config{Seed: 3, Patients: 23, DocsPerPatient: 1,
				Server: mockphp.ServerBehaviour{OffsetPaging: offsetPaging}})
			base := ts.URL + "/fhir/R4/Patient"
			all, n := total(t, base+"?_count=100")
			require.Equal(t, 23, all)
			require.Equal(t, 23, n)
			whole := ids(entries(t, do(t, http.MethodGet, base+"?_count=100", nil).json(t)))

			var paged []string
			for offset := 0; offset < all; offset += 5 {
				r := do(t, http.MethodGet, base+"?_count=5&_offset="+strconv.Itoa(offset), nil)
				require.Equal(t, http.StatusOK, r.status, string(r.body))
				b := r.json(t)
				assert.EqualValues(t, 23, b["total"], "every page carries the total")
				if offsetPaging {
					assert.NotContains(t, b, "link", "no Bundle.link at all, not even self")
				} else {
					assert.NotEmpty(t, b["link"])
				}
				page := ids(entries(t, b))
				assert.Len(t, page, min(5, all-offset))
				paged = append(paged, page...)
			}
			assert.Equal(t, whole, paged, "_offset pages through every match once, in order")

			_, n = total(t, base+"?_count=5&_offset=40")
			assert.Zero(t, n, "an offset past the end answers no entries")
			if !offsetPaging {
				got, _ := searchAll(t, base+"?_count=5&_offset=7")
				assert.Equal(t, whole[7:], ids(got), "next links continue after an offset")
			}
		})
	}
	t.Run("bad offset", func(t *testing.T) {
		_, ts := start(t, mockphp.Config{Seed: 3, Patients: 1, DocsPerPatient: 1})
		r := do(t, http.MethodGet, ts.URL+"/fhir/R4/Patient?_offset=-1", nil)
		assert.Equal(t, http.StatusBadRequest, r.status)
	})
}

func TestIgnoreCount(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 3, Patients: 10, DocsPerPatient: 1,
		Server: mockphp.ServerBehaviour{IgnoreCount: true}})
	base := ts.URL + "/fhir/R4/Patient"
	for _, q := range []string{"", "?_count=50", "?_count=1", "?_count=0"} {
		t.Run("query "+q, func(t *testing.T) {
			n, got := total(t, base+q)
			assert.Equal(t, 10, n)
			assert.Equal(t, mockphp.IgnoredCountPageSize, got, "the server's page size, whatever _count asks")
			all, _ := searchAll(t, base+q)
			assert.Len(t, all, len(srv.Patients()), "next links still reach every match")
		})
	}
}

func TestNoCapabilityStatement(t *testing.T) {
	for _, tc := range []struct {
		no     bool
		status int
		typ    string
	}{
		{false, http.StatusOK, "CapabilityStatement"},
		{true, http.StatusNotFound, "OperationOutcome"},
	} {
		t.Run("NoCapabilityStatement="+strconv.FormatBool(tc.no), func(t *testing.T) {
			_, ts := start(t, mockphp.Config{Seed: 1, Patients: 1, DocsPerPatient: 1,
				Server: mockphp.ServerBehaviour{NoCapabilityStatement: tc.no}})
			r := do(t, http.MethodGet, ts.URL+"/fhir/R4/metadata", nil)
			assert.Equal(t, tc.status, r.status)
			assert.Equal(t, tc.typ, r.json(t)["resourceType"])
			assert.Equal(t, http.StatusOK, do(t, http.MethodGet, ts.URL+"/fhir/R4/Patient", nil).status, "resources are still served")
		})
	}
}

func TestRequireIfMatch(t *testing.T) {
	for _, require428 := range []bool{false, true} {
		t.Run("RequireIfMatch="+strconv.FormatBool(require428), func(t *testing.T) {
			srv, ts := start(t, mockphp.Config{Seed: 2, Patients: 1, DocsPerPatient: 1,
				Server: mockphp.ServerBehaviour{RequireIfMatch: require428}})
			base := ts.URL + "/fhir/R4/"
			p := srv.Patients()[0]
			r := do(t, http.MethodGet, base+"Patient/"+p.ID, nil)
			body := r.body
			current := r.header.Get("ETag")

			blind := do(t, http.MethodPut, base+"Patient/"+p.ID, body)
			if require428 {
				assert.Equal(t, http.StatusPreconditionRequired, blind.status)
				assert.Equal(t, "OperationOutcome", blind.json(t)["resourceType"])
				assert.Equal(t, current, do(t, http.MethodGet, base+"Patient/"+p.ID, nil).header.Get("ETag"), "the refused write changed nothing")
			} else {
				assert.Equal(t, http.StatusOK, blind.status)
				current = blind.header.Get("ETag")
			}
			stale := do(t, http.MethodPut, base+"Patient/"+p.ID, body, "If-Match", `W/"stale"`)
			assert.Equal(t, http.StatusPreconditionFailed, stale.status)
			assert.Equal(t, "OperationOutcome", stale.json(t)["resourceType"])
			ok := do(t, http.MethodPut, base+"Patient/"+p.ID, body, "If-Match", current)
			assert.Equal(t, http.StatusOK, ok.status, string(ok.body))

			created := do(t, http.MethodPut, base+"Patient/new-one", []byte(`{"resourceType":"Patient","id":"new-one"}`))
			assert.Equal(t, http.StatusCreated, created.status, "an update that creates has no version to match")
			doc := srv.Documents(p.ID)[0]
			docBody, _ := srv.Resource("DocumentReference", doc.ID)
			assert.Equal(t, http.StatusOK, do(t, http.MethodPut, base+"DocumentReference/"+doc.ID, docBody).status,
				"only Patient updates need If-Match")
		})
	}
}

func TestNoTombstones(t *testing.T) {
	for _, none := range []bool{false, true} {
		t.Run("NoTombstones="+strconv.FormatBool(none), func(t *testing.T) {
			srv, ts := start(t, mockphp.Config{Seed: 2, Patients: 1, DocsPerPatient: 2,
				Server: mockphp.ServerBehaviour{NoTombstones: none}})
			base := ts.URL + "/fhir/R4/"
			doc := srv.Documents("")[0]
			body, _ := srv.Resource("DocumentReference", doc.ID)
			history := func() []map[string]any {
				r := do(t, http.MethodGet, base+"DocumentReference/"+doc.ID+"/_history", nil)
				require.Equal(t, http.StatusOK, r.status, string(r.body))
				b := r.json(t)
				es, _ := b["entry"].([]any)
				assert.EqualValues(t, len(es), b["total"])
				out := make([]map[string]any, len(es))
				for i, e := range es {
					out[i] = e.(map[string]any)
				}
				return out
			}
			require.Equal(t, http.StatusNoContent, do(t, http.MethodDelete, base+"DocumentReference/"+doc.ID, nil).status)

			r := do(t, http.MethodGet, base+"DocumentReference/"+doc.ID, nil)
			assert.Equal(t, "OperationOutcome", r.json(t)["resourceType"])
			if none {
				assert.Equal(t, http.StatusNotFound, r.status, "no tombstone: a deleted resource is not found")
				assert.Empty(t, history(), "no tombstone: nothing in history")
				assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, base+"DocumentReference/"+doc.ID+"/_history/1", nil).status)
			} else {
				assert.Equal(t, http.StatusGone, r.status)
				h := history()
				require.Len(t, h, 2)
				assert.Equal(t, "DELETE", h[0]["request"].(map[string]any)["method"])
			}

			r = do(t, http.MethodPut, base+"DocumentReference/"+doc.ID, body)
			require.Equal(t, http.StatusCreated, r.status, string(r.body))
			assert.Equal(t, http.StatusOK, do(t, http.MethodGet, base+"DocumentReference/"+doc.ID, nil).status)
			h := history()
			if none {
				require.Len(t, h, 1, "history starts afresh with the new resource")
			} else {
				require.Len(t, h, 3)
			}
			assert.Equal(t, "POST", h[0]["request"].(map[string]any)["method"], "the newest version created the resource")
		})
	}
}

func TestStrictAll(t *testing.T) {
	all := mockphp.StrictAll()
	assert.Equal(t, mockphp.ServerBehaviour{
		TypedReferences: true, UUIDVersions: true, OffsetPaging: true, IgnoreCount: true,
		NoCapabilityStatement: true, RequireIfMatch: true, NoTombstones: true,
	}, all)

	srv, ts := start(t, mockphp.Config{Seed: 5, Patients: 2, DocsPerPatient: 4, Server: all})
	base := ts.URL + "/fhir/R4/"
	p := srv.Patients()[0].ID
	n, got := total(t, base+"DocumentReference?patient=Patient/"+p+"&_count=100")
	assert.Equal(t, 4, n)
	assert.Equal(t, mockphp.IgnoredCountPageSize, got)
	n, _ = total(t, base+"DocumentReference?patient="+p)
	assert.Zero(t, n)
	assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, base+"metadata", nil).status)
}

func TestSearchByLocationAndResult(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 7, Patients: 3, DocsPerPatient: 6})
	base := ts.URL + "/fhir/R4"
	doc := binaryDocument(t, srv)
	lab, obs := labReport(t, srv)
	tests := []struct {
		name, query string
		want        []string
	}{
		{"location relative", "DocumentReference?location=Binary/" + doc.BinaryID, []string{doc.ID}},
		{"location absolute", "DocumentReference?location=" + url.QueryEscape(base+"/Binary/"+doc.BinaryID), []string{doc.ID}},
		{"location ORed", "DocumentReference?location=Binary/nope,Binary/" + doc.BinaryID, []string{doc.ID}},
		{"location with patient", "DocumentReference?patient=Patient/" + doc.PatientID + "&location=Binary/" + doc.BinaryID, []string{doc.ID}},
		{"location of another patient", "DocumentReference?patient=Patient/other&location=Binary/" + doc.BinaryID, nil},
		{"location unknown", "DocumentReference?location=Binary/nope", nil},
		{"location of another server", "DocumentReference?location=" + url.QueryEscape("https://elsewhere.example/fhir/Binary/"+doc.BinaryID), nil},
		{"result", "DiagnosticReport?result=Observation/" + obs, []string{lab.DiagnosticReportID}},
		{"result unknown", "DiagnosticReport?result=Observation/nope", nil},
		{"related", "DocumentReference?related=DiagnosticReport/" + lab.DiagnosticReportID, []string{lab.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n := searchAll(t, base+"/"+tc.query)
			assert.Equal(t, len(tc.want), n)
			if tc.want == nil {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tc.want, ids(got))
			}
		})
	}
	t.Run("the capability statement names them", func(t *testing.T) {
		body := string(do(t, http.MethodGet, base+"/metadata", nil).body)
		for _, p := range []string{`{"name":"location","type":"uri"}`, `{"name":"result","type":"reference"}`, `{"name":"related","type":"reference"}`} {
			assert.Contains(t, body, p)
		}
	})
}
