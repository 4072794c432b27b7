package carepatron_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
)

// serve starts a fake Carepatron on loopback that checks responses too,
// and a client of it with fast retries. When the test ends it checks that
// every request and response kept to openapi/carepatron.yaml, unless the
// test expects otherwise.
func serve(t *testing.T, cfg carepatrontest.Config, opts ...carepatron.Option) (*carepatron.Client, *carepatrontest.Server, string) {
	t.Helper()
	cfg.ValidateResponses = true
	fake := carepatrontest.NewServer(cfg)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	opts = append([]carepatron.Option{
		carepatron.WithRateLimit(0, 1),
		carepatron.WithRetries(5, time.Millisecond, 5*time.Millisecond),
		carepatron.WithLogger(slog.New(slog.DiscardHandler)),
	}, opts...)
	c, err := carepatron.New(srv.URL, carepatrontest.DefaultAPIKey, opts...)
	require.NoError(t, err)
	return c, fake, srv.URL
}

func checkValid(t *testing.T, fake *carepatrontest.Server) {
	t.Helper()
	st := fake.Stats()
	assert.Zero(t, st.InvalidRequests, "requests that broke the spec: %q", st.Invalid)
	assert.Zero(t, st.InvalidResponses, "responses that broke the spec: %q", st.Invalid)
}

func labResult(ref string) carepatron.File {
	return carepatron.File{
		Metadata: carepatron.DocumentMetadata{
			Type: carepatron.DocumentTypeLabResult, Title: "Lipid panel", ExternalReference: ref,
			Date: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Author: "Synthetic Clinician",
			Source: "Primary Healthcare Provider", SourceVersion: "1", SourceLink: "urn:example:" + ref,
		},
		Name: "lipid-panel.txt", ContentType: "text/plain", Content: []byte("synthetic"),
	}
}

// TestEveryOperationKeepsToTheSpec calls every operation, successes and
// errors, through the fake with request and response validation on.
func TestEveryOperationKeepsToTheSpec(t *testing.T) {
	ctx := context.Background()
	c, fake, _ := serve(t, carepatrontest.Config{})
	defer checkValid(t, fake)

	require.NoError(t, c.Ping(ctx))
	require.NoError(t, c.SecurePing(ctx, carepatrontest.DefaultProviderID))
	job, err := c.StartContactsExport(ctx, carepatrontest.DefaultProviderID, "export-1")
	require.NoError(t, err)
	job, err = c.ContactsExport(ctx, carepatrontest.DefaultProviderID, job.Id)
	require.NoError(t, err)
	assert.Equal(t, carepatron.ExportJobStatusCompleted, job.Status)

	in := carepatron.ContactInput{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.invalid",
		ExternalReference: "php/Patient/1", SourceVersion: "1",
		Identifiers: []carepatron.Identifier{{System: "urn:mrn", Value: "1"}}, Fields: map[string]string{"x": "y"}}
	ct, err := c.CreateContact(ctx, "contact-1", in)
	require.NoError(t, err)
	got, err := c.Contact(ctx, ct.Id)
	require.NoError(t, err)
	assert.Equal(t, in.Identifiers, got.Identifiers)
	in.LastName = "King"
	ct, err = c.UpdateContact(ctx, ct.Id, "contact-1/update", in)
	require.NoError(t, err)
	assert.Equal(t, "King", ct.LastName)

	for _, q := range []carepatron.ContactQuery{{Email: "ADA@example.invalid"}, {ExternalReference: "php/Patient/1"}} {
		page, err := c.SearchContacts(ctx, q)
		require.NoError(t, err)
		require.Len(t, page.Items, 1, "search %+v", q)
		assert.Equal(t, ct.Id, page.Items[0].Id)
	}

	doc, err := c.UploadDocument(ctx, ct.Id, "doc-1", labResult("php/DocumentReference/1"))
	require.NoError(t, err)
	assert.Equal(t, "text/plain", doc.ContentType)
	_, err = c.Document(ctx, ct.Id, doc.Id)
	require.NoError(t, err)
	meta := labResult("php/DocumentReference/1").Metadata
	meta.Title = "Lipid panel, corrected"
	doc, err = c.UpdateDocument(ctx, ct.Id, doc.Id, "", meta)
	require.NoError(t, err)
	assert.Equal(t, "Lipid panel, corrected", doc.Title)
	f := labResult("php/DocumentReference/1")
	f.Content, f.ContentType = []byte("%PDF-1.7 synthetic"), "application/pdf"
	doc, err = c.ReplaceDocument(ctx, ct.Id, doc.Id, "doc-1/update", f)
	require.NoError(t, err)
	content, typ, err := c.DownloadDocument(ctx, ct.Id, doc.Id)
	require.NoError(t, err)
	assert.Equal(t, "application/pdf", typ)
	assert.Equal(t, f.Content, content)
	page, err := c.Documents(ctx, ct.Id, carepatron.DocumentQuery{ExternalReference: "php/DocumentReference/1"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.NoError(t, c.DeleteDocument(ctx, ct.Id, doc.Id))

	// Errors keep to the spec too.
	assert.True(t, carepatron.IsNotFound(c.DeleteDocument(ctx, ct.Id, doc.Id)))
	_, err = c.Contact(ctx, "ct_missing")
	assert.True(t, carepatron.IsNotFound(err), "%v is a 404", err)
	_, err = c.ContactsExport(ctx, carepatrontest.DefaultProviderID, "exp_missing")
	assert.True(t, carepatron.IsNotFound(err), "%v is a 404", err)
	assert.Equal(t, http.StatusForbidden, carepatron.StatusCode(c.SecurePing(ctx, "another-provider")))
}

func TestPagination(t *testing.T) {
	ctx := context.Background()
	c, fake, _ := serve(t, carepatrontest.Config{})
	defer checkValid(t, fake)
	ct, err := c.CreateContact(ctx, "c", carepatron.ContactInput{FirstName: "A"})
	require.NoError(t, err)
	var want []string
	for i := range 7 {
		d, err := c.UploadDocument(ctx, ct.Id, "d"+string(rune('a'+i)), labResult("ref-"+string(rune('a'+i))))
		require.NoError(t, err)
		want = append(want, d.Id)
	}
	var got []string
	pages := 0
	q := carepatron.DocumentQuery{Limit: 3}
	for {
		page, err := c.Documents(ctx, ct.Id, q)
		require.NoError(t, err)
		pages++
		for _, d := range page.Items {
			got = append(got, d.Id)
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	assert.Equal(t, want, got, "oldest first, each once")
	assert.Equal(t, 3, pages)
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		cfg     carepatrontest.Config
		apiKey  string
		call    func(*carepatron.Client) error
		status  int
		message string
		delay   time.Duration
		calls   int
	}{
		{
			name: "invalid api key", apiKey: "not-a-key",
			call:    func(c *carepatron.Client) error { return c.SecurePing(ctx, carepatrontest.DefaultProviderID) },
			status:  http.StatusUnauthorized,
			message: "carepatron securePing: the api key was refused (401 invalid_api_key)", calls: 1,
		},
		{
			name:    "forbidden provider",
			call:    func(c *carepatron.Client) error { return c.SecurePing(ctx, "someone-else") },
			status:  http.StatusForbidden,
			message: "the api key was refused (403 forbidden): this key may not access that provider", calls: 1,
		},
		{
			name: "413 with the platform's message", cfg: carepatrontest.Config{MaxUploadBytes: 100},
			call: func(c *carepatron.Client) error {
				f := labResult("r")
				f.Content = make([]byte, 200)
				_, err := c.UploadDocument(ctx, "ct_any", "k", f)
				return err
			},
			status:  http.StatusRequestEntityTooLarge,
			message: "413 too_large: the request is larger than the 100 bytes Carepatron accepts", calls: 1,
		},
		{
			name: "422 with the platform's message",
			call: func(c *carepatron.Client) error {
				_, err := c.CreateContact(ctx, "k", carepatron.ContactInput{FirstName: "   "})
				return err
			},
			status: http.StatusUnprocessableEntity, message: "422 validation_failed: firstName: must not be blank", calls: 1,
		},
		{
			name: "404",
			call: func(c *carepatron.Client) error {
				_, err := c.Contact(ctx, "ct_missing")
				return err
			},
			status: http.StatusNotFound, message: "404 not_found", calls: 1,
		},
		{
			name: "429 longer than the client waits",
			cfg:  carepatrontest.Config{Faults: carepatrontest.Faults{ThrottleRate: 1, RetryAfter: 90 * time.Second}},
			call: func(c *carepatron.Client) error {
				_, err := c.Contact(ctx, "ct_any")
				return err
			},
			status: http.StatusTooManyRequests, message: "429 rate_limited", delay: 90 * time.Second, calls: 1,
		},
		{
			name: "5xx until the retries are spent",
			cfg:  carepatrontest.Config{Faults: carepatrontest.Faults{ErrorRate: 1}},
			call: func(c *carepatron.Client) error {
				_, err := c.Contact(ctx, "ct_any")
				return err
			},
			calls: 6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fake, baseURL := serve(t, tt.cfg)
			if tt.apiKey != "" {
				var err error
				c, err = carepatron.New(baseURL, tt.apiKey, carepatron.WithRetries(5, time.Millisecond, time.Millisecond), carepatron.WithRateLimit(0, 1))
				require.NoError(t, err)
			}
			err := tt.call(c)
			require.Error(t, err)
			if tt.status != 0 {
				assert.Equal(t, tt.status, carepatron.StatusCode(err))
			} else {
				assert.GreaterOrEqual(t, carepatron.StatusCode(err), 500)
			}
			if tt.message != "" {
				assert.Contains(t, err.Error(), tt.message)
			}
			var e *carepatron.Error
			assert.True(t, errors.As(err, &e), "%v is a *carepatron.Error", err)
			if tt.delay > 0 {
				assert.Equal(t, tt.delay, e.RetryAfter)
			}
			assert.Equal(t, tt.calls, fake.Stats().Requests)
		})
	}
}

func TestConflicts(t *testing.T) {
	ctx := context.Background()
	c, fake, _ := serve(t, carepatrontest.Config{})
	defer checkValid(t, fake)
	first, err := c.CreateContact(ctx, "k1", carepatron.ContactInput{FirstName: "A", ExternalReference: "ref-1"})
	require.NoError(t, err)

	tests := []struct {
		name string
		key  string
		in   carepatron.ContactInput
		code string
	}{
		{"same key, same body: the original", "k1", carepatron.ContactInput{FirstName: "A", ExternalReference: "ref-1"}, ""},
		{"same key, another body", "k1", carepatron.ContactInput{FirstName: "B", ExternalReference: "ref-1"}, "idempotency_key_reused"},
		{"another key, a held reference", "k2", carepatron.ContactInput{FirstName: "A", ExternalReference: "ref-1"}, "duplicate_external_reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.CreateContact(ctx, tt.key, tt.in)
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, first.Id, got.Id)
				return
			}
			assert.Equal(t, http.StatusConflict, carepatron.StatusCode(err))
			var e *carepatron.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.code, e.Problem.Code)
			if tt.code == "duplicate_external_reference" {
				assert.Equal(t, first.Id, e.Problem.ExistingId)
			}
		})
	}
	assert.Len(t, fake.Contacts(), 1)
	assert.Equal(t, 1, fake.Stats().Replays)
}

// TestRetries checks what is sent again after a lost response or a 5xx:
// what cannot write twice, and nothing else.
func TestRetries(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		faults   carepatrontest.Faults
		call     func(c *carepatron.Client) error
		calls    int
		atLeast  bool
		contacts int
	}{
		{
			name: "create with a key, response lost", faults: carepatrontest.Faults{LostResponseRate: 1},
			call: func(c *carepatron.Client) error {
				_, err := c.CreateContact(ctx, "k", carepatron.ContactInput{FirstName: "A"})
				return err
			},
			// Every response is lost, replays too; the retries are
			// answered from the idempotency record, so one contact. (A
			// closed connection may also be retried by net/http itself,
			// which resends requests that carry an Idempotency-Key.)
			calls: 3, atLeast: true, contacts: 1,
		},
		{
			name: "export without a key, 5xx", faults: carepatrontest.Faults{ErrorRate: 1},
			call: func(c *carepatron.Client) error {
				_, err := c.StartContactsExport(ctx, carepatrontest.DefaultProviderID, "")
				return err
			},
			calls: 1,
		},
		{
			name: "export with a key, 5xx", faults: carepatrontest.Faults{ErrorRate: 1},
			call: func(c *carepatron.Client) error {
				_, err := c.StartContactsExport(ctx, carepatrontest.DefaultProviderID, "k")
				return err
			},
			calls: 3,
		},
		{
			name: "read, 429 with a short Retry-After", faults: carepatrontest.Faults{ThrottleRate: 1},
			call:  func(c *carepatron.Client) error { return c.Ping(ctx) },
			calls: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fake, _ := serve(t, carepatrontest.Config{Faults: tt.faults}, carepatron.WithRetries(2, time.Millisecond, time.Millisecond))
			require.Error(t, tt.call(c))
			st := fake.Stats()
			if tt.atLeast {
				assert.GreaterOrEqual(t, st.Requests, tt.calls)
			} else {
				assert.Equal(t, tt.calls, st.Requests)
			}
			assert.Len(t, fake.Contacts(), tt.contacts)
			for k, n := range st.Creates {
				assert.Equal(t, 1, n, "creates under key %s", k)
			}
		})
	}
}

func TestLostResponseWithoutKeyIsNotRetried(t *testing.T) {
	ctx := context.Background()
	c, fake, _ := serve(t, carepatrontest.Config{Faults: carepatrontest.Faults{LostResponseRate: 1}})
	_, err := c.StartContactsExport(ctx, carepatrontest.DefaultProviderID, "")
	require.Error(t, err)
	assert.Equal(t, 1, fake.Stats().Requests)
}

func TestRateLimiterAndUserAgent(t *testing.T) {
	var n atomic.Int32
	var ua, key atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		ua.Store(r.Header.Get("User-Agent"))
		key.Store(r.Header.Get("cp-api-key"))
		_, _ = w.Write([]byte("pong"))
	}))
	defer srv.Close()
	c, err := carepatron.New(srv.URL, "secret", carepatron.WithRateLimit(50, 1), carepatron.WithUserAgent("test-agent/1"))
	require.NoError(t, err)
	start := time.Now()
	for range 11 {
		require.NoError(t, c.Ping(context.Background()))
	}
	assert.GreaterOrEqual(t, time.Since(start), 190*time.Millisecond, "11 requests at 50/s take 200 ms")
	assert.Equal(t, int32(11), n.Load())
	assert.Equal(t, "test-agent/1", ua.Load())
	assert.Equal(t, "secret", key.Load())
}

func TestTimeout(t *testing.T) {
	c, fake, _ := serve(t, carepatrontest.Config{Faults: carepatrontest.Faults{Latency: 3 * time.Second}},
		carepatron.WithTimeout(20*time.Millisecond), carepatron.WithRetries(1, time.Millisecond, time.Millisecond))
	start := time.Now()
	err := c.Ping(context.Background())
	require.Error(t, err)
	var uerr *url.Error
	require.ErrorAs(t, err, &uerr)
	assert.True(t, uerr.Timeout())
	assert.Zero(t, carepatron.StatusCode(err), "a timeout is no answer of Carepatron's")
	assert.Less(t, time.Since(start), 2*time.Second, "the timeout cut both attempts short")
	assert.Equal(t, 2, fake.Stats().Requests)
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct{ name, url, key string }{
		{"no key", "http://127.0.0.1:1", ""},
		{"relative url", "/api", "k"},
		{"not a url", "::", "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := carepatron.New(tt.url, tt.key)
			assert.Error(t, err)
		})
	}
}
