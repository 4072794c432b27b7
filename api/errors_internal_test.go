package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
)

// testServer is a server with the defaults, for the tests of its parts.
func testServer(t *testing.T) *server {
	t.Helper()
	cfg := Config{Service: &practice.Service{}, Logger: slog.New(slog.DiscardHandler)}
	require.NoError(t, cfg.defaults())
	return &server{cfg: cfg, log: cfg.Logger}
}

func TestProblemOf(t *testing.T) {
	s := testServer(t)
	for _, c := range []struct {
		name    string
		err     error
		status  int
		typ     string
		fields  []string
		header  map[string]string
		detail  string
		existID int64
	}{
		{name: "not found", err: fmt.Errorf("patient 5: %w", practice.ErrNotFound), status: 404, typ: "about:blank"},
		{name: "hidden denial", err: &practice.DenyError{Action: practice.ActionReadPatient, Hidden: true}, status: 404, typ: "about:blank"},
		{name: "wrapped hidden denial", err: fmt.Errorf("read: %w", &practice.DenyError{Action: practice.ActionReadPatient, Hidden: true}), status: 404, typ: "about:blank"},
		{name: "denial", err: &practice.DenyError{Action: practice.ActionUpdateDocument, Reason: "documents from the provider are read-only"}, status: 403, typ: "about:blank",
			detail: "documents from the provider are read-only"},
		{name: "forbidden", err: practice.ErrForbidden, status: 403, typ: "about:blank"},
		{name: "denial without a reason", err: &practice.DenyError{Action: practice.ActionDeleteUser}, status: 403, typ: "about:blank", detail: "you may not do this"},
		{name: "unauthenticated", err: fmt.Errorf("token: %w", practice.ErrUnauthenticated), status: 401, typ: "about:blank",
			header: map[string]string{"WWW-Authenticate": challengeInvalid}},
		{name: "field", err: &practice.FieldError{Field: "cursor", Reason: "is not a cursor this service gave"}, status: 400, typ: TypeInvalid,
			fields: []string{"cursor"}, detail: "cursor: is not a cursor this service gave"},
		{name: "wrapped field", err: fmt.Errorf("list: %w", &practice.FieldError{Field: "limit", Reason: "must be between 1 and 500"}), status: 400, typ: TypeInvalid,
			fields: []string{"limit"}},
		{name: "joined fields", err: errors.Join(&practice.FieldError{Field: "from", Reason: "after to"}, &practice.FieldError{Field: "types", Reason: "empty"}), status: 400, typ: TypeInvalid,
			fields: []string{"from", "types"}, detail: "from: after to (and 1 more)"},
		{name: "invalid", err: fmt.Errorf("%w: the provider refused the ref /x/y", practice.ErrInvalid), status: 400, typ: TypeInvalid,
			detail: "the service refused the request as invalid"},
		{name: "duplicate", err: &practice.DuplicateError{Existing: 42, Field: "email"}, status: 409, typ: TypeDuplicatePatient,
			fields: []string{"email"}, header: map[string]string{"Location": "/api/v1/patients/42"}, existID: 42},
		{name: "duplicate identifier", err: fmt.Errorf("create: %w", &practice.DuplicateError{Existing: 7, Field: "identifier"}), status: 409, typ: TypeDuplicatePatient,
			fields: []string{"identifiers"}, header: map[string]string{"Location": "/api/v1/patients/7"}, existID: 7},
		{name: "conflict", err: fmt.Errorf("save: %w", practice.ErrConflict), status: 409, typ: "about:blank"},
		{name: "conflict from the store", err: fmt.Errorf("store: create user: %w: UNIQUE constraint failed for ann@example.com", practice.ErrConflict),
			status: 409, typ: "about:blank", detail: "the change collides with the record's current state: read it again, then retry"},
		{name: "conflict the service explains", err: fmt.Errorf("sync patient 3: %w", &practice.Refusal{Class: practice.ErrConflict, Reason: "the patient is archived"}),
			status: 409, typ: "about:blank", detail: "the patient is archived"},
		{name: "unavailable", err: &practice.Refusal{Class: practice.ErrUnavailable, Reason: "the provider could not be searched; try again"},
			status: 503, typ: "about:blank", detail: "the provider could not be searched; try again", header: map[string]string{"Retry-After": "5"}},
		{name: "rate limited", err: &practice.RateLimitError{RetryAfter: 2500 * time.Millisecond, What: "sign-ins"}, status: 429, typ: "about:blank",
			header: map[string]string{"Retry-After": "3"}, detail: "too many sign-ins; try again in 3s"},
		{name: "rate limited briefly", err: &practice.RateLimitError{RetryAfter: time.Millisecond, What: "syncs"}, status: 429, typ: "about:blank",
			header: map[string]string{"Retry-After": "1"}},
		{name: "rate limited without a delay", err: practice.ErrRateLimited, status: 429, typ: "about:blank", header: map[string]string{"Retry-After": "1"}},
		{name: "too large", err: fmt.Errorf("upload: %w", practice.ErrTooLarge), status: 413, typ: "about:blank"},
		{name: "unsupported type", err: fmt.Errorf("upload: %w", practice.ErrUnsupportedType), status: 415, typ: "about:blank"},
		{name: "unsupported type the service explains", err: &practice.Refusal{Class: practice.ErrUnsupportedType, Reason: "the file's content is not a PDF"},
			status: 415, typ: "about:blank", detail: "the file's content is not a PDF"},
		{name: "cancelled", err: fmt.Errorf("query: %w", context.Canceled), status: 503, typ: "about:blank"},
		{name: "anything else", err: errors.New("pq: connection refused to 10.0.0.5 for ann@example.com"), status: 500, typ: "about:blank",
			detail: "the server failed; quote the request_id when you report it"},
		{name: "a problem", err: &problem{Status: http.StatusTeapot, Detail: "short and stout"}, status: 418, typ: "about:blank", detail: "short and stout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequestWithContext(withClient(context.Background(), practice.Client{RequestID: "req-1"}), http.MethodGet, "/api/v1/x", nil)
			s.fail(w, r, c.err)

			assert.Equal(t, c.status, w.Code)
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			var p Problem
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
			assert.Equal(t, c.status, p.Status)
			assert.Equal(t, c.typ, p.Type)
			assert.NotEmpty(t, p.Title)
			assert.NotEmpty(t, p.Detail)
			assert.Equal(t, "req-1", p.RequestId)
			if c.detail != "" {
				assert.Equal(t, c.detail, p.Detail)
			}
			var fields []string
			for _, f := range p.Errors {
				fields = append(fields, f.Field)
				assert.NotEmpty(t, f.Reason)
			}
			assert.Equal(t, c.fields, fields)
			for k, v := range c.header {
				assert.Equal(t, v, w.Header().Get(k), k)
			}
			assert.Equal(t, c.existID, p.ExistingId)
			if c.existID != 0 {
				assert.Equal(t, fmt.Sprintf("/api/v1/patients/%d", c.existID), p.Existing)
			}
			// Nothing of the error's own text leaks, but what the
			// service wrote for people.
			assert.NotContains(t, p.Detail, "10.0.0.5")
			assert.NotContains(t, p.Detail, "ann@example.com")
			assert.NotContains(t, p.Detail, "/x/y")
		})
	}
}

func TestProblemTitles(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/api/v1/x", nil)
	writeProblem(w, r, invalid("x: bad", FieldProblem{Field: "x", Reason: "bad"}))
	var p Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, "Invalid request", p.Title)
	assert.Equal(t, "/api/v1/x", p.Instance)
}

func TestClip(t *testing.T) {
	assert.Equal(t, "short", clip("short", 10))
	got := clip("ééééé", 7)
	assert.LessOrEqual(t, len(got), 7)
	assert.Equal(t, "éé…", got)
}

func TestBasePath(t *testing.T) {
	cfg := Config{Service: &practice.Service{}, BasePath: "/practice/api/"}
	require.NoError(t, cfg.defaults())
	s := &server{cfg: cfg}
	assert.Equal(t, "/practice/api/patients/3", s.url("patients", 3))
	assert.Equal(t, SyncRef{Id: "r-1", Url: "/practice/api/syncs/r-1", EventsUrl: "/practice/api/syncs/r-1/events"}, s.syncRef("r-1"))
	assert.Equal(t, SyncRef{}, s.syncRef(""))

	assert.Error(t, (&Config{Service: &practice.Service{}, BasePath: "api"}).defaults())
	assert.Error(t, (&Config{}).defaults())
}
