package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
)

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withTokens)
	for _, c := range []struct {
		name      string
		header    string
		challenge string
	}{
		{"no token", "", `Bearer realm="healthcare-records"`},
		{"unknown token", "Bearer not-a-token", `Bearer realm="healthcare-records", error="invalid_token"`},
		{"not a bearer token", "Basic YTpi", `Bearer realm="healthcare-records", error="invalid_token"`},
		{"empty bearer token", "Bearer ", `Bearer realm="healthcare-records", error="invalid_token"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := request{Method: http.MethodGet, Path: "/patients"}
			if c.header != "" {
				r.Header = map[string]string{"Authorization": c.header}
			}
			res := h.do(t, r)
			p := checkProblem(t, res, http.StatusUnauthorized)
			assert.Equal(t, c.challenge, res.Header.Get("WWW-Authenticate"))
			assert.Equal(t, "about:blank", p.Type)
			assert.Equal(t, "/api/v1/patients", p.Instance)
		})
	}
	t.Run("a token is valid", func(t *testing.T) {
		// The fake token passes; the request goes on to the validator.
		res := h.do(t, request{Method: http.MethodGet, Path: "/users?limit=0", Token: "admin-token"})
		p := checkProblem(t, res, http.StatusBadRequest)
		assert.Equal(t, []string{"limit"}, p.fields())
	})
	t.Run("a stale token does not block sign-in", func(t *testing.T) {
		res := h.do(t, request{Method: http.MethodPost, Path: "/auth/token", Token: "stale", Body: `{"email":"a@b.c"}`})
		p := checkProblem(t, res, http.StatusBadRequest)
		assert.Equal(t, []string{"password"}, p.fields())
	})
	t.Run("401 wins over a bad body", func(t *testing.T) {
		res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Body: `{"nope":1}`})
		checkProblem(t, res, http.StatusUnauthorized)
	})
}

// TestBadTokenRealService checks a token the real service refuses.
func TestBadTokenRealService(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.do(t, request{Method: http.MethodGet, Path: "/patients", Token: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"})
	checkProblem(t, res, http.StatusUnauthorized)
	assert.Contains(t, res.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
}

func TestRouting(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withTokens)
	t.Run("unknown route", func(t *testing.T) {
		for _, path := range []string{"/nope", "/patients/1/nope", "/", ""} {
			res := h.do(t, request{Method: http.MethodGet, Path: path, Token: "admin-token"})
			p := checkProblem(t, res, http.StatusNotFound)
			assert.Equal(t, "about:blank", p.Type, path)
		}
	})
	t.Run("unknown route without a token", func(t *testing.T) {
		checkProblem(t, h.do(t, request{Method: http.MethodGet, Path: "/nope"}), http.StatusNotFound)
	})
	t.Run("wrong method", func(t *testing.T) {
		for path, allow := range map[string]string{
			"/patients":       "GET, POST",
			"/patients/1":     "GET, PUT, DELETE",
			"/auth/token":     "POST",
			"/openapi.yaml":   "GET",
			"/syncs/a/events": "GET",
		} {
			res := h.do(t, request{Method: http.MethodPatch, Path: path, Token: "admin-token"})
			checkProblem(t, res, http.StatusMethodNotAllowed)
			assert.Equal(t, allow, res.Header.Get("Allow"), path)
		}
	})
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.do(t, request{Method: http.MethodGet, Path: "/nope", Header: map[string]string{"X-Request-ID": "client-id.42"}})
	assert.Equal(t, "client-id.42", res.Header.Get("X-Request-ID"))
	assert.Equal(t, "client-id.42", checkProblem(t, res, http.StatusNotFound).RequestID)

	for _, bad := range []string{strings.Repeat("a", 129), "has space", "new\tline", "quote\""} {
		res := h.do(t, request{Method: http.MethodGet, Path: "/nope", Header: map[string]string{"X-Request-ID": bad}})
		id := res.Header.Get("X-Request-ID")
		assert.NotEqual(t, bad, id)
		assert.Len(t, id, 36, "a new UUID")
	}
	a := h.do(t, request{Method: http.MethodGet, Path: "/openapi.yaml"}).Header.Get("X-Request-ID")
	b := h.do(t, request{Method: http.MethodGet, Path: "/openapi.yaml"}).Header.Get("X-Request-ID")
	assert.NotEqual(t, a, b)
}

func TestInvalidRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withTokens)
	long := strings.Repeat("x", 201)
	for _, c := range []struct {
		name   string
		req    request
		fields []string
	}{
		{"unknown member", request{Method: http.MethodPost, Path: "/patients", Body: `{"name":"Ann","favourite":"blue"}`}, []string{"favourite"}},
		{"unknown nested member", request{Method: http.MethodPost, Path: "/patients/1/link", Body: `{"identifier":{"system":"s","value":"v","use":"x"}}`}, []string{"identifier.use"}},
		{"over-long string", request{Method: http.MethodPost, Path: "/patients", Body: `{"name":"` + long + `"}`}, []string{"name"}},
		{"over-long in an array", request{Method: http.MethodPost, Path: "/patients", Body: `{"name":"Ann","identifiers":[{"system":"s","value":"v"},{"system":"s","value":"` + strings.Repeat("v", 201) + `"}]}`}, []string{"identifiers[1].value"}},
		{"missing member", request{Method: http.MethodPost, Path: "/patients", Body: `{"email":"ann@example.com"}`}, []string{"name"}},
		{"wrong type", request{Method: http.MethodPut, Path: "/users/2", Body: `{"disabled":"yes"}`}, []string{"disabled"}},
		{"not an enum value", request{Method: http.MethodPost, Path: "/users", Body: `{"email":"a@b.c","name":"A","role":"boss"}`}, []string{"role"}},
		{"not an email", request{Method: http.MethodPost, Path: "/users", Body: `{"email":"nobody","name":"A","role":"patient"}`}, []string{"email"}},
		{"not a time", request{Method: http.MethodPost, Path: "/documents/1/share", Body: `{"practitioner_id":3,"expires_at":"tomorrow"}`}, []string{"expires_at"}},
		{"empty update", request{Method: http.MethodPut, Path: "/patients/1", Body: `{}`}, []string{"body"}},
		{"several faults", request{Method: http.MethodPost, Path: "/patients", Body: `{"name":"","x":1}`}, []string{"name", "x"}},
		{"malformed JSON", request{Method: http.MethodPost, Path: "/patients", Body: `{"name":`}, []string{"body"}},
		{"no body", request{Method: http.MethodPost, Path: "/patients", ContentType: "application/json"}, []string{"body"}},
		{"path parameter", request{Method: http.MethodGet, Path: "/patients/abc"}, []string{"id"}},
		{"path parameter out of range", request{Method: http.MethodGet, Path: "/documents/0"}, []string{"id"}},
		{"query parameter", request{Method: http.MethodGet, Path: "/patients?sort=age&limit=1000"}, []string{"sort", "limit"}},
		{"invalid cursor", request{Method: http.MethodGet, Path: "/patients?cursor=not%20a%20cursor!"}, []string{"cursor"}},
		{"over-long query", request{Method: http.MethodGet, Path: "/patients?q=" + long}, []string{"q"}},
		{"header parameter", request{Method: http.MethodPost, Path: "/patients/1/request-documents", Body: `{"what":"labs"}`, Header: map[string]string{"Idempotency-Key": strings.Repeat("k", 129)}}, []string{"Idempotency-Key"}},
		{"run id", request{Method: http.MethodGet, Path: "/syncs/not_a_run!"}, []string{"run"}},
		{"upload without a file", request{Method: http.MethodPost, Path: "/patients/1/documents", Body: mustMultipart("", nil, map[string]string{"type": "other"})}, []string{"file"}},
		{"upload of an unknown type", request{Method: http.MethodPost, Path: "/patients/1/documents", Body: mustMultipart("a.txt", []byte("a"), map[string]string{"type": "x-ray"})}, []string{"type"}},
		{"upload with an unknown field", request{Method: http.MethodPost, Path: "/patients/1/documents", Body: mustMultipart("a.txt", []byte("a"), map[string]string{"type": "other", "colour": "red"})}, []string{"colour"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.req.Token = "dietician-token"
			if b, ok := c.req.Body.(multipartForm); ok {
				c.req.Body, c.req.ContentType = b.body, b.contentType
			}
			res := h.do(t, c.req)
			p := checkProblem(t, res, http.StatusBadRequest)
			assert.Equal(t, api.TypeInvalid, p.Type)
			assert.Equal(t, "Invalid request", p.Title)
			assert.ElementsMatch(t, c.fields, p.fields(), "%s", res.Body)
			for _, e := range p.Errors {
				assert.NotEmpty(t, e.Reason)
			}
			assert.True(t, strings.HasPrefix(p.Detail, p.Errors[0].Field+": "), p.Detail)
		})
	}
}

func TestUnsupportedMediaType(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withTokens)
	res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: "dietician-token", Body: `name=Ann`, ContentType: "application/x-www-form-urlencoded"})
	p := checkProblem(t, res, http.StatusUnsupportedMediaType)
	assert.Equal(t, []string{"Content-Type"}, p.fields())
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	const maxUpload = 256 << 10
	h := newHarness(t, withTokens, func(hc *harnessConfig) { hc.maxUpload = maxUpload })
	big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`

	t.Run("a 2 MiB JSON body", func(t *testing.T) {
		res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: "dietician-token", Body: big})
		checkProblem(t, res, http.StatusRequestEntityTooLarge)
	})
	t.Run("a 2 MiB JSON body without a length", func(t *testing.T) {
		// Chunked: the limit is found by reading, not by Content-Length.
		res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: "dietician-token", Body: chunked{strings.NewReader(big)}})
		checkProblem(t, res, http.StatusRequestEntityTooLarge)
	})
	t.Run("before authentication", func(t *testing.T) {
		checkProblem(t, h.do(t, request{Method: http.MethodPost, Path: "/auth/token", Body: big}), http.StatusRequestEntityTooLarge)
	})
	t.Run("a JSON body just under the limit", func(t *testing.T) {
		body := `{"name":"Ann","medical_history":"` + strings.Repeat("x", 1<<20-60) + `"}`
		res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: "dietician-token", Body: body})
		p := checkProblem(t, res, http.StatusBadRequest) // over the member's maxLength, not the body's limit
		assert.Equal(t, []string{"medical_history"}, p.fields())
	})
	t.Run("an oversized upload", func(t *testing.T) {
		body, ct := multipartBody("big.pdf", bytes.Repeat([]byte("x"), maxUpload+api.MultipartOverhead+1), map[string]string{"type": "other"})
		res := h.do(t, request{Method: http.MethodPost, Path: "/patients/1/documents", Token: "dietician-token", Body: body, ContentType: ct})
		checkProblem(t, res, http.StatusRequestEntityTooLarge)
	})
	t.Run("a file over the limit in a body within it", func(t *testing.T) {
		body, ct := multipartBody("big.pdf", bytes.Repeat([]byte("x"), maxUpload+1), map[string]string{"type": "other"})
		res := h.do(t, request{Method: http.MethodPost, Path: "/patients/1/documents", Token: "dietician-token", Body: body, ContentType: ct})
		checkProblem(t, res, http.StatusRequestEntityTooLarge)
	})
	t.Run("an upload may exceed the JSON limit", func(t *testing.T) {
		body, ct := multipartBody("two.pdf", bytes.Repeat([]byte("x"), 200<<10), map[string]string{"type": "other"})
		require.Greater(t, len(body), 128<<10)
		h2 := newHarness(t, withTokens, func(hc *harnessConfig) {
			hc.maxUpload = maxUpload
			hc.api = func(c *api.Config) { c.MaxBody = 128 << 10 }
		})
		res := h2.do(t, request{Method: http.MethodPost, Path: "/patients/1/documents", Token: "dietician-token", Body: body, ContentType: ct})
		assert.NotEqual(t, http.StatusRequestEntityTooLarge, res.Status, "%s", res.Body)
	})
}

// chunked hides a reader's length, so that the request is sent chunked.
type chunked struct{ r *strings.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

// multipartForm is a multipart body with its Content-Type.
type multipartForm struct {
	body        []byte
	contentType string
}

func mustMultipart(name string, data []byte, fields map[string]string) multipartForm {
	b, ct := multipartBody(name, data, fields)
	return multipartForm{b, ct}
}
