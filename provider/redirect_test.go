package provider_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/provider"
)

// counter is a loopback server on another origin: an internal host, or
// a file server. It answers "blob" and counts its requests and the
// Authorization headers it saw.
type counter struct {
	URL   string
	hits  atomic.Int32
	auths atomic.Int32
}

func newCounter(t *testing.T) *counter {
	c := &counter{}
	c.URL = newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		if r.Header.Get("Authorization") != "" {
			c.auths.Add(1)
		}
		w.Write([]byte("blob"))
	})).URL
	return c
}

func TestRedirectToOtherOriginRefused(t *testing.T) {
	other := newCounter(t)
	var baseHits atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		baseHits.Add(1)
		http.Redirect(w, r, other.URL+"/admin", http.StatusFound)
	}))
	c := newClient(t, srv.URL+"/fhir", func(c *provider.Config) { c.BearerToken = "tok" })

	_, err := c.Content(t.Context(), provider.Attachment{ContentType: "application/pdf", URL: "Binary/1"})
	assert.ErrorIs(t, err, provider.ErrOrigin)
	_, err = c.ReadPatient(t.Context(), "p1")
	assert.ErrorIs(t, err, provider.ErrOrigin)

	assert.Zero(t, other.hits.Load(), "a redirect reached another origin")
	assert.Equal(t, int32(2), baseHits.Load(), "a refused redirect is not retried")
}

func TestRedirectOutsideBasePathRefused(t *testing.T) {
	var admin, hits atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/fhir/Binary/up":
			http.Redirect(w, r, "/admin", http.StatusFound)
		case "/fhir/Binary/dots":
			w.Header().Set("Location", "/fhir/%2e%2e/admin")
			w.WriteHeader(http.StatusFound)
		case "/fhir/Binary/in":
			http.Redirect(w, r, "/fhir/Binary/raw", http.StatusFound)
		case "/fhir/Binary/raw":
			w.Header().Set("Content-Type", "application/pdf")
			w.Write([]byte("%PDF"))
		default:
			admin.Add(1)
			w.Write([]byte("internal admin page"))
		}
	}))
	c := newClient(t, srv.URL+"/fhir", func(c *provider.Config) { c.BearerToken = "tok" })
	for _, ref := range []string{"Binary/up", "Binary/dots"} {
		_, err := c.Content(t.Context(), provider.Attachment{ContentType: "application/pdf", URL: ref})
		assert.ErrorIs(t, err, provider.ErrOrigin, ref)
	}
	got, err := c.Content(t.Context(), provider.Attachment{ContentType: "application/pdf", URL: "Binary/in"})
	require.NoError(t, err, "a redirect within the base is followed")
	assert.Equal(t, "%PDF", string(got.Data))
	assert.Zero(t, admin.Load(), "a redirect left the base path")
	assert.Equal(t, int32(4), hits.Load())
}

func TestAttachmentURLEscapingBaseRefused(t *testing.T) {
	other := newCounter(t)
	var outside atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fhir/Binary/raw" {
			outside.Add(1)
			w.Write([]byte("internal admin page"))
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF"))
	}))
	c := newClient(t, srv.URL+"/fhir", func(c *provider.Config) { c.BearerToken = "tok" })
	otherHost := strings.TrimPrefix(other.URL, "http://")
	for _, ref := range []string{
		"Binary/../../admin",
		"../admin",
		"/fhir/../admin",
		"Binary/%2e%2e/%2e%2e/admin",
		"Binary/%2E%2E/%2E%2E/admin",
		"Binary/..%2f..%2fadmin",
		`Binary\..\..\admin`,
		"Binary/%5c..%5c..%5cadmin",
		`/\` + otherHost + "/admin",
		"//" + otherHost + "/admin",
		srv.URL + "/admin",
		srv.URL + "/fhir/Binary/../../admin",
		srv.URL + "/fhir/%2e%2e/admin",
		"http://user:pw@" + strings.TrimPrefix(srv.URL, "http://") + "/fhir/Binary/raw",
	} {
		t.Run(ref, func(t *testing.T) {
			_, err := c.Content(t.Context(), provider.Attachment{ContentType: "application/pdf", URL: ref})
			assert.ErrorIs(t, err, provider.ErrOrigin)
		})
	}
	assert.Zero(t, outside.Load(), "a request left the base path")
	assert.Zero(t, other.hits.Load(), "a request reached another origin")

	for _, ref := range []string{"Binary/./raw", "Binary/x/../raw", "/fhir/Binary/raw", "//" + strings.TrimPrefix(srv.URL, "http://") + "/fhir/Binary/raw"} {
		got, err := c.Content(t.Context(), provider.Attachment{ContentType: "application/pdf", URL: ref})
		require.NoError(t, err, ref)
		assert.Equal(t, "%PDF", string(got.Data), ref)
	}
	u, err := c.Resolve("Binary/x/../raw")
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/fhir/Binary/raw", u)
}

func TestAuthorizationOnlyUnderBase(t *testing.T) {
	files := newCounter(t)
	var baseAuth, outsideAuth atomic.Value
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/Binary/to-files":
			baseAuth.Store(r.Header.Get("Authorization"))
			http.Redirect(w, r, files.URL+"/blob", http.StatusFound)
		case "/files/blob":
			outsideAuth.Store(r.Header.Get("Authorization"))
			w.Write([]byte("blob"))
		default:
			http.NotFound(w, r)
		}
	}))
	// The base's own origin listed as a content origin: files elsewhere
	// on it may be fetched, but without the token.
	c := newClient(t, srv.URL+"/fhir", func(c *provider.Config) {
		c.BearerToken = "tok"
		c.ContentOrigins = []string{files.URL, srv.URL}
	})
	for _, ref := range []string{"Binary/to-files", files.URL + "/blob", srv.URL + "/files/blob"} {
		got, err := c.Content(t.Context(), provider.Attachment{URL: ref})
		require.NoError(t, err, ref)
		assert.Equal(t, "blob", string(got.Data), ref)
	}
	assert.Equal(t, "Bearer tok", baseAuth.Load(), "the base gets the token")
	assert.Equal(t, int32(2), files.hits.Load())
	assert.Zero(t, files.auths.Load(), "the token reached another origin")
	assert.Equal(t, "", outsideAuth.Load(), "the token left the base path")
}

func TestWriteNotRedirected(t *testing.T) {
	other := newCounter(t)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", other.URL+"/fhir/Patient/p1")
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	c := newClient(t, srv.URL, func(c *provider.Config) { c.BearerToken = "tok" })
	_, err := c.Update(t.Context(), "Patient", "p1", []byte(`{"resourceType":"Patient","id":"p1"}`), "")
	assert.Equal(t, http.StatusTemporaryRedirect, provider.StatusCode(err))
	assert.Zero(t, other.hits.Load())
}

func TestTokenRequestNotRedirected(t *testing.T) {
	other := newCounter(t)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", other.URL+"/token")
		w.WriteHeader(http.StatusTemporaryRedirect) // would resend the client assertion
	}))
	c := newClient(t, srv.URL+"/fhir", func(c *provider.Config) {
		c.SMART = &provider.SMARTConfig{ClientID: "c", Key: testRSAKey(t), TokenURL: srv.URL + "/token"}
	})
	_, err := c.ReadPatient(t.Context(), "p1")
	assert.Equal(t, http.StatusTemporaryRedirect, provider.StatusCode(err))
	assert.Zero(t, other.hits.Load(), "the client assertion followed a redirect")
}
