package mockphp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

// loopback starts h on 127.0.0.1 only.
func loopback(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := httptest.NewUnstartedServer(h)
	ts.Listener = l
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// start builds a server from cfg, serves it on loopback and tells it its
// public URL.
func start(t testing.TB, cfg mockphp.Config) (*mockphp.Server, *httptest.Server) {
	t.Helper()
	srv, err := mockphp.New(cfg)
	require.NoError(t, err)
	ts := loopback(t, srv)
	srv.SetPublicURL(ts.URL)
	t.Cleanup(func() { _ = srv.Close() })
	return srv, ts
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

func do(t testing.TB, method, url string, body []byte, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header, b}
}

// entries returns the resources of a Bundle.
func entries(t testing.TB, bundle map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	es, _ := bundle["entry"].([]any)
	for _, e := range es {
		out = append(out, e.(map[string]any)["resource"].(map[string]any))
	}
	return out
}

func nextLink(bundle map[string]any) string {
	links, _ := bundle["link"].([]any)
	for _, l := range links {
		m := l.(map[string]any)
		if m["relation"] == "next" {
			return m["url"].(string)
		}
	}
	return ""
}

// searchAll follows next links to the end and returns every resource.
func searchAll(t testing.TB, url string) ([]map[string]any, int) {
	t.Helper()
	var all []map[string]any
	total := -1
	for pages := 0; url != ""; pages++ {
		require.Less(t, pages, 10000, "paging does not end")
		r := do(t, http.MethodGet, url, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		b := r.json(t)
		if total < 0 {
			total = int(b["total"].(float64))
		}
		all = append(all, entries(t, b)...)
		url = nextLink(b)
	}
	return all, total
}

func ids(rs []map[string]any) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r["id"].(string)
	}
	return out
}

func meta(r map[string]any, k string) string { return r["meta"].(map[string]any)[k].(string) }

func readAll(resp *http.Response) ([]byte, error) { return io.ReadAll(resp.Body) }
