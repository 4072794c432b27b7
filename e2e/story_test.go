package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

// TestStory walks the seed's story through the REST API of the server
// process, with the strict mock provider and the fake Carepatron as
// processes too, on SQLite and on PostgreSQL: an admin creates a
// dietician, who creates a patient (a second try is a duplicate), watches
// the first sync, lists and downloads documents, edits the patient (the
// provider holds the edit; a stale edit is a conflict to retry), requests
// documents, and shares one with a practitioner until revoking it; the
// audit log holds every step.
func TestStory(t *testing.T) {
	skipShort(t)
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "story.db")
			if kind == "postgres" {
				db = postgresURL(t)
			}
			story(t, db)
		})
	}
}

// apiClient calls the server's REST API as one user.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

// reply is an API answer read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "%d %s", r.status, r.body)
}

func (c apiClient) do(method, path string, body any, header ...string) reply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), rd)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := httpClient.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	return reply{res.StatusCode, res.Header, b}
}

// url makes path absolute: paths the API answers start with /api/v1.
func (c apiClient) url(path string) string {
	if strings.HasPrefix(path, "/api/") {
		return strings.TrimSuffix(c.base, "/api/v1") + path
	}
	return c.base + path
}

// want calls and requires the status.
func (c apiClient) want(status int, method, path string, body any, header ...string) reply {
	c.t.Helper()
	r := c.do(method, path, body, header...)
	require.Equal(c.t, status, r.status, "%s %s: %s", method, path, r.body)
	return r
}

// signIn returns a client signed in as email.
func signInAs(t *testing.T, base, email, password string) apiClient {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	apiClient{t: t, base: base}.want(http.StatusOK, "POST", "/auth/token", map[string]string{"email": email, "password": password}).json(t, &tok)
	require.NotEmpty(t, tok.AccessToken)
	return apiClient{t: t, base: base, token: tok.AccessToken}
}

type storyPatient struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	Link      string `json:"link"`
	WriteBack *struct {
		Status string `json:"status"`
		Detail string `json:"detail"`
	} `json:"write_back"`
}

type storyDocument struct {
	ID          int64  `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Source      string `json:"source"`
	ContentHash string `json:"content_hash"`
}

func story(t *testing.T, databaseURL string) {
	ctx := context.Background()
	m := startMock(t, 3, 4, 11, "-strict", "-task-delay", "500ms")
	f := startFake(t)
	secret := newSecret()
	pwFile := filepath.Join(t.TempDir(), "admin-password")
	const adminPassword = "the first admin's long password"
	require.NoError(t, os.WriteFile(pwFile, []byte(adminPassword+"\n"), 0o600))
	s := newServer(t, m, f, databaseURL, secret, nil, "POLL_INTERVAL=0", "CAREPATRON_RATE=0",
		"ADMIN_EMAIL=admin@practice.example", "ADMIN_PASSWORD_FILE="+pwFile, "REQUEST_REFRESH_INTERVAL=1s")
	sub, err := m.subscribe(ctx, s.hookURL(), secret)
	require.NoError(t, err)
	s.start(t)
	base := "http://" + s.addr + "/api/v1"

	var provider []mockphp.PatientInfo
	require.NoError(t, call(ctx, "GET", m.admin+"/patients", nil, &provider))
	target := provider[0]

	// The admin creates the staff.
	admin := signInAs(t, base, "admin@practice.example", adminPassword)
	const password = "a dietician's long password"
	for _, u := range []map[string]string{
		{"email": "dana@practice.example", "name": "Dana Dietician", "role": "dietician", "password": password},
		{"email": "gp@practice.example", "name": "Gale Practitioner", "role": "practitioner", "password": password},
	} {
		admin.want(http.StatusCreated, "POST", "/users", u)
	}
	dana := signInAs(t, base, "dana@practice.example", password)

	// A new patient, matched at the provider by email; the first sync
	// starts at once.
	newPatient := map[string]any{"name": "As The Dietician Wrote It", "email": target.Email,
		"dietary_preferences": "vegetarian, no nuts"}
	created := dana.want(http.StatusCreated, "POST", "/patients", newPatient)
	var cp struct {
		Patient storyPatient `json:"patient"`
		Sync    struct {
			ID        string `json:"id"`
			EventsURL string `json:"events_url"`
		} `json:"sync"`
	}
	created.json(t, &cp)
	patient := cp.Patient
	assert.Equal(t, "linked", patient.Link)
	assert.Equal(t, patient.URL, created.header.Get("Location"))
	require.NotEmpty(t, cp.Sync.EventsURL)

	// The same email again: 409 naming the existing record.
	dup := dana.want(http.StatusConflict, "POST", "/patients", newPatient)
	var problem struct {
		Existing string `json:"existing"`
	}
	dup.json(t, &problem)
	assert.Equal(t, patient.URL, problem.Existing)
	assert.Equal(t, patient.URL, dup.header.Get("Location"))

	// The sync's progress streams until it is done.
	last := watchRun(t, dana, cp.Sync.EventsURL)
	assert.Equal(t, "done", last["phase"])
	assert.True(t, last["finished"].(bool))
	var observations map[string]string
	require.NoError(t, call(ctx, "GET", m.admin+"/versions?type=Observation&patient="+target.ID, nil, &observations))
	assert.EqualValues(t, 1+len(target.Documents)+len(observations), last["total"],
		"the patient's record, its documents and its observations")

	// The documents, by type with their counts, each from the provider.
	path := fmt.Sprintf("/patients/%d", patient.ID)
	var list struct {
		Items  []storyDocument `json:"items"`
		Counts map[string]int  `json:"counts"`
	}
	dana.want(http.StatusOK, "GET", path+"/documents", nil).json(t, &list)
	require.Len(t, list.Items, len(target.Documents))
	total := 0
	for _, n := range list.Counts {
		total += n
	}
	assert.Equal(t, len(target.Documents), total, "counts per type add up")
	var provided []mockphp.DocumentInfo
	require.NoError(t, call(ctx, "GET", m.admin+"/documents?patient="+target.ID, nil, &provided))
	hashes := map[string]bool{}
	for _, d := range provided {
		hashes[d.ContentHash] = true
	}
	for _, d := range list.Items {
		assert.True(t, hashes[d.ContentHash], "document %d holds content the provider has", d.ID)
	}
	doc := list.Items[0]

	// A download: the provider's bytes.
	dl := dana.want(http.StatusOK, "GET", fmt.Sprintf("/documents/%d/content", doc.ID), nil)
	sum := sha256.Sum256(dl.body)
	assert.True(t, hashes[hex.EncodeToString(sum[:])], "the download is the provider's content")
	assert.Equal(t, doc.ContentHash, hex.EncodeToString(sum[:]))
	assert.Contains(t, dl.header.Get("Content-Disposition"), "attachment")

	// An edit, written back: the provider holds it.
	dana.want(http.StatusOK, "PUT", path, map[string]any{"name": "Edited Name"})
	waitWriteBack(t, dana, path, "written")
	require.NoError(t, eventually(ctx, 30*time.Second, 100*time.Millisecond, func(ctx context.Context) error {
		var ps []mockphp.PatientInfo
		if err := call(ctx, "GET", m.admin+"/patients", nil, &ps); err != nil {
			return err
		}
		for _, p := range ps {
			if p.ID == target.ID && p.Name != "Edited Name" {
				return fmt.Errorf("the provider holds %q", p.Name)
			}
		}
		return nil
	}))

	// A stale edit: the provider changed the record meanwhile, unheard
	// (no webhooks), so the write-back meets another version.
	require.NoError(t, call(ctx, "DELETE", m.admin+"/subscriptions/"+sub, nil, nil))
	require.NoError(t, call(ctx, "POST", m.admin+"/patients/"+target.ID+"/update", nil, nil))
	dana.want(http.StatusOK, "PUT", path, map[string]any{"name": "Edited Again"})
	conflict := waitWriteBack(t, dana, path, "conflict")
	assert.NotEmpty(t, conflict.WriteBack.Detail, "the conflict says what happened")
	var logs struct {
		Items []struct {
			Action string `json:"action"`
			Status string `json:"status"`
		} `json:"items"`
	}
	dana.want(http.StatusOK, "GET", path+"/logs?action=write_back&status=error", nil).json(t, &logs)
	assert.NotEmpty(t, logs.Items, "the conflict is in the sync log")
	dana.want(http.StatusAccepted, "POST", path+"/write-back", nil)
	waitWriteBack(t, dana, path, "written")
	_, err = m.subscribe(ctx, s.hookURL(), secret)
	require.NoError(t, err)

	// Documents requested: the provider's Task completes and its new
	// documents arrive.
	dana.want(http.StatusAccepted, "POST", path+"/request-documents",
		map[string]any{"what": "the latest lab results", "types": []string{"lab_result"}}, "Idempotency-Key", "story-1")
	require.NoError(t, eventually(ctx, time.Minute, 200*time.Millisecond, func(context.Context) error {
		var reqs struct {
			Items []struct {
				Status string `json:"status"`
			} `json:"items"`
		}
		dana.want(http.StatusOK, "GET", path+"/document-requests", nil).json(t, &reqs)
		if len(reqs.Items) != 1 || reqs.Items[0].Status != "completed" {
			return fmt.Errorf("requests: %+v", reqs.Items)
		}
		dana.want(http.StatusOK, "GET", path+"/documents", nil).json(t, &list)
		if len(list.Items) <= len(target.Documents) {
			return fmt.Errorf("%d documents", len(list.Items))
		}
		return nil
	}))

	// Shared with a practitioner, who reads it and nothing else.
	var share struct {
		ID  int64  `json:"id"`
		URL string `json:"url"`
	}
	dana.want(http.StatusCreated, "POST", fmt.Sprintf("/documents/%d/share", doc.ID),
		map[string]any{"practitioner_email": "gp@practice.example", "note": "for the review"}).json(t, &share)
	gale := signInAs(t, base, "gp@practice.example", password)
	gale.want(http.StatusOK, "GET", fmt.Sprintf("/documents/%d", doc.ID), nil)
	shared := gale.want(http.StatusOK, "GET", fmt.Sprintf("/documents/%d/content", doc.ID), nil)
	assert.Equal(t, dl.body, shared.body)
	var other int64
	for _, d := range list.Items {
		if d.ID != doc.ID {
			other = d.ID
		}
	}
	gale.want(http.StatusNotFound, "GET", fmt.Sprintf("/documents/%d", other), nil)
	gale.want(http.StatusNotFound, "GET", path+"/documents", nil)
	gale.want(http.StatusNotFound, "GET", path, nil)
	dana.want(http.StatusNoContent, "DELETE", fmt.Sprintf("/shares/%d", share.ID), nil)
	gale.want(http.StatusNotFound, "GET", fmt.Sprintf("/documents/%d", doc.ID), nil)

	// The audit log holds every step.
	var audit struct {
		Items []struct {
			Action  string `json:"action"`
			Outcome string `json:"outcome"`
		} `json:"items"`
	}
	require.NoError(t, eventually(ctx, 10*time.Second, 100*time.Millisecond, func(context.Context) error {
		admin.want(http.StatusOK, "GET", "/audit?limit=500", nil).json(t, &audit)
		seen := map[string]bool{}
		for _, e := range audit.Items {
			seen[e.Action+" "+e.Outcome] = true
		}
		for _, want := range []string{
			"auth.login success", "user.create success", "patient.create success", "document.list success",
			"document.download success", "patient.update success", "request.create success",
			"document.share success", "document.read success", "document.read denied", "share.revoke success",
		} {
			if !seen[want] {
				return fmt.Errorf("no %q in the audit log", want)
			}
		}
		return nil
	}))
}

// watchRun reads a run's event stream to its end and returns the last
// snapshot.
func watchRun(t *testing.T, c apiClient, eventsURL string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", c.url(eventsURL), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Type"), "text/event-stream")
	var last map[string]any
	events := 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			require.NoError(t, json.Unmarshal([]byte(data), &last))
			events++
		}
	}
	require.NoError(t, sc.Err(), "the stream ends by itself once the run is done")
	require.NotZero(t, events)
	return last
}

// waitWriteBack waits until the patient's write-back has the status.
func waitWriteBack(t *testing.T, c apiClient, path, status string) storyPatient {
	t.Helper()
	var p storyPatient
	err := eventually(context.Background(), 30*time.Second, 100*time.Millisecond, func(context.Context) error {
		c.want(http.StatusOK, "GET", path, nil).json(t, &p)
		if p.WriteBack == nil || p.WriteBack.Status != status {
			return fmt.Errorf("write-back %+v", p.WriteBack)
		}
		return nil
	})
	require.NoError(t, err, "write-back %s", status)
	return p
}
