package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/webhook"
)

// The engine is what a Receiver hands events to in production.
var _ webhook.Ingester = (*connector.Engine)(nil)

// memIngester is the consumer side of webhook.Ingester in memory: it
// validates events as the engine does, records them once by id, and can be
// made to fail after the body was read, as a store that is down does.
type memIngester struct {
	mu     sync.Mutex
	events []connector.Event
	seen   map[string]bool
	calls  int
	// fail, when set, is returned by Ingest before anything is recorded.
	fail error
}

func newMemIngester() *memIngester { return &memIngester{seen: make(map[string]bool)} }

func (m *memIngester) Ingest(_ context.Context, ev connector.Event) (connector.IngestResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if err := ev.Validate(); err != nil {
		return connector.IngestResult{}, err
	}
	if m.fail != nil {
		return connector.IngestResult{}, m.fail
	}
	key := ev.Source + "\x00" + ev.ID
	if m.seen[key] {
		return connector.IngestResult{Duplicate: true}, nil
	}
	m.seen[key] = true
	m.events = append(m.events, ev)
	n := len(ev.Changes)
	if ev.Reconcile {
		n++
	}
	return connector.IngestResult{Enqueued: n}, nil
}

func (m *memIngester) Events() []connector.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]connector.Event(nil), m.events...)
}

func (m *memIngester) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

func (m *memIngester) SetFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// fixedNow is the clock of every test receiver.
var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Secrets used across tests.
const (
	secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretB = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="
)

// logBuffer captures a receiver's log for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newReceiver builds a receiver with test defaults filled into cfg and
// serves it on loopback.
func newReceiver(t *testing.T, ing webhook.Ingester, cfg webhook.Config) (*webhook.Receiver, *httptest.Server, *logBuffer) {
	t.Helper()
	if cfg.Source == "" {
		cfg.Source = "php"
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	logs := &logBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r, err := webhook.New(ing, cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(r) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return r, srv, logs
}

// response is what a test request got back.
type response struct {
	Status  int
	Header  http.Header
	Body    []byte
	Problem map[string]any
}

func send(t *testing.T, srv *httptest.Server, method string, header http.Header, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/webhooks/php", bytes.NewReader(body))
	require.NoError(t, err)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := response{Status: res.StatusCode, Header: res.Header, Body: b}
	if res.Header.Get("Content-Type") == "application/problem+json" {
		require.NoError(t, json.Unmarshal(b, &out.Problem), "problem body %s", b)
	}
	return out
}

// signed returns the headers of a Standard Webhooks request signed with
// secret at ts.
func signed(t *testing.T, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	sig, err := webhook.Sign(secret, id, ts, body)
	require.NoError(t, err)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, formatUnix(ts))
	h.Set(webhook.HeaderSignature, sig)
	return h
}

func formatUnix(ts time.Time) string { return strconv.FormatInt(ts.Unix(), 10) }

// changeBody is a Standard Webhooks change event body.
func changeBody(typ, resourceType, id, version, patient string) []byte {
	b, err := json.Marshal(webhook.ChangeEvent{
		Type:      typ,
		Timestamp: fixedNow,
		Data:      webhook.ChangeData{ResourceType: resourceType, ID: id, VersionID: version, Patient: patient, LastUpdated: fixedNow},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// newLoopbackServer serves h on 127.0.0.1 until the test ends.
func newLoopbackServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
