package carepatrontest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
)

type fixture struct {
	fake *carepatrontest.Server
	url  string
}

func start(t *testing.T, cfg carepatrontest.Config) *fixture {
	t.Helper()
	fake := carepatrontest.NewServer(cfg)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &fixture{fake: fake, url: srv.URL}
}

func (f *fixture) do(t *testing.T, method, path, contentType string, body []byte, header map[string]string) (*http.Response, carepatrontest.Problem, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.url+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("cp-api-key", carepatrontest.DefaultAPIKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var p carepatrontest.Problem
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		require.NoError(t, json.Unmarshal(b, &p))
	}
	return resp, p, b
}

func TestAuthAndValidation(t *testing.T) {
	f := start(t, carepatrontest.Config{})
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		header      map[string]string
		status      int
		code        string
		contentType string
	}{
		{name: "ping needs no key", method: "GET", path: "/ping", header: map[string]string{"cp-api-key": ""}, status: 200},
		{name: "missing key", method: "GET", path: "/contacts", header: map[string]string{"cp-api-key": ""}, status: 401, code: "invalid_api_key"},
		{name: "wrong key", method: "GET", path: "/contacts", header: map[string]string{"cp-api-key": "nope"}, status: 401, code: "invalid_api_key"},
		{name: "unknown route", method: "GET", path: "/nowhere", status: 404, code: "not_found"},
		{name: "limit out of range", method: "GET", path: "/contacts?limit=1000", status: 400, code: "bad_request"},
		{name: "bad cursor", method: "GET", path: "/contacts?cursor=%25%25", status: 400, code: "bad_request"},
		{name: "create without key", method: "POST", path: "/contacts", body: `{"firstName":"A"}`, contentType: "application/json", status: 400, code: "bad_request"},
		{name: "body breaks the schema", method: "POST", path: "/contacts", body: `{"lastName":"A"}`, contentType: "application/json",
			header: map[string]string{"Idempotency-Key": "k1"}, status: 422, code: "validation_failed"},
		{name: "body does not parse", method: "POST", path: "/contacts", body: `{`, contentType: "application/json",
			header: map[string]string{"Idempotency-Key": "k2"}, status: 400, code: "bad_request"},
		{name: "valid create", method: "POST", path: "/contacts", body: `{"firstName":"A"}`, contentType: "application/json",
			header: map[string]string{"Idempotency-Key": "k3"}, status: 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, p, _ := f.do(t, tt.method, tt.path, tt.contentType, []byte(tt.body), tt.header)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.code, p.Code)
			if tt.code != "" {
				assert.Equal(t, tt.status, p.Status)
				assert.NotEmpty(t, p.Detail)
			}
		})
	}
	if st := f.fake.Stats(); assert.Positive(t, st.InvalidRequests) {
		assert.NotEmpty(t, st.Invalid)
	}
}

func TestTokenBucket(t *testing.T) {
	f := start(t, carepatrontest.Config{RateLimit: 1, Burst: 2})
	var statuses []int
	var retryAfter string
	for range 3 {
		resp, _, _ := f.do(t, "GET", "/ping", "", nil, nil)
		statuses = append(statuses, resp.StatusCode)
		retryAfter = resp.Header.Get("Retry-After")
	}
	assert.Equal(t, []int{200, 200, 429}, statuses)
	assert.Equal(t, "1", retryAfter)
	assert.Equal(t, 1, f.fake.Stats().Throttled)
}

func upload(t *testing.T, boundary, title string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	require.NoError(t, w.SetBoundary(boundary))
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="metadata"`)
	h.Set("Content-Type", "application/json")
	p, err := w.CreatePart(h)
	require.NoError(t, err)
	_, _ = p.Write([]byte(`{"type":"progress_note","title":"` + title + `"}`))
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="n.txt"`)
	h.Set("Content-Type", "text/plain")
	p, err = w.CreatePart(h)
	require.NoError(t, err)
	_, _ = p.Write([]byte("synthetic"))
	require.NoError(t, w.Close())
	return w.FormDataContentType(), buf.Bytes()
}

// TestIdempotencyComparesContent checks that a retried upload is
// recognized whatever multipart boundary it was encoded with.
func TestIdempotencyComparesContent(t *testing.T) {
	f := start(t, carepatrontest.Config{})
	resp, _, b := f.do(t, "POST", "/contacts", "application/json", []byte(`{"firstName":"A"}`), map[string]string{"Idempotency-Key": "c"})
	require.Equal(t, 201, resp.StatusCode)
	var c carepatrontest.Contact
	require.NoError(t, json.Unmarshal(b, &c))
	path := "/contacts/" + c.Id + "/documents"

	ct, body := upload(t, "first-boundary", "Note")
	resp, _, first := f.do(t, "POST", path, ct, body, map[string]string{"Idempotency-Key": "d"})
	require.Equal(t, 201, resp.StatusCode)

	ct, body = upload(t, "second-boundary", "Note")
	resp, _, again := f.do(t, "POST", path, ct, body, map[string]string{"Idempotency-Key": "d"})
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
	assert.JSONEq(t, string(first), string(again))

	ct, body = upload(t, "third-boundary", "Another note")
	resp, p, _ := f.do(t, "POST", path, ct, body, map[string]string{"Idempotency-Key": "d"})
	assert.Equal(t, 409, resp.StatusCode)
	assert.Equal(t, "idempotency_key_reused", p.Code)

	assert.Len(t, f.fake.Documents(c.Id), 1)
	assert.Equal(t, map[string]int{"c": 1, "d": 1}, f.fake.Stats().Creates)
}

func TestLostResponseStillWrites(t *testing.T) {
	f := start(t, carepatrontest.Config{Faults: carepatrontest.Faults{LostResponseRate: 1}, Seed: 3})
	// A connection each: net/http resends a request with an Idempotency-Key
	// whose reused connection closed without an answer, which would count
	// one more lost response.
	transport := &http.Transport{DisableKeepAlives: true}
	defer transport.CloseIdleConnections()
	for i := range 4 {
		req, err := http.NewRequest("POST", f.url+"/contacts", strings.NewReader(`{"firstName":"A"}`))
		require.NoError(t, err)
		req.Header.Set("cp-api-key", carepatrontest.DefaultAPIKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k"+string(rune('0'+i)))
		resp, err := transport.RoundTrip(req)
		if err == nil {
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			resp.Body.Close()
		}
	}
	assert.Len(t, f.fake.Contacts(), 4, "each write applied though its response was lost")
	assert.Equal(t, 4, f.fake.Stats().LostResponses)
}

func TestLatency(t *testing.T) {
	f := start(t, carepatrontest.Config{Faults: carepatrontest.Faults{Latency: 50 * time.Millisecond}})
	begin := time.Now()
	resp, _, _ := f.do(t, "GET", "/ping", "", nil, nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(begin), 50*time.Millisecond)
}

func TestStateAndListing(t *testing.T) {
	f := start(t, carepatrontest.Config{})
	resp, _, b := f.do(t, "POST", "/contacts", "application/json", []byte(`{"firstName":"A","externalReference":"php/Patient/1"}`), map[string]string{"Idempotency-Key": "c"})
	require.Equal(t, 201, resp.StatusCode)
	var c carepatrontest.Contact
	require.NoError(t, json.Unmarshal(b, &c))

	resp, _, b = f.do(t, "GET", carepatrontest.StatePath, "", nil, map[string]string{"cp-api-key": ""})
	require.Equal(t, 200, resp.StatusCode)
	var st struct {
		Contacts int
		Stats    carepatrontest.Stats
	}
	require.NoError(t, json.Unmarshal(b, &st))
	assert.Equal(t, 1, st.Contacts)
	assert.Equal(t, 1, st.Stats.Calls["createContact"])

	var out strings.Builder
	require.NoError(t, f.fake.WriteListing(&out))
	assert.Contains(t, out.String(), c.Id)
	assert.Contains(t, out.String(), "php/Patient/1")
	assert.NotContains(t, out.String(), `"A"`)
}

func TestSpecMarksModeledRoutes(t *testing.T) {
	doc, err := carepatrontest.Spec()
	require.NoError(t, err)
	published := map[string]bool{"ping": true, "securePing": true, "startContactsExport": true, "getContactsExport": true}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			modeled, _ := op.Extensions["x-modeled"].(bool)
			assert.Equal(t, !published[op.OperationID], modeled, "%s %s x-modeled", method, path)
			if modeled {
				assert.Contains(t, op.Description, "not yet published by Carepatron", "%s %s", method, path)
			}
			if method == http.MethodPost && op.OperationID != "startContactsExport" {
				p := op.Parameters.GetByInAndName("header", "Idempotency-Key")
				if assert.NotNil(t, p, "%s %s takes an Idempotency-Key", method, path) {
					assert.True(t, p.Required)
				}
			}
			assert.NotNil(t, op.Responses.Status(http.StatusTooManyRequests), "%s %s documents 429", method, path)
		}
	}
	assert.Equal(t, 14, n)
}
