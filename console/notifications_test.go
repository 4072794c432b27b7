package console_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/practice"
)

// stream opens the notification area's event stream and returns its
// lines as they come.
func (c *client) stream(ctx context.Context, path string) <-chan string {
	c.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	require.NoError(c.t, err)
	req.Header.Set("Cookie", c.cookie)
	res, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	require.Equal(c.t, http.StatusOK, res.StatusCode)
	require.Equal(c.t, "text/event-stream", res.Header.Get("Content-Type"))
	lines := make(chan string)
	go func() {
		defer close(lines)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	return lines
}

// next reads lines until one starts with prefix, and returns it with the
// lines read on the way.
func next(t *testing.T, lines <-chan string, prefix string) []string {
	t.Helper()
	var seen []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the stream closed before %q; read %q", prefix, seen)
			seen = append(seen, l)
			if strings.HasPrefix(l, prefix) {
				return seen
			}
		case <-timeout:
			t.Fatalf("no %q in the stream; read %q", prefix, seen)
		}
	}
}

// TestNotificationStream: the area's stream tells a new count, not the
// one the page shows, and ends with the session (on which the browser's
// extension closes it for good).
func TestNotificationStream(t *testing.T) {
	clk := &clock{now: time.Now()}
	w := newWorld(t, console.Config{IdleTimeout: 10 * time.Minute, Heartbeat: 50 * time.Millisecond, Now: clk.Now})
	c := &client{t: t, base: w.url}
	c.login(w.users[practice.RoleDietician].Email)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	lines := c.stream(ctx, "/notifications/events?unread=0")
	_, err := w.svc.ReceiveInquiry(ctx, practice.Client{Addr: "127.0.0.1"}, practice.NewInquiry{Name: "Riley Prospect",
		Email: "riley@prospect.example", Message: "Hello.", Channel: practice.InquiryForm})
	require.NoError(t, err)
	seen := next(t, lines, "event: unread")
	for _, l := range seen {
		assert.NotContains(t, l, "event: end")
	}
	data := next(t, lines, "data:")
	assert.Equal(t, `data: <span class="badge">1</span><span class="visually-hidden"> unread</span>`, data[len(data)-1])

	// The session ends without activity: so does the stream.
	clk.add(11 * time.Minute)
	next(t, lines, "event: end")
	res := c.do(http.MethodGet, "/patients", nil, nil)
	assert.Equal(t, http.StatusSeeOther, res.Status, "the session is over")
}

// TestNotificationsAndInquiriesPages: what the pages decide, or rather
// the practice decides through them.
func TestNotificationsAndInquiriesPages(t *testing.T) {
	w := newWorld(t, console.Config{})
	ctx := context.Background()
	q, err := w.svc.ReceiveInquiry(ctx, practice.Client{Addr: "127.0.0.1"}, practice.NewInquiry{Name: "Riley Prospect",
		Email: "riley@prospect.example", Message: "Hello.", Channel: practice.InquiryForm})
	require.NoError(t, err)
	diet := &client{t: t, base: w.url}
	diet.login(w.users[practice.RoleDietician].Email)
	admin := &client{t: t, base: w.url}
	admin.login(w.users[practice.RoleAdmin].Email)
	pract := &client{t: t, base: w.url}
	pract.login(w.users[practice.RolePractitioner].Email)

	list := diet.do(http.MethodGet, "/notifications", nil, nil)
	require.Equal(t, http.StatusOK, list.Status)
	assert.Contains(t, list.Body, `<span class="badge">1</span>`, "the layout's count")
	dn, _, err := w.svc.Notifications(ctx, w.actor(t, practice.RoleDietician), practice.NotificationList{})
	require.NoError(t, err)
	require.Len(t, dn.Items, 1)
	nid := fmt.Sprint(dn.Items[0].ID)

	type testCase struct {
		name   string
		c      *client
		method string
		path   string
		form   url.Values
		status int
		body   string
	}
	tests := []testCase{
		{"another's notification is not found", admin, http.MethodGet, "/notifications/" + nid, nil, http.StatusNotFound, "Not found"},
		{"a practitioner has no inbox", pract, http.MethodGet, "/inquiries", nil, http.StatusForbidden, "inquiries are for the practice"},
		{"nor the inquiry", pract, http.MethodGet, fmt.Sprintf("/inquiries/%d", q.ID), nil, http.StatusNotFound, "Not found"},
		{"an admin sees it", admin, http.MethodGet, "/inquiries", nil, http.StatusOK, "Riley Prospect"},
		{"an admin creates no patient of it", admin, http.MethodGet, fmt.Sprintf("/inquiries/%d", q.ID), nil, http.StatusOK, `id="dismiss"`},
		{"the dietician opens the notification", diet, http.MethodGet, "/notifications/" + nid, nil, http.StatusOK, fmt.Sprintf(`href="/console/inquiries/%d"`, q.ID)},
		{"read now", diet, http.MethodGet, "/notifications?unread=1", nil, http.StatusOK, "Nothing unread."},
		{"the form is prefilled", diet, http.MethodGet, fmt.Sprintf("/patients/new?inquiry=%d", q.ID), nil, http.StatusOK, `value="riley@prospect.example"`},
		{"an unknown inquiry", diet, http.MethodGet, "/patients/new?inquiry=999", nil, http.StatusNotFound, "Not found"},
		{"dismissed", diet, http.MethodPost, fmt.Sprintf("/inquiries/%d/dismiss", q.ID), url.Values{}, http.StatusSeeOther, ""},
		{"once", diet, http.MethodPost, fmt.Sprintf("/inquiries/%d/dismiss", q.ID), url.Values{}, http.StatusConflict, "converted or dismissed already"},
		{"a dismissed inquiry's link opens the inquiry", diet, http.MethodGet, fmt.Sprintf("/patients/new?inquiry=%d", q.ID), nil, http.StatusSeeOther, ""},
		{"nor can a patient be made of it", diet, http.MethodPost, "/patients/new", url.Values{"step": {"create"}, "name": {"Riley Prospect"},
			"email": {"riley@prospect.example"}, "inquiry": {fmt.Sprint(q.ID)}}, http.StatusConflict, "converted or dismissed already"},
		{"a preference refused", diet, http.MethodPost, "/settings/notifications", url.Values{"security": {"off"}}, http.StatusUnprocessableEntity, "cannot be turned off"},
		{"a preference saved", diet, http.MethodPost, "/settings/notifications", url.Values{"inquiry": {"digest_daily"}}, http.StatusSeeOther, ""},
	}
	run := func(tests []testCase) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := tt.c.do(tt.method, tt.path, tt.form, nil)
				assert.Equal(t, tt.status, res.Status)
				assert.Contains(t, res.Body, tt.body)
			})
		}
	}
	run(tests)

	// A failed write-back: its page offers the retry and the support.
	w.notify(practice.Notification{UserID: w.users[practice.RoleDietician].ID, Kind: practice.KindWriteBack, Severity: practice.SeverityError,
		Title: "Write-back failed", Body: "The provider refused the edit.",
		Links: practice.Links{PatientID: 41, Retry: "/patients/41/write-back", Support: "support@practice.example"}})
	dn, _, err = w.svc.Notifications(ctx, w.actor(t, practice.RoleDietician), practice.NotificationList{})
	require.NoError(t, err)
	failed := fmt.Sprint(dn.Items[0].ID)
	run([]testCase{
		{"a failure's retry", diet, http.MethodGet, "/notifications/" + failed, nil, http.StatusOK,
			`<form method="post" action="/console/patients/41/retry" class="inline"><button type="submit">Retry the write-back</button>`},
		{"and its support", diet, http.MethodGet, "/notifications/" + failed, nil, http.StatusOK, `<a href="mailto:support@practice.example">Contact support</a>`},
		{"and its patient", diet, http.MethodGet, "/notifications/" + failed, nil, http.StatusOK, `<a href="/console/patients/41">Open the patient</a>`},
	})
	prefs, err := w.svc.NotificationPreferences(ctx, w.actor(t, practice.RoleDietician))
	require.NoError(t, err)
	assert.Contains(t, prefs, practice.Preference{Kind: practice.KindInquiry, Delivery: practice.DeliverDaily})
	assert.Contains(t, prefs, practice.Preference{Kind: practice.KindSecurity, Delivery: practice.DeliverEmail, Fixed: true}, "the refused form changed nothing")
}
