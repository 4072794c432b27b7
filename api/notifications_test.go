package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/practice"
)

// notifications lists the caller's notifications through the API.
func notifications(t *testing.T, h *harness, token, query string) api.NotificationList {
	t.Helper()
	res := h.do(t, request{Method: http.MethodGet, Path: "/notifications" + query, Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	return decode[api.NotificationList](t, res)
}

func ofKind(l api.NotificationList, kind api.NotificationKind) []api.Notification {
	var out []api.Notification
	for _, n := range l.Items {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// waitNotification waits until the caller has a notification of kind.
func waitNotification(t *testing.T, h *harness, token string, kind api.NotificationKind) api.Notification {
	t.Helper()
	var got []api.Notification
	require.Eventually(t, func() bool {
		got = ofKind(notifications(t, h, token, ""), kind)
		return len(got) > 0
	}, 30*time.Second, 50*time.Millisecond, "a %s notification", kind)
	return got[0]
}

// TestProviderOutageNotifies drives an outage of the provider through the
// in-memory provider's faults: the admin is alerted once, after three
// failed attempts running, however long it lasts, and told once when it
// is over; the dietician's sync goes on meanwhile and is reported done.
func TestProviderOutageNotifies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withNotifier)
	seedUser(t, h, practice.RoleAdmin, "ada@example.com", password)
	adminToken := signIn(t, h, "ada@example.com", password).AccessToken
	token, created, _ := dieticianWithPatient(t, h)

	done := waitNotification(t, h, token, api.NotificationKindSyncFinished)
	assert.Equal(t, "The sync brought 3 new lab results.", done.Body)
	assert.Equal(t, created.Patient.Id, done.Links.PatientId)
	labs := ofKind(notifications(t, h, token, ""), api.NotificationKindSignificantChange)
	require.Len(t, labs, 1, "new lab results are a significant change, one notification for the patient")
	assert.Equal(t, 3, labs[0].Count)
	assert.Equal(t, "New lab result", labs[0].Title)
	assert.Empty(t, notifications(t, h, adminToken, "").Items, "nothing for the admin while all is well")

	// An amended lab report is a significant change, with what changed.
	lab := h.php.Documents()[0]
	_, err := h.php.UpdateDocument(lab.Ref.ID, func(d *connector.Document) {
		d.Content = append(append([]byte(nil), d.Content...), []byte("\nLDL 160 mg/dL (H)\n")...)
	})
	require.NoError(t, err)
	res := h.do(t, request{Method: http.MethodPost, Path: "/patients/" + itoa(created.Patient.Id) + "/sync", Token: token})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	var amended []api.Notification
	require.Eventually(t, func() bool {
		amended = nil
		for _, n := range ofKind(notifications(t, h, token, ""), api.NotificationKindSignificantChange) {
			if n.Title == "Document amended" {
				amended = append(amended, n)
			}
		}
		return len(amended) > 0
	}, 30*time.Second, 50*time.Millisecond)
	require.Len(t, amended, 1)
	assert.Contains(t, amended[0].Body, "1 line added, 0 lines removed", "the summary of the versions' diff")
	assert.NotZero(t, amended[0].Links.DocumentId)

	// The admin's notification stream, open through the outage.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := openNotificationStream(t, ctx, h, adminToken)

	h.php.SetFaults(connectortest.Faults{ErrorRate: 1})
	res = h.do(t, request{Method: http.MethodPost, Path: "/patients/" + itoa(created.Patient.Id) + "/sync", Token: token})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	alert := waitNotification(t, h, adminToken, api.NotificationKindAlert)
	assert.Equal(t, api.NotificationSeverityError, alert.Severity)
	assert.Contains(t, alert.Body, "php failed 3 times running")
	// More failures make no more alerts.
	time.Sleep(400 * time.Millisecond)
	assert.Len(t, ofKind(notifications(t, h, adminToken, ""), api.NotificationKindAlert), 1, "one alert per outage")

	h.php.SetFaults(connectortest.Faults{})
	recovered := waitNotification(t, h, adminToken, api.NotificationKindRecovered)
	assert.Equal(t, api.NotificationSeveritySuccess, recovered.Severity)
	assert.Contains(t, recovered.Title, "php works again")
	l := notifications(t, h, adminToken, "")
	assert.Len(t, l.Items, 2, "an alert and a recovered notice, nothing more")
	assert.Equal(t, 2, l.Unread)

	// The stream told the admin of both, after the count.
	events := stream.until(t, func(evs []sseEvent) bool { return len(kinds(evs)) >= 2 })
	assert.Equal(t, "unread", events[0].event, "the count first")
	assert.Equal(t, []string{"alert", "recovered"}, kinds(events))

	// Read one, then all.
	res = h.do(t, request{Method: http.MethodPost, Path: "/notifications/" + itoa(alert.Id) + "/read", Token: adminToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	l = notifications(t, h, adminToken, "?unread=true")
	require.Len(t, l.Items, 1)
	assert.Equal(t, recovered.Id, l.Items[0].Id)
	res = h.do(t, request{Method: http.MethodPost, Path: "/notifications/read-all", Token: adminToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, 1, decode[api.MarkedRead](t, res).Marked)
	assert.Zero(t, notifications(t, h, adminToken, "").Unread)

	// Nobody reads or marks another's notification: not found.
	res = h.do(t, request{Method: http.MethodPost, Path: "/notifications/" + itoa(alert.Id) + "/read", Token: token})
	checkProblem(t, res, http.StatusNotFound)
	for _, n := range notifications(t, h, token, "").Items {
		assert.NotEqual(t, alert.Id, n.Id, "the admin's alert is not the dietician's")
	}
}

func TestNotificationPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := seedUser(t, h, practice.RoleDietician, "pat@example.com", password)
	token := signIn(t, h, "pat@example.com", password).AccessToken
	for range 5 {
		require.NoError(t, h.st.Write(context.Background(), func(tx practice.Tx) error {
			_, _, err := tx.AddNotification(context.Background(), practice.Notification{UserID: u.ID, Kind: practice.KindShared,
				Severity: practice.SeverityInfo, Title: "A document was shared with you", Delivery: practice.DeliverInApp})
			return err
		}))
	}
	first := notifications(t, h, token, "?limit=2")
	require.Len(t, first.Items, 2)
	require.NotEmpty(t, first.NextCursor)
	assert.Equal(t, 5, first.Unread)
	second := notifications(t, h, token, "?limit=2&cursor="+first.NextCursor)
	require.Len(t, second.Items, 2)
	assert.Less(t, second.Items[0].Id, first.Items[1].Id, "newest first, page after page")
	third := notifications(t, h, token, "?limit=2&cursor="+second.NextCursor)
	assert.Len(t, third.Items, 1)
	assert.Empty(t, third.NextCursor)
}

func TestNotificationPreferencesAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seedUser(t, h, practice.RoleDietician, "pat@example.com", password)
	token := signIn(t, h, "pat@example.com", password).AccessToken
	res := h.do(t, request{Method: http.MethodPut, Path: "/users/me/notification-preferences", Token: token,
		Body: map[string]any{"items": []any{map[string]any{"kind": "significant_change", "delivery": "digest_hourly"}}}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = h.do(t, request{Method: http.MethodGet, Path: "/users/me/notification-preferences", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	prefs := decode[api.NotificationPreferences](t, res)
	require.Len(t, prefs.Items, len(practice.NotificationKinds))
	for _, p := range prefs.Items {
		if p.Kind == api.NotificationKindSignificantChange {
			assert.Equal(t, api.NotificationDeliveryDigestHourly, p.Delivery)
		}
		assert.Equal(t, p.Kind == api.NotificationKindSecurity, p.Fixed)
	}
	res = h.do(t, request{Method: http.MethodPut, Path: "/users/me/notification-preferences", Token: token,
		Body: map[string]any{"items": []any{map[string]any{"kind": "security", "delivery": "off"}}}})
	p := checkProblem(t, res, http.StatusBadRequest)
	assert.Contains(t, p.Detail+strings.Join(p.fields(), " "), "delivery")
}

// sseEvent is one event of a stream.
type sseEvent struct {
	event string
	data  json.RawMessage
}

// notificationStream reads GET /notifications/events as it comes.
type notificationStream struct {
	events chan sseEvent
}

func openNotificationStream(t *testing.T, ctx context.Context, h *harness, token string) *notificationStream {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/notifications/events?wait=30", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	s := &notificationStream{events: make(chan sseEvent, 64)}
	go func() {
		defer close(s.events)
		var e sseEvent
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				e.event = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				e.data = json.RawMessage(line[len("data: "):])
			case line == "" && e.event != "":
				s.events <- e
				e = sseEvent{}
			}
		}
	}()
	return s
}

// until reads events until enough holds of them, within a bounded wait.
func (s *notificationStream) until(t *testing.T, enough func([]sseEvent) bool) []sseEvent {
	t.Helper()
	var out []sseEvent
	deadline := time.After(20 * time.Second)
	for !enough(out) {
		select {
		case e, ok := <-s.events:
			require.True(t, ok, "the stream ended after %d events", len(out))
			out = append(out, e)
		case <-deadline:
			t.Fatalf("%d events, not enough", len(out))
		}
	}
	return out
}

// kinds are the kinds of the stream's notification events.
func kinds(evs []sseEvent) []string {
	var out []string
	for _, e := range evs {
		if e.event != "notification" {
			continue
		}
		var n api.Notification
		if json.Unmarshal(e.data, &n) == nil {
			out = append(out, string(n.Kind))
		}
	}
	return out
}
