package fhir_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fhirServer is a small in-test FHIR R4 server: patients, document
// references, diagnostic reports, observations, binaries and tasks, with
// searches by patient and _lastUpdated, offset paging, conditional
// create and If-Match updates.
type fhirServer struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	clock     time.Time
	resources map[string]map[string]any // "Type/id" -> resource
	binaries  map[string][]byte
	requests  []string // method and path?query of every request
	taskSeq   int
	// beforePut runs, locked, before a PUT is checked.
	beforePut func()
	// noLinks pages by _offset only: a total, no Bundle.link.
	noLinks bool
	// ownPageSize, when set, is the page size whatever _count asks.
	ownPageSize int
}

func newFHIRServer(t *testing.T) *fhirServer {
	s := &fhirServer{t: t, clock: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		resources: map[string]map[string]any{}, binaries: map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *fhirServer) base() string { return s.srv.URL + "/fhir" }

// put stores a resource as a new version, stamped one second after the
// previous change.
func (s *fhirServer) put(r map[string]any) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putLocked(r)
}

func (s *fhirServer) putLocked(r map[string]any) map[string]any {
	key := r["resourceType"].(string) + "/" + r["id"].(string)
	version := 1
	if old, ok := s.resources[key]; ok {
		v, _ := strconv.Atoi(old["meta"].(map[string]any)["versionId"].(string))
		version = v + 1
	}
	s.clock = s.clock.Add(time.Second)
	r["meta"] = map[string]any{"versionId": strconv.Itoa(version), "lastUpdated": s.clock.Format(time.RFC3339)}
	s.resources[key] = r
	return r
}

func (s *fhirServer) patient(id, name, email, mrn string) {
	s.put(map[string]any{"resourceType": "Patient", "id": id,
		"identifier": []any{map[string]any{"system": "urn:mrn", "value": mrn}},
		"name":       []any{map[string]any{"use": "official", "text": name}},
		"telecom":    []any{map[string]any{"system": "email", "value": email}, map[string]any{"system": "phone", "value": "555-0100"}},
		"extension":  []any{map[string]any{"url": "http://example.org/keep-me", "valueString": "kept"}},
	})
}

func (s *fhirServer) docRef(id, patient, loinc, binary string, content []byte) {
	s.mu.Lock()
	s.binaries[binary] = content
	s.mu.Unlock()
	s.put(map[string]any{"resourceType": "DocumentReference", "id": id, "status": "current",
		"type":        map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": loinc}}},
		"subject":     map[string]any{"reference": "Patient/" + patient},
		"date":        "2026-02-01T10:00:00Z",
		"author":      []any{map[string]any{"display": "Dr Example"}},
		"custodian":   map[string]any{"display": "Example Clinic"},
		"description": "Note " + id,
		"content":     []any{map[string]any{"attachment": map[string]any{"contentType": "text/plain", "url": "Binary/" + binary}}},
	})
}

func (s *fhirServer) report(id, patient string, presentedURL string, results ...string) {
	r := map[string]any{"resourceType": "DiagnosticReport", "id": id, "status": "final",
		"category":          []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}}}},
		"code":              map[string]any{"text": "CBC"},
		"subject":           map[string]any{"reference": "Patient/" + patient},
		"effectiveDateTime": "2026-02-02",
	}
	if presentedURL != "" {
		r["presentedForm"] = []any{map[string]any{"contentType": "text/plain", "url": presentedURL}}
	}
	var refs []any
	for _, o := range results {
		refs = append(refs, map[string]any{"reference": "Observation/" + o})
		s.put(map[string]any{"resourceType": "Observation", "id": o, "status": "final",
			"code":          map[string]any{"text": "Hemoglobin " + o},
			"subject":       map[string]any{"reference": "Patient/" + patient},
			"valueQuantity": map[string]any{"value": 13.5, "unit": "g/dL"}})
	}
	if refs != nil {
		r["result"] = refs
	}
	s.put(r)
}

func (s *fhirServer) requestLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *fhirServer) write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func outcome(code, msg string) map[string]any {
	return map[string]any{"resourceType": "OperationOutcome", "issue": []any{map[string]any{"severity": "error", "code": code, "diagnostics": msg}}}
}

func (s *fhirServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/fhir/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "Binary":
		data, ok := s.binaries[parts[1]]
		if !ok {
			s.write(w, 404, outcome("not-found", "no binary"))
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write(data)
	case r.Method == http.MethodGet && len(parts) == 2:
		res, ok := s.resources[parts[0]+"/"+parts[1]]
		if !ok {
			s.write(w, 404, outcome("not-found", "no such resource"))
			return
		}
		s.write(w, 200, res)
	case r.Method == http.MethodGet && len(parts) == 1:
		s.search(w, r, parts[0])
	case r.Method == http.MethodPut && len(parts) == 2 && parts[0] == "Patient":
		if s.beforePut != nil {
			s.beforePut()
			s.beforePut = nil
		}
		cur, ok := s.resources["Patient/"+parts[1]]
		if !ok {
			s.write(w, 404, outcome("not-found", "no such patient"))
			return
		}
		want := `W/"` + cur["meta"].(map[string]any)["versionId"].(string) + `"`
		if r.Header.Get("If-Match") != want {
			s.write(w, 412, outcome("conflict", "version conflict"))
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			s.write(w, 400, outcome("invalid", "bad json"))
			return
		}
		s.write(w, 200, s.putLocked(body))
	case r.Method == http.MethodPost && len(parts) == 1 && parts[0] == "Task":
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			s.write(w, 400, outcome("invalid", "bad json"))
			return
		}
		cond := r.Header.Get("If-None-Exist")
		for _, res := range s.resources {
			if res["resourceType"] == "Task" && res["_cond"] == cond {
				s.write(w, 200, res)
				return
			}
		}
		s.taskSeq++
		body["id"] = fmt.Sprintf("task-%d", s.taskSeq)
		body["_cond"] = cond
		s.write(w, 201, s.putLocked(body))
	default:
		s.write(w, 405, outcome("not-supported", "not supported"))
	}
}

func (s *fhirServer) search(w http.ResponseWriter, r *http.Request, typ string) {
	q := r.URL.Query()
	var matches []map[string]any
	for _, res := range s.resources {
		if res["resourceType"] != typ || !s.matches(res, q) {
			continue
		}
		matches = append(matches, res)
	}
	slices.SortFunc(matches, func(a, b map[string]any) int {
		return strings.Compare(a["meta"].(map[string]any)["lastUpdated"].(string)+a["id"].(string),
			b["meta"].(map[string]any)["lastUpdated"].(string)+b["id"].(string))
	})
	count, _ := strconv.Atoi(q.Get("_count"))
	if count <= 0 {
		count = 10
	}
	if s.ownPageSize > 0 {
		count = s.ownPageSize
	}
	offset, _ := strconv.Atoi(q.Get("_offset"))
	page := matches[min(offset, len(matches)):min(offset+count, len(matches))]
	entries := []any{}
	for _, res := range page {
		entries = append(entries, map[string]any{"fullUrl": s.base() + "/" + typ + "/" + res["id"].(string), "resource": res, "search": map[string]any{"mode": "match"}})
	}
	b := map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(matches), "entry": entries}
	// A next link on every full page, so a listing ends on an empty page
	// when the matches fill the pages exactly.
	if len(page) == count && !s.noLinks {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("_offset", strconv.Itoa(offset+count))
		b["link"] = []any{map[string]any{"relation": "next", "url": s.base() + "/" + typ + "?" + nq.Encode()}}
	}
	s.write(w, 200, b)
}

func (s *fhirServer) matches(res map[string]any, q url.Values) bool {
	// A reference parameter matches the typed form only ("Patient/p1"), as
	// a server that indexes references by their literal value does: a
	// bare id matches nothing.
	if p := q.Get("patient"); p != "" {
		subj, _ := res["subject"].(map[string]any)
		if subj == nil || subj["reference"] != p {
			return false
		}
	}
	if lu := q.Get("_lastUpdated"); lu != "" {
		since, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(lu, "gt"))
		if err != nil {
			s.t.Errorf("bad _lastUpdated %q", lu)
			return false
		}
		at, _ := time.Parse(time.RFC3339, res["meta"].(map[string]any)["lastUpdated"].(string))
		if !at.After(since) {
			return false
		}
	}
	if ids := q.Get("_id"); ids != "" && !slices.Contains(strings.Split(ids, ","), res["id"].(string)) {
		return false
	}
	if v := q.Get("identifier"); v != "" {
		found := false
		for _, id := range res["identifier"].([]any) {
			m := id.(map[string]any)
			found = found || m["system"].(string)+"|"+m["value"].(string) == v || m["value"] == v
		}
		if !found {
			return false
		}
	}
	if v := q.Get("email"); v != "" {
		found := false
		for _, tc := range res["telecom"].([]any) {
			m := tc.(map[string]any)
			found = found || (m["system"] == "email" && m["value"] == v)
		}
		if !found {
			return false
		}
	}
	// "location" is left to the client to compare, as a server that does
	// not support it would.
	return true
}
