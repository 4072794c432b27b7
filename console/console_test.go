package console_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/practice"
)

// client is a browser without a browser: it keeps the session cookie by
// hand (Go's cookie jar would not send a Secure cookie over plain HTTP,
// as browsers do for loopback) and never follows redirects.
type client struct {
	t      testing.TB
	base   string
	cookie string
}

type answer struct {
	Status int
	Header http.Header
	Body   string
}

func (c *client) do(method, path string, form url.Values, header map[string]string) answer {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	require.NoError(c.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.cookie != "" {
		req.Header.Set("Cookie", c.cookie)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	for _, ck := range res.Cookies() {
		if ck.Name == "__Host-hr-console" {
			c.cookie = ck.Name + "=" + ck.Value
			if ck.MaxAge < 0 {
				c.cookie = ""
			}
		}
	}
	return answer{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func (c *client) login(email string) answer {
	c.t.Helper()
	return c.do(http.MethodPost, "/login", url.Values{"email": {email}, "password": {password}}, nil)
}

// clock is a settable time for the console's sessions.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestSessionCookie(t *testing.T) {
	w := newWorld(t, console.Config{})
	c := &client{t: t, base: w.url}
	res := c.login(w.users[practice.RoleDietician].Email)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	assert.Equal(t, "/console", res.Header.Get("Location"))
	raw := res.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-hr-console=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		assert.Contains(t, raw, want)
	}
	assert.NotContains(t, raw, "Domain=")

	t.Run("a wrong password sets no cookie", func(t *testing.T) {
		other := &client{t: t, base: w.url}
		res := other.do(http.MethodPost, "/login", url.Values{"email": {w.users[practice.RoleDietician].Email}, "password": {"wrong"}}, nil)
		assert.Equal(t, http.StatusUnauthorized, res.Status)
		assert.Contains(t, res.Body, "The email or password is wrong.")
		assert.Empty(t, other.cookie)
	})
	t.Run("next is kept only for the console's own pages", func(t *testing.T) {
		for next, want := range map[string]string{"/console/patients": "/console/patients", "//evil.example/": "/console",
			"/other": "/console", "/console/\\evil": "/console"} {
			other := &client{t: t, base: w.url}
			res := other.do(http.MethodPost, "/login", url.Values{"email": {w.users[practice.RoleDietician].Email},
				"password": {password}, "next": {next}}, nil)
			assert.Equal(t, want, res.Header.Get("Location"), next)
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		other := &client{t: t, base: w.url}
		other.login(w.users[practice.RoleDietician].Email)
		kept := other.cookie
		require.Equal(t, http.StatusOK, other.do(http.MethodGet, "/patients", nil, nil).Status)
		res := other.do(http.MethodPost, "/logout", url.Values{}, nil)
		assert.Equal(t, http.StatusSeeOther, res.Status)
		other.cookie = kept // a copy of the cookie kept from before
		res = other.do(http.MethodGet, "/patients", nil, nil)
		assert.Equal(t, http.StatusSeeOther, res.Status)
		assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "/console/login"))
	})
	t.Run("disabling the user ends their session at once", func(t *testing.T) {
		ctx := context.Background()
		admin := w.actor(t, practice.RoleAdmin)
		u, err := w.svc.CreateUser(ctx, admin, practice.NewUser{Email: "gone@example.com", Name: "Soon Gone",
			Role: practice.RoleDietician, Password: password})
		require.NoError(t, err)
		other := &client{t: t, base: w.url}
		other.login(u.Email)
		require.Equal(t, http.StatusOK, other.do(http.MethodGet, "/patients", nil, nil).Status)
		off := true
		_, err = w.svc.UpdateUser(ctx, admin, u.ID, practice.UserUpdate{Disabled: &off})
		require.NoError(t, err)
		res := other.do(http.MethodGet, "/patients", nil, nil)
		assert.Equal(t, http.StatusSeeOther, res.Status)
		assert.Contains(t, res.Header.Get("Location"), "why=ended")
	})
}

func TestSessionLifetimes(t *testing.T) {
	clk := &clock{now: time.Now()}
	w := newWorld(t, console.Config{IdleTimeout: 10 * time.Minute, MaxAge: time.Hour, Now: clk.Now})
	email := w.users[practice.RoleDietician].Email
	tests := []struct {
		name  string
		steps []time.Duration // time between requests that must be served
		last  time.Duration   // then the request that must end the session
		why   string
	}{
		{name: "idle", steps: []time.Duration{9 * time.Minute}, last: 10 * time.Minute, why: "idle"},
		{name: "absolute", steps: []time.Duration{9 * time.Minute, 9 * time.Minute, 9 * time.Minute, 9 * time.Minute, 9 * time.Minute, 9 * time.Minute},
			last: 6 * time.Minute, why: "max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{t: t, base: w.url}
			c.login(email)
			for _, d := range tt.steps {
				clk.add(d)
				require.Equal(t, http.StatusOK, c.do(http.MethodGet, "/patients", nil, nil).Status)
			}
			clk.add(tt.last)
			res := c.do(http.MethodGet, "/patients", nil, nil)
			assert.Equal(t, http.StatusSeeOther, res.Status)
			assert.Contains(t, res.Header.Get("Location"), "why="+tt.why)
		})
	}
}

var nonceRe = regexp.MustCompile(`nonce="([^"]+)"`)

func TestSecurityHeaders(t *testing.T) {
	w := newWorld(t, console.Config{})
	c := &client{t: t, base: w.url}
	c.login(w.users[practice.RoleDietician].Email)
	res := c.do(http.MethodGet, "/patients", nil, nil)
	require.Equal(t, http.StatusOK, res.Status)
	policy := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
		assert.Contains(t, policy, want)
	}
	for _, never := range []string{"unsafe-eval", "unsafe-inline", "*"} {
		assert.NotContains(t, policy, never)
	}
	nonces := nonceRe.FindAllStringSubmatch(res.Body, -1)
	require.NotEmpty(t, nonces)
	for _, n := range nonces {
		assert.Contains(t, policy, "'nonce-"+n[1]+"'", "every script's nonce is the response's")
	}
	again := c.do(http.MethodGet, "/patients", nil, nil)
	assert.NotEqual(t, policy, again.Header.Get("Content-Security-Policy"), "a nonce per response")
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
	assert.NotContains(t, res.Body, " style=", "no inline style attribute: the CSP would block it")

	t.Run("assets are cached for a year under hashed names", func(t *testing.T) {
		m := regexp.MustCompile(`/console(/assets/[0-9a-f]{12}/console\.js)`).FindStringSubmatch(res.Body)
		require.Len(t, m, 2, "the page links its script by a hashed name")
		a := c.do(http.MethodGet, m[1], nil, nil)
		assert.Equal(t, http.StatusOK, a.Status)
		assert.Equal(t, "public, max-age=31536000, immutable", a.Header.Get("Cache-Control"))
		assert.Equal(t, "text/javascript; charset=utf-8", a.Header.Get("Content-Type"))
		zipped := c.do(http.MethodGet, m[1], nil, map[string]string{"Accept-Encoding": "br, gzip"})
		assert.Equal(t, "gzip", zipped.Header.Get("Content-Encoding"))
		assert.Less(t, len(zipped.Body), len(a.Body))
		refused := c.do(http.MethodGet, m[1], nil, map[string]string{"Accept-Encoding": "gzip;q=0"})
		assert.Empty(t, refused.Header.Get("Content-Encoding"))
		stale := c.do(http.MethodGet, "/assets/000000000000/console.js", nil, nil)
		assert.Equal(t, http.StatusNotFound, stale.Status)
		axe := c.do(http.MethodGet, "/assets/000000000000/vendor/axe-core/axe.min.js", nil, nil)
		assert.Equal(t, http.StatusNotFound, axe.Status, "the test-only library is not served")
	})
	t.Run("a cross-origin post is refused", func(t *testing.T) {
		for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "http://evil.example"}} {
			res := c.do(http.MethodPost, "/patients/new", url.Values{"step": {"create"}, "name": {"Eve"}, "email": {"eve@example.com"}}, h)
			assert.Equal(t, http.StatusForbidden, res.Status, "%v", h)
			assert.Contains(t, res.Body, "Request refused")
		}
		same := c.do(http.MethodPost, "/patients/new", url.Values{"step": {"check"}, "name": {"Eve"}, "email": {"eve@example.com"}},
			map[string]string{"Sec-Fetch-Site": "same-origin"})
		assert.Equal(t, http.StatusOK, same.Status, "the console's own form is served")
	})
}

func TestErrorsAndDownloads(t *testing.T) {
	w := newWorld(t, console.Config{})
	ctx := context.Background()
	w.providerPatient(t, "Ann Example", "ann@example.com")
	diet := w.actor(t, practice.RoleDietician)
	p, run, err := w.svc.CreatePatient(ctx, diet, practice.NewPatient{Name: "Ann Example", Email: "ann@example.com"})
	require.NoError(t, err)
	w.finish(t, diet, run)
	docs, err := w.svc.Documents(ctx, diet, p.ID, practice.DocumentList{Type: "lab_result"})
	require.NoError(t, err)
	require.Len(t, docs.Items, 1)
	pdf := docs.Items[0]

	c := &client{t: t, base: w.url}
	c.login(w.users[practice.RoleDietician].Email)
	res := c.do(http.MethodGet, "/documents/"+itoa(pdf.ID)+"/content", nil, nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, `attachment; filename=`, res.Header.Get("Content-Disposition")[:len(`attachment; filename=`)])
	assert.Equal(t, string(w.pdf), res.Body)
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "sandbox")

	// A provider's document is read-only: no edit form, and a post is
	// refused with the policy's reason.
	view := c.do(http.MethodGet, "/documents/"+itoa(pdf.ID), nil, nil)
	require.Equal(t, http.StatusOK, view.Status)
	assert.NotContains(t, view.Body, "Edit the details")
	edit := c.do(http.MethodPost, "/documents/"+itoa(pdf.ID), url.Values{"title": {"Renamed"}, "type": {"lab_result"}}, nil)
	assert.Equal(t, http.StatusForbidden, edit.Status)
	assert.Contains(t, edit.Body, "documents from the provider are read-only")

	// The patient list shows the last sync and its status.
	list := c.do(http.MethodGet, "/patients", nil, nil)
	assert.Regexp(t, `\d+ \w+ \d{4} \d\d:\d\d UTC <span class="status-success">success</span>`, list.Body)

	// Another dietician: the patient and its documents do not exist.
	admin := w.actor(t, practice.RoleAdmin)
	_, err = w.svc.CreateUser(ctx, admin, practice.NewUser{Email: "other@example.com", Name: "Other Dietician",
		Role: practice.RoleDietician, Password: password})
	require.NoError(t, err)
	o := &client{t: t, base: w.url}
	o.login("other@example.com")
	withSyncs := practice.PatientList{LastSyncs: true}
	page, err := w.svc.Patients(ctx, w.actor(t, practice.RoleDietician), withSyncs)
	require.NoError(t, err)
	assert.Contains(t, page.LastSyncs, p.ID, "the owner reads the last sync")
	assert.Len(t, page.LastSyncs, 1)
	page, err = w.svc.Patients(ctx, w.actor(t, practice.RoleAdmin), withSyncs)
	require.NoError(t, err)
	assert.Contains(t, page.LastSyncs, p.ID, "an admin reads every patient's")
	page, err = w.svc.Patients(ctx, w.actor(t, practice.RoleDietician), practice.PatientList{})
	require.NoError(t, err)
	assert.Nil(t, page.LastSyncs, "only when asked")
	page, err = w.svc.Patients(ctx, w.actor(t, practice.RolePractitioner), withSyncs)
	require.NoError(t, err)
	assert.Nil(t, page.LastSyncs, "a practitioner does not read the sync log")
	otherDiet, err := w.svc.Login(ctx, practice.Client{Addr: "127.0.0.1"}, "other@example.com", password)
	require.NoError(t, err)
	otherActor, err := w.svc.Authenticate(ctx, practice.Client{Addr: "127.0.0.1"}, otherDiet.Access)
	require.NoError(t, err)
	page, err = w.svc.Patients(ctx, otherActor, withSyncs)
	require.NoError(t, err)
	assert.Empty(t, page.Items, "another dietician's patient is not listed")
	assert.Empty(t, page.LastSyncs, "nor its last sync")
	for _, path := range []string{"/patients/" + itoa(p.ID), "/patients/" + itoa(p.ID) + "/documents",
		"/documents/" + itoa(pdf.ID), "/documents/" + itoa(pdf.ID) + "/content", "/patients/999999", "/patients/x"} {
		res := o.do(http.MethodGet, path, nil, nil)
		assert.Equal(t, http.StatusNotFound, res.Status, path)
		assert.Contains(t, res.Body, "There is no such record, or none you may see.", path)
		assert.NotContains(t, res.Body, "Ann Example", path)
	}
	// A practitioner may not create patients: 403 with the policy's reason.
	pr := &client{t: t, base: w.url}
	pr.login(w.users[practice.RolePractitioner].Email)
	res = pr.do(http.MethodGet, "/patients/new", nil, nil)
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Contains(t, res.Body, "You may not do this: ")
	// An inquiry's link opens the form prefilled.
	pre := c.do(http.MethodGet, "/patients/new?name=Zoe+Inquiry&email=zoe%40example.com", nil, nil)
	assert.Contains(t, pre.Body, `value="Zoe Inquiry"`)
	assert.Contains(t, pre.Body, `value="zoe@example.com"`)
	// A duplicate on create (another tab created it meanwhile) shows the
	// warning with the link.
	res = c.do(http.MethodPost, "/patients/new", url.Values{"step": {"create"}, "name": {"Ann Again"}, "email": {"ANN@example.com"}}, nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Contains(t, res.Body, `href="/console/patients/`+itoa(p.ID)+`"`)
}

func TestPercent(t *testing.T) {
	tests := []struct {
		name string
		p    connector.Progress
		want int
	}{
		{"listing, the patient pulled", connector.Progress{Phase: connector.PhaseListing, Done: 1, Total: 1}, 99},
		{"fetching half", connector.Progress{Phase: connector.PhaseFetching, Done: 2, Total: 4}, 50},
		{"errors count as done", connector.Progress{Phase: connector.PhaseFetching, Done: 3, Errors: 1, Total: 4}, 100},
		{"done", connector.Progress{Phase: connector.PhaseDone, Done: 4, Total: 4}, 100},
		{"nothing yet", connector.Progress{Phase: connector.PhaseListing}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, console.Percent(tt.p)) })
	}
}

func TestPatientListPages(t *testing.T) {
	w := newWorld(t, console.Config{})
	ctx := context.Background()
	diet := w.actor(t, practice.RoleDietician)
	for i := range 30 {
		_, _, err := w.svc.CreatePatient(ctx, diet, practice.NewPatient{Name: "Pat " + string(rune('A'+i%26)) + itoa(int64(i)),
			Email: "pat" + itoa(int64(i)) + "@example.com"})
		require.NoError(t, err)
	}
	c := &client{t: t, base: w.url}
	c.login(w.users[practice.RoleDietician].Email)
	rows := regexp.MustCompile(`<td><a href="/console/patients/\d+">([^<]+)</a></td>`)
	next := regexp.MustCompile(`<a href="/console(/patients\?[^"]+)" rel="next">`)

	first := c.do(http.MethodGet, "/patients", nil, nil)
	require.Equal(t, http.StatusOK, first.Status)
	names := rows.FindAllStringSubmatch(first.Body, -1)
	assert.Len(t, names, 25)
	assert.Equal(t, "Pat A0", names[0][1], "sorted by name")
	m := next.FindStringSubmatch(first.Body)
	require.Len(t, m, 2, "a next page")
	second := c.do(http.MethodGet, strings.ReplaceAll(m[1], "&amp;", "&"), nil, nil)
	assert.Len(t, rows.FindAllStringSubmatch(second.Body, -1), 5)
	assert.NotRegexp(t, next, second.Body, "no page after the last")

	desc := c.do(http.MethodGet, "/patients?sort=name&desc=1", nil, nil)
	assert.Equal(t, "Pat Z25", rows.FindStringSubmatch(desc.Body)[1])
	found := c.do(http.MethodGet, "/patients?q=pat7%40example.com", nil, nil)
	got := rows.FindAllStringSubmatch(found.Body, -1)
	require.Len(t, got, 1)
	assert.Equal(t, "Pat H7", got[0][1])
}

// TestRefresh: an access token about to expire is renewed with the
// session's refresh token, once, however many requests come at once (a
// refresh token spent twice would make the practice revoke the session).
func TestRefresh(t *testing.T) {
	// Every access token is within the console's 30 s of its expiry.
	w := newWorld(t, console.Config{}, func(c *practice.Config) { c.Tokens.AccessTTL = 31 * time.Second })
	c := &client{t: t, base: w.url}
	c.login(w.users[practice.RoleDietician].Email)
	time.Sleep(1100 * time.Millisecond)
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = (&client{t: t, base: w.url, cookie: c.cookie}).do(http.MethodGet, "/patients", nil, nil).Status
		})
	}
	wg.Wait()
	for _, s := range statuses {
		assert.Equal(t, http.StatusOK, s)
	}
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/patients", nil, nil).Status, "the session lives on")

	ctx := context.Background()
	require.NoError(t, w.svc.FlushAudit(ctx))
	log, err := w.svc.Audit(ctx, w.actor(t, practice.RoleAdmin), practice.AuditList{ActorID: w.users[practice.RoleDietician].ID,
		Action: practice.ActionRefresh})
	require.NoError(t, err)
	assert.NotEmpty(t, log.Items, "the console refreshed")
	for _, e := range log.Items {
		assert.Equal(t, practice.OutcomeSuccess, e.Outcome, e.Detail)
	}
}

func TestRequestDocuments(t *testing.T) {
	w := newWorld(t, console.Config{})
	ctx := context.Background()
	w.providerPatient(t, "Ann Example", "ann@example.com")
	p, _, err := w.svc.CreatePatient(ctx, w.actor(t, practice.RoleDietician), practice.NewPatient{Name: "Ann Example", Email: "ann@example.com"})
	require.NoError(t, err)
	c := &client{t: t, base: w.url}
	c.login(w.users[practice.RoleDietician].Email)
	res := c.do(http.MethodPost, "/patients/"+itoa(p.ID)+"/requests", url.Values{"what": {"The 2025 lipid panels"},
		"type": {"lab_result"}, "from": {"2025-01-01"}, "reason": {"Diet review"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	page := c.do(http.MethodGet, "/patients/"+itoa(p.ID), nil, nil)
	assert.Contains(t, page.Body, "The 2025 lipid panels")
	assert.Regexp(t, `class="status-(pending|requested|in_progress|completed)"`, page.Body)

	bad := c.do(http.MethodPost, "/patients/"+itoa(p.ID)+"/requests", url.Values{"what": {"x"}, "from": {"March"}}, nil)
	assert.Equal(t, http.StatusBadRequest, bad.Status)
	assert.Contains(t, bad.Body, "from: is not a date (YYYY-MM-DD).")
}

func TestSearch(t *testing.T) {
	w := newWorld(t, console.Config{})
	ctx := context.Background()
	w.providerPatient(t, "Ann Example", "ann@example.com")
	diet := w.actor(t, practice.RoleDietician)
	p, run, err := w.svc.CreatePatient(ctx, diet, practice.NewPatient{Name: "Ann Example", Email: "ann@example.com"})
	require.NoError(t, err)
	w.finish(t, diet, run)
	docs, err := w.svc.Documents(ctx, diet, p.ID, practice.DocumentList{})
	require.NoError(t, err)
	var lipid int64
	for _, d := range docs.Items {
		if d.Title == "Lipid panel" {
			lipid = d.ID
		}
	}
	_, err = w.svc.ShareDocument(ctx, diet, lipid, practice.ShareInput{WithEmail: w.users[practice.RolePractitioner].Email})
	require.NoError(t, err)
	_, err = w.svc.CreateUser(ctx, w.actor(t, practice.RoleAdmin), practice.NewUser{Email: "ann@example.com", Name: "Ann Example",
		Role: practice.RolePatient, Password: password, PatientID: p.ID})
	require.NoError(t, err)

	tests := []struct {
		name      string
		email     string
		q         string
		want, not []string
	}{
		{"dietician: patients", w.users[practice.RoleDietician].Email, "ann", []string{">Ann Example</a>"}, nil},
		{"dietician: the sync log", w.users[practice.RoleDietician].Email, "stored version", []string{"stored version 1"}, nil},
		{"dietician: documents", w.users[practice.RoleDietician].Email, "lipid", []string{">Lipid panel</a>"}, nil},
		{"patient: their documents", "ann@example.com", "lipid", []string{">Lipid panel</a>"}, []string{"stored version"}},
		{"patient: no sync log", "ann@example.com", "stored version", []string{"Nothing you may see matches"}, nil},
		{"practitioner: what is shared only", w.users[practice.RolePractitioner].Email, "panel",
			[]string{">Lipid panel</a>"}, []string{"First visit", "Assessment", "Ann Example"}},
		{"practitioner: not what is not shared", w.users[practice.RolePractitioner].Email, "assessment",
			[]string{"Nothing you may see matches"}, nil},
		{"practitioner: no patients", w.users[practice.RolePractitioner].Email, "ann", []string{"Nothing you may see matches"}, nil},
		{"nothing", w.users[practice.RoleDietician].Email, "zebra", []string{"Nothing you may see matches “zebra”."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{t: t, base: w.url}
			c.login(tt.email)
			res := c.do(http.MethodGet, "/search?q="+url.QueryEscape(tt.q), nil, nil)
			require.Equal(t, http.StatusOK, res.Status)
			for _, s := range tt.want {
				assert.Contains(t, res.Body, s)
			}
			for _, s := range tt.not {
				assert.NotContains(t, res.Body, s)
			}
		})
	}
}
