package provider_test

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/provider"
)

// newServer starts a loopback server with h.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client of srv with fast retries.
func newClient(t *testing.T, base string, edit ...func(*provider.Config)) *provider.Client {
	t.Helper()
	cfg := provider.Config{BaseURL: base, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, Timeout: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler)}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := provider.New(cfg)
	require.NoError(t, err)
	return c
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func searchset(next string, ids ...string) string {
	var entries []string
	for _, id := range ids {
		entries = append(entries, fmt.Sprintf(`{"resource":{"resourceType":"Patient","id":%q},"search":{"mode":"match"}}`, id))
	}
	link := ""
	if next != "" {
		link = fmt.Sprintf(`"link":[{"relation":"next","url":%q}],`, next)
	}
	return fmt.Sprintf(`{"resourceType":"Bundle","type":"searchset",%s"entry":[%s]}`, link, strings.Join(entries, ","))
}

func TestSearchAllPaging(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pages map[string]string // page param -> body; "" is the first page
		want  []string
		calls int
	}{
		{"to the end", map[string]string{"": searchset("?page=2", "a"), "2": searchset("", "b")}, []string{"a", "b"}, 2},
		{"empty last page with a next link", map[string]string{"": searchset("?page=2", "a"), "2": searchset("?page=3"), "3": searchset("", "never")}, []string{"a"}, 2},
		{"repeated next link", map[string]string{"": searchset("?page=2", "a"), "2": searchset("?page=1", "b"), "1": searchset("?page=2", "c")}, []string{"a", "b", "c"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			var srv *httptest.Server
			srv = newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				page := r.URL.Query().Get("page")
				if page == "" {
					assert.Equal(t, "/fhir/Patient", r.URL.Path)
					assert.Equal(t, "x@example.org", r.URL.Query().Get("email"))
					assert.Equal(t, "100", r.URL.Query().Get("_count"))
				}
				body := strings.ReplaceAll(tc.pages[page], `"?page=`, `"`+srv.URL+`/fhir/Patient?page=`)
				writeJSON(w, 200, body)
			}))
			c := newClient(t, srv.URL+"/fhir")
			var got []string
			err := c.SearchAll(t.Context(), "Patient", url.Values{"email": {"x@example.org"}}, func(b *provider.Bundle) error {
				rs, _ := b.Matches()
				for _, r := range rs {
					got = append(got, r.(*provider.Patient).ID)
				}
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, int32(tc.calls), calls.Load())
		})
	}
}

func TestNextLinkOtherOriginRefused(t *testing.T) {
	other := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("request reached another origin")
	}))
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, searchset(other.URL+"/Patient?page=2", "a"))
	}))
	c := newClient(t, srv.URL)
	err := c.SearchAll(t.Context(), "Patient", nil, func(*provider.Bundle) error { return nil })
	assert.ErrorIs(t, err, provider.ErrOrigin)
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"Fri, 02 Jan 2026 03:04:35 GMT", 30 * time.Second, true},
		{"Thu, 01 Jan 2026 03:04:35 GMT", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		d, ok := provider.RetryAfter(tc.in, now)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, d, tc.in)
	}
}

// A 429 or 503 is retried after the server's Retry-After, in either form.
func TestRetryAfterHonoured(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		after  func() string
		min    time.Duration
	}{
		{"429 seconds", 429, func() string { return "1" }, 900 * time.Millisecond},
		{"503 http-date", 503, func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, 900 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Retry-After", tc.after())
					w.WriteHeader(tc.status)
					return
				}
				writeJSON(w, 200, `{"resourceType":"Patient","id":"p1"}`)
			}))
			c := newClient(t, srv.URL)
			start := time.Now()
			p, err := c.ReadPatient(t.Context(), "p1")
			require.NoError(t, err)
			assert.Equal(t, "p1", p.ID)
			assert.Equal(t, int32(2), calls.Load())
			assert.GreaterOrEqual(t, time.Since(start), tc.min)
		})
	}
	t.Run("longer than MaxRetryAfter goes back to the caller", func(t *testing.T) {
		var calls atomic.Int32
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Retry-After", "120")
			writeJSON(w, 429, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled","diagnostics":"slow down"}]}`)
		}))
		c := newClient(t, srv.URL)
		_, err := c.ReadPatient(t.Context(), "p1")
		var se *provider.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 429, se.StatusCode)
		assert.Equal(t, 120*time.Second, se.RetryAfter)
		assert.Contains(t, err.Error(), "slow down")
		assert.Equal(t, int32(1), calls.Load())
	})
}

func TestServerErrorsRetried(t *testing.T) {
	var calls atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(502)
			return
		}
		writeJSON(w, 200, `{"resourceType":"Patient","id":"p1"}`)
	}))
	_, err := newClient(t, srv.URL).ReadPatient(t.Context(), "p1")
	require.NoError(t, err)
	assert.Equal(t, int32(3), calls.Load())

	calls.Store(-100)
	_, err = newClient(t, srv.URL, func(c *provider.Config) { c.RetryMax = 2 }).ReadPatient(t.Context(), "p1")
	assert.Equal(t, 502, provider.StatusCode(err))
	assert.Equal(t, int32(-97), calls.Load())
}

func TestBadAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, err error)
	}{
		{"not fhir", 200, `<html>hello</html>`, func(t *testing.T, err error) { assert.ErrorIs(t, err, provider.ErrNotFHIR) }},
		{"wrong bundle type", 200, `{"resourceType":"Bundle","type":"history"}`, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, provider.ErrUnexpectedType)
		}},
		{"outcome instead of bundle", 200, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","diagnostics":"too costly"}]}`, func(t *testing.T, err error) {
			var oe *provider.OutcomeError
			require.ErrorAs(t, err, &oe)
			assert.Contains(t, err.Error(), "too costly")
		}},
		{"operation outcome error", 400, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"unknown parameter"}]}`, func(t *testing.T, err error) {
			var se *provider.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 400, se.StatusCode)
			require.NotNil(t, se.Outcome)
			assert.Contains(t, err.Error(), "error invalid: unknown parameter")
			assert.NotContains(t, err.Error(), "secret@example.org", "the query holds patient data")
		}},
		{"error without outcome", 404, `not found`, func(t *testing.T, err error) {
			assert.Equal(t, 404, provider.StatusCode(err))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, tc.status, tc.body)
			}))
			_, err := newClient(t, srv.URL).Search(t.Context(), "Patient", url.Values{"email": {"secret@example.org"}})
			require.Error(t, err)
			tc.check(t, err)
		})
	}
}

func TestContent(t *testing.T) {
	pdf := []byte("%PDF-1.4 not really")
	sum := sha1.Sum(pdf)
	hash := base64.StdEncoding.EncodeToString(sum[:])
	var auth atomic.Value
	other := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store("other:" + r.Header.Get("Authorization"))
		w.Write(pdf)
	}))
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/Binary/raw":
			assert.Contains(t, r.Header.Get("Accept"), "application/pdf")
			w.Header().Set("Content-Type", "application/pdf")
			w.Write(pdf)
		case "/fhir/Binary/json":
			writeJSON(w, 200, fmt.Sprintf(`{"resourceType":"Binary","contentType":"application/pdf","data":%q}`, base64.StdEncoding.EncodeToString(pdf)))
		case "/fhir/Binary/elsewhere":
			http.Redirect(w, r, other.URL+"/blob", http.StatusFound)
		case "/fhir/Binary/here":
			http.Redirect(w, r, "/fhir/Binary/raw", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	c := newClient(t, srv.URL+"/fhir", func(c *provider.Config) { c.BearerToken = "tok"; c.MaxContentBytes = 64 })
	for _, tc := range []struct {
		name string
		a    provider.Attachment
		want error
	}{
		{"inline", provider.Attachment{ContentType: "application/pdf", Data: base64.StdEncoding.EncodeToString(pdf), Hash: hash}, nil},
		{"inline with line breaks", provider.Attachment{ContentType: "application/pdf", Data: base64.StdEncoding.EncodeToString(pdf)[:8] + "\n" + base64.StdEncoding.EncodeToString(pdf)[8:]}, nil},
		{"relative", provider.Attachment{ContentType: "application/pdf", URL: "Binary/raw", Hash: hash}, nil},
		{"relative to the base, leading slash", provider.Attachment{ContentType: "application/pdf", URL: "/Binary/raw"}, nil},
		{"absolute on the origin", provider.Attachment{ContentType: "application/pdf", URL: srv.URL + "/fhir/Binary/raw"}, nil},
		{"binary json form", provider.Attachment{ContentType: "application/pdf", URL: "Binary/json"}, nil},
		{"same-origin redirect", provider.Attachment{ContentType: "application/pdf", URL: "Binary/here"}, nil},
		{"cross-origin redirect", provider.Attachment{ContentType: "application/pdf", URL: "Binary/elsewhere"}, provider.ErrOrigin},
		{"other origin", provider.Attachment{URL: other.URL + "/blob"}, provider.ErrOrigin},
		{"internal address", provider.Attachment{URL: "http://169.254.169.254/latest/meta-data"}, provider.ErrOrigin},
		{"same host other port", provider.Attachment{URL: strings.Replace(srv.URL, "127.0.0.1:", "127.0.0.1:1", 1) + "/x"}, provider.ErrOrigin},
		{"hash mismatch", provider.Attachment{Data: base64.StdEncoding.EncodeToString(pdf), Hash: base64.StdEncoding.EncodeToString(make([]byte, 20))}, provider.ErrHashMismatch},
		{"malformed hash not checked", provider.Attachment{Data: base64.StdEncoding.EncodeToString(pdf), Hash: "RVFILy4uQWdNRQo="}, nil},
		{"too large inline", provider.Attachment{Data: base64.StdEncoding.EncodeToString(make([]byte, 100))}, provider.ErrTooLarge},
		{"too large stated", provider.Attachment{URL: "Binary/raw", Size: 1000}, provider.ErrTooLarge},
		{"no content", provider.Attachment{ContentType: "text/plain"}, provider.ErrNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Content(t.Context(), tc.a)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, pdf, got.Data)
		})
	}
	assert.Nil(t, auth.Load(), "a request reached another origin")
}

func TestRedirectKeepsAuthOnSameOrigin(t *testing.T) {
	var seen atomic.Value
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/Patient/old" {
			http.Redirect(w, r, "/Patient/new", http.StatusMovedPermanently)
			return
		}
		seen.Store(r.Header.Get("Authorization"))
		writeJSON(w, 200, `{"resourceType":"Patient","id":"new"}`)
	}))
	_, err := newClient(t, srv.URL, func(c *provider.Config) { c.BearerToken = "tok" }).Read(t.Context(), "Patient", "old")
	require.NoError(t, err)
	assert.Equal(t, "Bearer tok", seen.Load())
}

func TestStaticTokenRefused(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
	}))
	_, err := newClient(t, srv.URL, func(c *provider.Config) { c.BearerToken = "bad" }).ReadPatient(t.Context(), "p")
	assert.ErrorIs(t, err, provider.ErrAuth)
	assert.Equal(t, 401, provider.StatusCode(err))
}

func TestUpdateIfMatch(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, http.MethodPut, r.Method)
		if r.Header.Get("If-Match") != `W/"3"` {
			writeJSON(w, 412, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"conflict","diagnostics":"version mismatch"}]}`)
			return
		}
		w.Header().Set("ETag", `W/"4"`)
		w.WriteHeader(200)
	}))
	c := newClient(t, srv.URL)
	res, err := c.Update(t.Context(), "Patient", "p1", []byte(`{"resourceType":"Patient","id":"p1"}`), "3")
	require.NoError(t, err)
	assert.Equal(t, "4", res.Version)
	_, err = c.Update(t.Context(), "Patient", "p1", []byte(`{"resourceType":"Patient","id":"p1"}`), "2")
	assert.Equal(t, 412, provider.StatusCode(err))
	assert.Contains(t, err.Error(), "version mismatch")
}

func TestContextCancelled(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
	}))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := newClient(t, srv.URL, func(c *provider.Config) { c.RetryWaitMin, c.RetryWaitMax, c.RetryMax = time.Second, time.Second, 10 }).ReadPatient(ctx, "p")
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

// A 404 or 410 is the FHIR server's own only when its body is an
// OperationOutcome sent as FHIR JSON; a proxy's page is not.
func TestStatusErrorFromFHIR(t *testing.T) {
	outcome := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`
	for _, tc := range []struct {
		name, ctype, body string
		want              bool
	}{
		{"fhir json", "application/fhir+json", outcome, true},
		{"fhir json with parameters", "application/fhir+json; charset=utf-8", outcome, true},
		{"plain json", "application/json", outcome, true},
		{"html page", "text/html", "<html>not found</html>", false},
		{"outcome labelled html", "text/html", outcome, false},
		{"json that is no outcome", "application/json", `{"error":"not found"}`, false},
		{"empty", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.WriteHeader(404)
				fmt.Fprint(w, tc.body)
			}))
			_, err := newClient(t, srv.URL).ReadPatient(t.Context(), "p1")
			var se *provider.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 404, se.StatusCode)
			assert.Equal(t, tc.want, se.FromFHIR())
		})
	}
}

func TestHistory(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/Patient/p1/_history", r.URL.Path)
		writeJSON(w, 200, `{"resourceType":"Bundle","type":"history","entry":[
			{"request":{"method":"DELETE","url":"Patient/p1"},"response":{"status":"204"}},
			{"resource":{"resourceType":"Patient","id":"p1"},"request":{"method":"PUT","url":"Patient/p1"}}]}`)
	}))
	b, err := newClient(t, srv.URL).History(t.Context(), "Patient", "p1")
	require.NoError(t, err)
	require.Len(t, b.Entry, 2)
	assert.True(t, b.Entry[0].IsDelete())
	assert.False(t, b.Entry[1].IsDelete())
}

// offsetServer holds n patients and pages them by _offset only, with a
// total and no links, as some servers do. pageSize > 0 ignores _count;
// ignoreOffset answers the first page to every request.
func offsetServer(t *testing.T, n, pageSize int, ignoreOffset bool, requests *atomic.Int32) *httptest.Server {
	return newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		q := r.URL.Query()
		count, _ := strconv.Atoi(q.Get("_count"))
		if pageSize > 0 {
			count = pageSize
		}
		offset, _ := strconv.Atoi(q.Get("_offset"))
		if ignoreOffset {
			offset = 0
		}
		var ids []string
		for i := offset; i < min(offset+count, n); i++ {
			ids = append(ids, fmt.Sprintf("p%d", i))
		}
		body := strings.Replace(searchset("", ids...), `"type":"searchset",`, fmt.Sprintf(`"type":"searchset","total":%d,`, n), 1)
		writeJSON(w, 200, body)
	}))
}

func TestSearchAllWithoutNextLinks(t *testing.T) {
	for _, tc := range []struct {
		name         string
		n, pageSize  int
		count        int // Config.PageSize
		ignoreOffset bool
		maxPages     int
		want         int
		err          error
		requests     int32
	}{
		{name: "paged by _offset", n: 7, count: 3, want: 7, requests: 3},
		{name: "exactly one page", n: 3, count: 3, want: 3, requests: 1},
		{name: "_count ignored: advances by what came", n: 10, pageSize: 4, count: 100, want: 10, requests: 3},
		{name: "_offset ignored fails, not truncates", n: 7, count: 3, ignoreOffset: true, err: provider.ErrPaging, requests: 2},
		{name: "page limit", n: 7, count: 1, maxPages: 3, err: provider.ErrPaging, requests: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := offsetServer(t, tc.n, tc.pageSize, tc.ignoreOffset, &requests)
			c := newClient(t, srv.URL, func(cfg *provider.Config) { cfg.PageSize, cfg.MaxPages = tc.count, tc.maxPages })
			seen := map[string]bool{}
			err := c.SearchAll(t.Context(), "Patient", nil, func(b *provider.Bundle) error {
				rs, _ := b.Matches()
				for _, r := range rs {
					seen[r.(*provider.Patient).ID] = true
				}
				return nil
			})
			assert.Equal(t, tc.requests, requests.Load())
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Len(t, seen, tc.want, "every match, each once")
		})
	}
	t.Run("an empty page short of the total fails", func(t *testing.T) {
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ids := []string{"a", "b"}
			if r.URL.Query().Get("_offset") != "" {
				ids = nil
			}
			writeJSON(w, 200, strings.Replace(searchset("", ids...), `"type":"searchset",`, `"type":"searchset","total":5,`, 1))
		}))
		err := newClient(t, srv.URL).SearchAll(t.Context(), "Patient", nil, func(*provider.Bundle) error { return nil })
		assert.ErrorIs(t, err, provider.ErrPaging)
	})
	t.Run("no total and no link is the end", func(t *testing.T) {
		var requests atomic.Int32
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			writeJSON(w, 200, searchset("", "a", "b"))
		}))
		err := newClient(t, srv.URL).SearchAll(t.Context(), "Patient", nil, func(*provider.Bundle) error { return nil })
		require.NoError(t, err)
		assert.Equal(t, int32(1), requests.Load())
	})
}
