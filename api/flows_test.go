package api_test

// Flows through the API against the real service.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// seedUser creates a user through the service, as an admin would, and
// returns it.
func seedUser(t *testing.T, h *harness, role practice.Role, email, password string) practice.User {
	t.Helper()
	admin := practice.Actor{UserID: 1 << 40, Role: practice.RoleAdmin, RequestID: "seed"}
	u, err := h.svc.CreateUser(context.Background(), admin, practice.NewUser{Email: email, Name: string(role) + " user", Role: role, Password: password})
	require.NoError(t, err)
	return u
}

// signIn signs in through the API and returns the tokens.
func signIn(t *testing.T, h *harness, email, password string) api.Tokens {
	t.Helper()
	res := h.do(t, request{Method: http.MethodPost, Path: "/auth/token", Body: map[string]string{"email": email, "password": password}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var tok api.Tokens
	require.NoError(t, json.Unmarshal(res.Body, &tok))
	return tok
}

// decode reads a JSON answer into v.
func decode[T any](t *testing.T, res response) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(res.Body, &v), "%d %s", res.Status, res.Body)
	return v
}

const password = "correct horse battery staple"

func TestSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := seedUser(t, h, practice.RoleDietician, "dee@example.com", password)

	t.Run("wrong password", func(t *testing.T) {
		res := h.do(t, request{Method: http.MethodPost, Path: "/auth/token", Body: map[string]string{"email": "dee@example.com", "password": "wrong"}})
		checkProblem(t, res, http.StatusUnauthorized)
		assert.NotEmpty(t, res.Header.Get("WWW-Authenticate"))
	})

	res := h.do(t, request{Method: http.MethodPost, Path: "/auth/token", Body: map[string]string{"email": "dee@example.com", "password": password}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	tok := decode[api.Tokens](t, res)
	assert.Equal(t, api.TokenTypeBearer, tok.TokenType)
	assert.NotEmpty(t, tok.AccessToken)
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Positive(t, tok.ExpiresIn)
	assert.LessOrEqual(t, tok.ExpiresIn, 15*60)
	assert.True(t, tok.RefreshExpiresAt.After(time.Now()))
	assert.Equal(t, u.ID, tok.User.Id)

	me := h.do(t, request{Method: http.MethodGet, Path: "/users/me", Token: tok.AccessToken})
	require.Equal(t, http.StatusOK, me.Status, "%s", me.Body)
	assert.Equal(t, "dee@example.com", decode[api.User](t, me).Email)

	res = h.do(t, request{Method: http.MethodPost, Path: "/auth/refresh", Body: map[string]string{"refresh_token": tok.RefreshToken}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	fresh := decode[api.Tokens](t, res)
	assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken, "refresh tokens rotate")

	res = h.do(t, request{Method: http.MethodPost, Path: "/auth/logout", Token: fresh.AccessToken})
	assert.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = h.do(t, request{Method: http.MethodPost, Path: "/auth/refresh", Body: map[string]string{"refresh_token": fresh.RefreshToken}})
	checkProblem(t, res, http.StatusUnauthorized)
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res, err := http.Get(h.srv.URL + "/.well-known/jwks.json")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "application/jwk-set+json", res.Header.Get("Content-Type"))
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&set))
	assert.NotEmpty(t, set.Keys)
}

func TestJWKSMethod(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res, err := http.Post(h.srv.URL+"/.well-known/jwks.json", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	assert.Equal(t, "GET, HEAD", res.Header.Get("Allow"))
}

// dieticianWithPatient signs a dietician in and creates, through the API,
// a patient the provider has with three documents.
func dieticianWithPatient(t *testing.T, h *harness) (token string, created api.PatientWithSync, location string) {
	t.Helper()
	seedUser(t, h, practice.RoleDietician, "dee@example.com", password)
	token = signIn(t, h, "dee@example.com", password).AccessToken

	p := h.php.PutPatient(connector.Patient{Name: "Ann Example", Email: "ann@example.com",
		Identifiers: []connector.Identifier{{System: "urn:mrn", Value: "MRN-1"}}})
	for _, title := range []string{"Lipid panel", "Progress note", "Assessment"} {
		_, err := h.php.AddDocument(connector.Document{Patient: p.Ref, Type: connector.DocumentLabResult, Title: title,
			ContentType: "text/plain", Content: []byte(title)})
		require.NoError(t, err)
	}
	res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: token, Body: map[string]any{
		"name": "Ann Example", "email": "ann@example.com", "identifiers": []any{map[string]any{"system": "urn:mrn", "value": "MRN-1"}}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	return token, decode[api.PatientWithSync](t, res), res.Header.Get("Location")
}

func TestCreatePatient(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	token, created, location := dieticianWithPatient(t, h)

	assert.Equal(t, "/api/v1/patients/", location[:len("/api/v1/patients/")])
	assert.Equal(t, location, created.Patient.Url)
	assert.Equal(t, api.LinkStatusLinked, created.Patient.Link)
	require.NotEmpty(t, created.Sync.Id, "a linked patient's first sync starts")
	assert.Equal(t, "/api/v1/syncs/"+created.Sync.Id, created.Sync.Url)
	assert.Equal(t, created.Sync.Url+"/events", created.Sync.EventsUrl)

	res := h.do(t, request{Method: http.MethodGet, Path: strings.TrimPrefix(location, "/api/v1"), Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "Ann Example", decode[api.Patient](t, res).Name)

	t.Run("duplicate", func(t *testing.T) {
		res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: token, Body: map[string]any{"name": "Ann E.", "email": "ANN@example.com"}})
		p := checkProblem(t, res, http.StatusConflict)
		assert.Equal(t, api.TypeDuplicatePatient, p.Type)
		assert.Equal(t, location, p.Existing)
		assert.Equal(t, location, res.Header.Get("Location"))
		assert.Equal(t, created.Patient.Id, p.ExistingID)
		assert.Equal(t, []string{"email"}, p.fields())
	})
	t.Run("ambiguous at the provider", func(t *testing.T) {
		// Twins share an email at the provider: the email alone cannot
		// tell which to link, an identifier can.
		for _, mrn := range []string{"MRN-7", "MRN-8"} {
			h.php.PutPatient(connector.Patient{Name: "Twin " + mrn, Email: "twins@example.com",
				Identifiers: []connector.Identifier{{System: "urn:mrn", Value: mrn}}})
		}
		res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: token, Body: map[string]any{"name": "Bo Twin", "email": "twins@example.com"}})
		p := checkProblem(t, res, http.StatusConflict)
		assert.Contains(t, p.Detail, "more than one patient at the provider has this email")
		list := h.do(t, request{Method: http.MethodGet, Path: "/patients?q=twin", Token: token})
		require.Equal(t, http.StatusOK, list.Status, "%s", list.Body)
		assert.Empty(t, decode[api.PatientList](t, list).Items, "nothing was saved")

		res = h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: token, Body: map[string]any{"name": "Bo Twin",
			"email": "twins@example.com", "identifiers": []any{map[string]any{"system": "urn:mrn", "value": "MRN-8"}}}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		assert.Equal(t, api.LinkStatusLinked, decode[api.PatientWithSync](t, res).Patient.Link)
		list = h.do(t, request{Method: http.MethodGet, Path: "/patients?q=twin", Token: token})
		assert.Len(t, decode[api.PatientList](t, list).Items, 1)
	})
	t.Run("invalid cursor", func(t *testing.T) {
		// Well-formed for the spec, but not a cursor the service gave.
		res := h.do(t, request{Method: http.MethodGet, Path: "/patients?cursor=bm90LWEtY3Vyc29y", Token: token})
		p := checkProblem(t, res, http.StatusBadRequest)
		assert.Equal(t, []string{"cursor"}, p.fields())
	})
}

func TestSync(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	token, created, _ := dieticianWithPatient(t, h)

	// The first sync's events, to its end.
	events := followRun(t, h, token, created.Sync.Id)
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	assert.Equal(t, "end", last.event)
	assert.True(t, last.run.Finished)
	assert.Equal(t, 4, last.run.Total, "the patient's record and its 3 documents")

	res := h.do(t, request{Method: http.MethodGet, Path: "/syncs/" + created.Sync.Id, Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, created.Patient.Id, decode[api.SyncRun](t, res).PatientId)

	// A manual sync, once the practice's interval has passed.
	var started response
	require.Eventually(t, func() bool {
		started = h.do(t, request{Method: http.MethodPost, Path: "/patients/" + itoa(created.Patient.Id) + "/sync", Token: token})
		return started.Status != http.StatusTooManyRequests
	}, 30*time.Second, 500*time.Millisecond)
	require.Equal(t, http.StatusAccepted, started.Status, "%s", started.Body)
	ref := decode[api.SyncRef](t, started)
	assert.Equal(t, ref.Url, started.Header.Get("Location"))
	assert.Equal(t, "/api/v1/syncs/"+ref.Id, ref.Url)
}

// event is an event of a run's stream.
type event struct {
	event string
	run   api.SyncRun
}

// followRun reads a run's event stream to its end.
func followRun(t *testing.T, h *harness, token, run string) []event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/syncs/"+run+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	var out []event
	var e event
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			e.event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			require.NoError(t, json.Unmarshal([]byte(line[len("data: "):]), &e.run))
		case line == "" && e.event != "":
			out = append(out, e)
			e = event{}
		}
	}
	return out
}

func TestUploadAndDownload(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	token, created, _ := dieticianWithPatient(t, h)

	data := []byte("%PDF-1.4\n% a small document\n%%EOF\n")
	body, ct := multipartBody("Meal plan.pdf", data, map[string]string{"type": "other", "title": "Meal plan", "date": "2026-01-02T00:00:00Z"})
	res := h.do(t, request{Method: http.MethodPost, Path: "/patients/" + itoa(created.Patient.Id) + "/documents", Token: token, Body: body, ContentType: ct})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	doc := decode[api.Document](t, res)
	assert.Equal(t, doc.Url, res.Header.Get("Location"))
	assert.Equal(t, "/api/v1/documents/"+itoa(doc.Id), doc.Url)
	assert.True(t, doc.Uploaded)
	assert.Equal(t, "Meal plan", doc.Title)

	content := strings.TrimPrefix(doc.ContentUrl, "/api/v1")
	res = h.do(t, request{Method: http.MethodGet, Path: content, Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, data, res.Body)
	assert.True(t, strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment"), res.Header.Get("Content-Disposition"))
	etag := res.Header.Get("ETag")
	assert.Equal(t, `"`+doc.ContentHash+`"`, etag)

	res = h.do(t, request{Method: http.MethodGet, Path: content, Token: token, Header: map[string]string{"Range": "bytes=0-7"}})
	require.Equal(t, http.StatusPartialContent, res.Status)
	assert.Equal(t, data[:8], res.Body)

	res = h.do(t, request{Method: http.MethodGet, Path: content, Token: token, Header: map[string]string{"If-None-Match": etag}})
	assert.Equal(t, http.StatusNotModified, res.Status)

	t.Run("an executable renamed as a PDF", func(t *testing.T) {
		list := "/patients/" + itoa(created.Patient.Id) + "/documents"
		before := h.do(t, request{Method: http.MethodGet, Path: list, Token: token})
		require.Equal(t, http.StatusOK, before.Status)
		exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), bytes.Repeat([]byte{0}, 64)...)
		body, ct := multipartBody("lab-report.pdf", exe, map[string]string{"type": "lab_result", "title": "Lab report"})
		res := h.do(t, request{Method: http.MethodPost, Path: list, Token: token, Body: body, ContentType: ct})
		p := checkProblem(t, res, http.StatusUnsupportedMediaType)
		assert.Contains(t, p.Detail, "not a PDF")
		after := h.do(t, request{Method: http.MethodGet, Path: list, Token: token})
		assert.Equal(t, len(decode[api.DocumentPage](t, before).Items), len(decode[api.DocumentPage](t, after).Items), "nothing written")
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
