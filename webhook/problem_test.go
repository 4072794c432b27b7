package webhook_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/webhook"
)

// leaks are what an answer must never contain: the text of a Go decoding
// error, Go type names, identifiers of this code.
var leaks = []string{"Go struct", "Go value", "json:", "of type", "main.", "webhook.", "connector.", "[]", "*", "reflect", "map["}

// checkProblem asserts that res is an RFC 9457 problem of a 4xx or 5xx
// status that says something and leaks nothing.
func checkProblem(t *testing.T, res response, context string) {
	t.Helper()
	if !assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), "%s: %d %s", context, res.Status, res.Body) {
		return
	}
	assert.GreaterOrEqual(t, res.Status, 400, context)
	assert.EqualValues(t, res.Status, res.Problem["status"], context)
	assert.Equal(t, http.StatusText(res.Status), res.Problem["title"], context)
	assert.Equal(t, "about:blank", res.Problem["type"], context)
	assert.NotEmpty(t, res.Problem["detail"], context)
	for _, l := range leaks {
		assert.NotContains(t, res.Problem["detail"], l, "%s: %s", context, res.Body)
	}
}

// swaps replace, one at a time, each value of a valid body.
var swaps = []json.RawMessage{
	json.RawMessage(`5`), json.RawMessage(`-1`), json.RawMessage(`1.5`), json.RawMessage(`1e400`),
	json.RawMessage(`"s"`), json.RawMessage(`"` + strings.Repeat("x", 3000) + `"`),
	json.RawMessage(`true`), json.RawMessage(`null`), json.RawMessage(`[1]`), json.RawMessage(`{"a":1}`),
}

// mutations returns bodies close to valid: each value swapped for each of
// swaps in turn, and valid cut short at a spread of lengths.
func mutations(t *testing.T, valid []byte) [][]byte {
	t.Helper()
	var root any
	require.NoError(t, json.Unmarshal(valid, &root))
	var out [][]byte
	emit := func() {
		b, err := json.Marshal(root)
		require.NoError(t, err)
		out = append(out, b)
	}
	var walk func(cur any, set func(any))
	walk = func(cur any, set func(any)) {
		for _, s := range swaps {
			set(s)
			emit()
		}
		set(cur)
		switch c := cur.(type) {
		case map[string]any:
			for k, v := range c {
				walk(v, func(n any) { c[k] = n })
			}
		case []any:
			for i, v := range c {
				walk(v, func(n any) { c[i] = n })
			}
		}
	}
	walk(root, func(n any) { root = n })
	for n := 0; n < len(valid); n += 1 + len(valid)/40 {
		out = append(out, valid[:n])
	}
	return append(out, []byte(`{"a":1}{"b":2}`), []byte("\xff\xfe"), []byte(`{"a":"\ud800"}`))
}

// Whatever a verified sender gets wrong in its body, the answer is a
// problem that names what to fix and no Go type.
func TestMalformedBodiesAreAnsweredAsProblems(t *testing.T) {
	medplumBody := []byte(`{"resourceType":"Observation","id":"o-1","meta":{"versionId":"1","lastUpdated":"2026-03-01T12:00:00Z"},"subject":{"reference":"Patient/p-1"}}`)
	formats := []struct {
		name   string
		cfg    webhook.Config
		valid  []byte
		header func(body []byte) http.Header
	}{
		{"standard-webhooks", webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}},
			changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "Patient/p-1"),
			func(body []byte) http.Header { return signed(t, secretA, "msg_m", fixedNow, body) }},
		{"fhir-subscription r4", webhook.Config{Format: webhook.FormatFHIRSubscription, Secrets: []string{bearer}},
			fixture(t, "r4-notification-full-resource.json"),
			func([]byte) http.Header { return fhirHeader() }},
		{"fhir-subscription r4b", webhook.Config{Format: webhook.FormatFHIRSubscription, Secrets: []string{bearer}},
			fixture(t, "r4b-notification-id-only.json"),
			func([]byte) http.Header { return fhirHeader() }},
		{"medplum", webhook.Config{Source: "medplum", Format: webhook.FormatMedplum, Secrets: []string{medplumSecret}},
			medplumBody,
			func(body []byte) http.Header { return medplumHeader(medplumSecret, "sub", body) }},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			_, srv, _ := newReceiver(t, newMemIngester(), f.cfg)
			refused := 0
			for _, body := range mutations(t, f.valid) {
				res := send(t, srv, http.MethodPost, f.header(body), body)
				if res.Status < 400 {
					continue // still a valid notification
				}
				refused++
				checkProblem(t, res, string(clipForMessage(body)))
			}
			assert.Greater(t, refused, 20, "the mutations were refused")
		})
	}
}

func clipForMessage(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// The details say where the body is wrong and what is wanted there.
func TestMalformedBodyDetails(t *testing.T) {
	tests := []struct {
		name   string
		format webhook.Format
		body   string
		detail string
	}{
		{"standard: not JSON", webhook.FormatStandardWebhooks, `{"type":`, "the body is not valid JSON: unexpected end of JSON input at offset 8"},
		{"standard: type not a string", webhook.FormatStandardWebhooks, `{"type":5}`, "field type: want a string, got a number"},
		{"standard: data an array", webhook.FormatStandardWebhooks, `{"type":"resource.updated","data":[]}`, "field data: want an object, got an array"},
		{"standard: not an object", webhook.FormatStandardWebhooks, `[1,2]`, "the body: want an object, got an array"},
		{"standard: bad time", webhook.FormatStandardWebhooks, `{"type":"resource.updated","timestamp":"yesterday"}`, "field timestamp: want an RFC 3339 time"},
		{"standard: bad id", webhook.FormatStandardWebhooks, `{"type":"resource.updated","data":{"resourceType":"DocumentReference","id":"a/b"}}`, "field data.id: want a FHIR id"},
		{"fhir: entry url a number", webhook.FormatFHIRSubscription, `{"resourceType":"Bundle","entry":[{"fullUrl":"a"},{"fullUrl":5}]}`, "field entry[1].fullUrl: want a string, got a number"},
		{"fhir: not a Bundle", webhook.FormatFHIRSubscription, `{"resourceType":"Patient"}`, `field resourceType: want Bundle, got "Patient"`},
		{"fhir: parameter an object", webhook.FormatFHIRSubscription, `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Parameters","parameter":{"name":"type"}}}]}`, "field entry[0].resource.parameter: want an array, got an object"},
		{"fhir: part name a bool", webhook.FormatFHIRSubscription, `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Parameters","parameter":[{"name":"x"},{"name":"y","part":[{"name":true}]}]}}]}`, "field entry[0].resource.parameter[1].part[0].name: want a string, got true or false"},
		{"fhir: R4B count not a number", webhook.FormatFHIRSubscription, `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"SubscriptionStatus","type":"heartbeat","subscription":{"reference":"Subscription/s"},"eventsSinceSubscriptionStart":"x"}}]}`, `field entry[0].resource.eventsSinceSubscriptionStart: want a non-negative integer, got "x"`},
		{"medplum: id a number", webhook.FormatMedplum, `{"resourceType":"Observation","id":7}`, "field id: want a string, got a number"},
		{"medplum: no resource type", webhook.FormatMedplum, `{"id":"x"}`, "field resourceType: want a FHIR resource type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := webhook.Config{Format: tt.format}
			var h http.Header
			body := []byte(tt.body)
			switch tt.format {
			case webhook.FormatStandardWebhooks:
				cfg.Secrets, h = []string{secretA}, signed(t, secretA, "msg_d", fixedNow, body)
			case webhook.FormatFHIRSubscription:
				cfg.Secrets, h = []string{bearer}, fhirHeader()
			case webhook.FormatMedplum:
				cfg.Secrets, h = []string{medplumSecret}, medplumHeader(medplumSecret, "sub", body)
			}
			_, srv, _ := newReceiver(t, newMemIngester(), cfg)
			res := send(t, srv, http.MethodPost, h, body)
			assert.Equal(t, http.StatusBadRequest, res.Status)
			checkProblem(t, res, tt.name)
			assert.Contains(t, res.Problem["detail"], tt.detail)
		})
	}
}

// Every answer of the router is a problem, for any path under its mount,
// as is a server's own unknown path through NotFoundHandler.
func TestRouterAnswersProblems(t *testing.T) {
	php, err := webhook.New(newMemIngester(), webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/{source...}", webhook.BySource(php))
	mux.Handle("/", webhook.NotFoundHandler())
	srv := newLoopbackServer(t, mux)

	tests := []struct {
		method, path string
		status       int
		outcome      string
	}{
		{http.MethodPost, "/webhooks/", http.StatusNotFound, "unknown_source"},
		{http.MethodPost, "/webhooks/nobody", http.StatusNotFound, "unknown_source"},
		{http.MethodPost, "/webhooks/php/extra", http.StatusNotFound, "unknown_source"},
		{http.MethodPost, "/webhooks/php/", http.StatusNotFound, "unknown_source"},
		{http.MethodGet, "/webhooks/php", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodPost, "/webhooks/php", http.StatusUnauthorized, "unauthorized"},
		{http.MethodGet, "/elsewhere", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("{}"))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			r, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer r.Body.Close()
			b, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			res := response{Status: r.StatusCode, Header: r.Header, Body: b}
			require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), "%s", b)
			require.NoError(t, json.Unmarshal(b, &res.Problem))
			assert.Equal(t, tt.status, res.Status)
			checkProblem(t, res, tt.path)
			if tt.outcome == "" {
				assert.NotContains(t, res.Problem, "outcome")
			} else {
				assert.Equal(t, tt.outcome, res.Problem["outcome"])
			}
		})
	}
}

func TestWriteProblemKeepsHeaders(t *testing.T) {
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3")
		webhook.WriteProblem(w, http.StatusServiceUnavailable, "the server is starting; retry later")
	}))
	res := send(t, srv, http.MethodGet, nil, nil)
	assert.Equal(t, http.StatusServiceUnavailable, res.Status)
	assert.Equal(t, "3", res.Header.Get("Retry-After"))
	checkProblem(t, res, "WriteProblem")
	assert.Equal(t, "the server is starting; retry later", res.Problem["detail"])
}
