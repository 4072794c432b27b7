package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/present"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// harness is the API on loopback over a real practice service: a SQLite
// store in a temporary directory, an engine syncing an in-memory provider
// ("php") into an in-memory Carepatron.
type harness struct {
	srv  *httptest.Server
	svc  *practice.Service
	st   *sqlite.Store
	php  *connectortest.Source
	sink *connectortest.Sink
	// base is the API's URL: srv.URL + "/api/v1".
	base string
}

// harnessConfig adjusts a harness.
type harnessConfig struct {
	api       func(*api.Config)
	maxUpload int64
	// syncEvery is the service's least time between two manual syncs of
	// one patient; 0 for its default.
	syncEvery time.Duration
	// tokens, when set, stand in for the service's own: the API accepts
	// only these, as the actors they map to.
	tokens map[string]practice.Actor
	// notifier, when set, is the engine's and the service's; retry the
	// engine's backoff.
	notifier *practice.Notifier
	retry    connector.Backoff
}

func newHarness(t *testing.T, opts ...func(*harnessConfig)) *harness {
	t.Helper()
	var hc harnessConfig
	for _, o := range opts {
		o(&hc)
	}
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hr.db"), store.Config{FetchPollInterval: 20 * time.Millisecond, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })

	php := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	sink := connectortest.NewSink(connectortest.SinkConfig{})
	engine, err := connector.New(connector.Config{
		Store:   st,
		Sources: map[string]connector.Source{"php": php.Observing()},
		Sinks:   map[string]connector.Sink{"carepatron": sink},
		Logger:  quiet,
		// As the server does: a PDF's words are searchable.
		ExtractText: present.Extractor(present.Limits{}),
		Retry:       hc.retry,
		Notifier:    notifierOf(hc),
	})
	require.NoError(t, err)
	require.NoError(t, st.Start(ctx, engine))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = st.Stop(stop)
	})

	svc, err := practice.New(practice.Config{
		Store:          st,
		Engine:         engine,
		Provider:       "php",
		ProviderSource: php,
		MaxUpload:      hc.maxUpload,
		SyncEvery:      hc.syncEvery,
		Notifier:       hc.notifier,
		Logger:         quiet,
	})
	require.NoError(t, err)

	cfg := api.Config{Service: svc, Logger: quiet, MaxUpload: hc.maxUpload}
	if hc.api != nil {
		hc.api(&cfg)
	}
	var h http.Handler
	if hc.tokens != nil {
		h, err = api.NewWithTokens(cfg, hc.tokens)
	} else {
		h, err = api.New(cfg)
	}
	require.NoError(t, err)
	jwks, err := api.JWKS(cfg)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", h)
	mux.Handle("/.well-known/jwks.json", jwks)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &harness{srv: srv, svc: svc, st: st, php: php, sink: sink, base: srv.URL + "/api/v1"}
}

// withNotifier notifies what the harness's engine and service record,
// alerting after three failures running; it retries failed ops fast and
// lets a patient be synced again at once.
func withNotifier(hc *harnessConfig) {
	hc.notifier = practice.NewNotifier(practice.NotifierConfig{AlertAfter: 3, Support: "mailto:help@practice.example",
		Logger: slog.New(slog.DiscardHandler)})
	hc.retry = connector.Backoff{Initial: 100 * time.Millisecond, Max: 300 * time.Millisecond}
	hc.syncEvery = time.Millisecond
}

// notifierOf is the engine's Notifier of hc: none unless withNotifier (a
// nil *practice.Notifier must not become a non-nil interface).
func notifierOf(hc harnessConfig) connector.Notifier {
	if hc.notifier == nil {
		return nil
	}
	return hc.notifier
}

// withTokens makes the harness accept the fake tokens of fakeActors.
func withTokens(hc *harnessConfig) { hc.tokens = fakeActors }

// fakeActors are the actors of the fake tokens: one of each role.
var fakeActors = map[string]practice.Actor{
	"admin-token":        {UserID: 1, Role: practice.RoleAdmin, SessionID: "s1"},
	"dietician-token":    {UserID: 2, Role: practice.RoleDietician, SessionID: "s2"},
	"practitioner-token": {UserID: 3, Role: practice.RolePractitioner, SessionID: "s3"},
	"patient-token":      {UserID: 4, Role: practice.RolePatient, PatientID: 1, SessionID: "s4"},
}

// response is an answer read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem decodes the body as a problem.
func (r response) problem(t *testing.T) problemBody {
	t.Helper()
	var p problemBody
	require.NoError(t, json.Unmarshal(r.Body, &p), "%d %s", r.Status, r.Body)
	return p
}

// problemBody is the Problem schema with the members held as a client
// reads them.
type problemBody struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Status     int    `json:"status"`
	Detail     string `json:"detail"`
	Instance   string `json:"instance"`
	RequestID  string `json:"request_id"`
	Existing   string `json:"existing"`
	ExistingID int64  `json:"existing_id"`
	Errors     []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

// fields lists the fields the problem names.
func (p problemBody) fields() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// request is a request to make; path is relative to the API's base.
type request struct {
	Method string
	Path   string
	// Body is sent as it is if a string or []byte, as JSON otherwise.
	Body        any
	ContentType string
	Token       string
	Header      map[string]string
}

// do makes r and reads the answer, within a bounded wait.
func (h *harness) do(t *testing.T, r request) response {
	t.Helper()
	var body io.Reader
	ct := r.ContentType
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	case io.Reader:
		body = b
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		body = bytes.NewReader(j)
	}
	if body != nil && ct == "" {
		ct = "application/json"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, h.base+r.Path, body)
	require.NoError(t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// leaks are what a problem must never say: Go's decoding errors, type
// names, this code's identifiers.
var leaks = []string{"Go struct", "Go value", "json:", "of type", "api.", "practice.", "connector.", "openapi3", "reflect", "map["}

// checkProblem asserts that res is an RFC 9457 problem of status want
// that says something, names its request, and leaks nothing.
func checkProblem(t *testing.T, res response, want int) problemBody {
	t.Helper()
	require.Equal(t, want, res.Status, "%s", res.Body)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	p := res.problem(t)
	assert.Equal(t, want, p.Status)
	assert.NotEmpty(t, p.Type)
	assert.NotEmpty(t, p.Title)
	assert.NotEmpty(t, p.Detail)
	assert.NotEmpty(t, p.RequestID)
	assert.Equal(t, res.Header.Get("X-Request-ID"), p.RequestID)
	var v any
	require.NoError(t, json.Unmarshal(res.Body, &v))
	assert.NoError(t, problemSchema(t).VisitJSON(v), "the problem breaks the spec's Problem: %s", res.Body)
	for _, l := range leaks {
		assert.NotContains(t, p.Detail, l)
		for _, e := range p.Errors {
			assert.NotContains(t, e.Reason, l)
		}
	}
	return p
}

var (
	problemOnce sync.Once
	problemRef  *openapi3.Schema
)

// problemSchema is the spec's Problem schema.
func problemSchema(t *testing.T) *openapi3.Schema {
	t.Helper()
	problemOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromFile(specFile)
		if err == nil {
			problemRef = doc.Components.Schemas["Problem"].Value
		}
	})
	require.NotNil(t, problemRef, "the spec's Problem schema")
	return problemRef
}
