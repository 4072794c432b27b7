package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/webhook"
)

const (
	admissionSub = "https://example.org/fhir/Subscription/admission"
	encounterID  = "86009987-eabe-42bf-8c02-b112b18cb616"
	patientUUID  = "1599eb66-431a-447c-a3de-6897fe9ae9a1"
	bearer       = "Bearer s3cr3t-token"
	// fixtureEventAt is the fixtures' event timestamp
	// (2020-05-29T11:44:13.1882432-05:00) in UTC, as event ids carry it.
	fixtureEventAt = "2020-05-29T16:44:13.1882432Z"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fhir-subscriptions", name))
	require.NoError(t, err)
	return b
}

func fhirHeader() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/fhir+json; charset=utf-8")
	h.Set("Authorization", bearer)
	return h
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func fhirReceiver(t *testing.T, ing webhook.Ingester, cfg webhook.Config) (*webhook.Receiver, func(body []byte) response) {
	t.Helper()
	cfg.Format = webhook.FormatFHIRSubscription
	if cfg.Secrets == nil {
		cfg.Secrets = []string{bearer}
	}
	r, srv, _ := newReceiver(t, ing, cfg)
	return r, func(body []byte) response { return send(t, srv, http.MethodPost, fhirHeader(), body) }
}

// The Backport IG's example notifications normalize to the expected Changes.
func TestBackportExamplesNormalize(t *testing.T) {
	encounter := connector.Ref{System: "php", Type: "Encounter", ID: encounterID}
	tests := []struct {
		file    string
		status  int
		outcome string
		want    []connector.Event
	}{
		{"r4-notification-handshake.json", http.StatusOK, "handshake", nil},
		{"r4-notification-heartbeat.json", http.StatusOK, "heartbeat", nil},
		{"r4-notification-id-only.json", http.StatusAccepted, "accepted", []connector.Event{{
			ID: admissionSub + "#2@" + fixtureEventAt, Source: "php", Action: connector.ActionWebhook,
			Changes: []connector.Change{{Kind: connector.ChangeHint, Ref: encounter}},
		}}},
		{"r4-notification-full-resource.json", http.StatusAccepted, "accepted", []connector.Event{{
			ID: admissionSub + "#2@" + fixtureEventAt, Source: "php", Action: connector.ActionWebhook,
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: encounter, Patient: patientUUID}},
		}}},
		{"r4b-notification-id-only.json", http.StatusAccepted, "accepted", []connector.Event{{
			ID: admissionSub + "#2@" + fixtureEventAt, Source: "php", Action: connector.ActionWebhook,
			Changes: []connector.Change{{Kind: connector.ChangeHint, Ref: encounter}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ing := newMemIngester()
			_, post := fhirReceiver(t, ing, webhook.Config{})
			res := post(fixture(t, tt.file))
			require.Equal(t, tt.status, res.Status, "body %s", res.Body)
			var got map[string]any
			require.NoError(t, json.Unmarshal(res.Body, &got))
			assert.Equal(t, tt.outcome, got["outcome"])
			assert.Equal(t, tt.want, ing.Events())
		})
	}
}

// r4Notification builds an R4 Backport notification Bundle: the status
// Parameters, then for full resources one entry per focus.
func r4Notification(typ, status string, since int64, full bool, events ...int64) []byte {
	return r4NotificationAt(time.Time{}, typ, status, since, full, events...)
}

// r4NotificationAt is r4Notification from a server whose numbering started
// at start: event n happened n seconds later, as its timestamp says, and
// the Bundle is stamped at start too. The zero start leaves out every
// timestamp.
func r4NotificationAt(start time.Time, typ, status string, since int64, full bool, events ...int64) []byte {
	params := []any{
		map[string]any{"name": "subscription", "valueReference": map[string]any{"reference": admissionSub}},
		map[string]any{"name": "topic", "valueCanonical": "http://hl7.org/SubscriptionTopic/admission"},
		map[string]any{"name": "status", "valueCode": status},
		map[string]any{"name": "type", "valueCode": typ},
		map[string]any{"name": "events-since-subscription-start", "valueString": strconv.FormatInt(since, 10)},
	}
	entries := []any{map[string]any{
		"fullUrl":  "urn:uuid:status",
		"resource": map[string]any{"resourceType": "Parameters", "parameter": &params},
	}}
	for _, n := range events {
		focus := fmt.Sprintf("https://example.org/fhir/DocumentReference/doc-%d", n)
		parts := []any{map[string]any{"name": "event-number", "valueString": strconv.FormatInt(n, 10)}}
		if !start.IsZero() {
			at := start.Add(time.Duration(n) * time.Second).Format(time.RFC3339Nano)
			parts = append(parts, map[string]any{"name": "timestamp", "valueInstant": at})
		}
		parts = append(parts, map[string]any{"name": "focus", "valueReference": map[string]any{"reference": focus}})
		params = append(params, map[string]any{"name": "notification-event", "part": parts})
		if full {
			entries = append(entries, map[string]any{
				"fullUrl": focus,
				"resource": map[string]any{
					"resourceType": "DocumentReference", "id": fmt.Sprintf("doc-%d", n),
					"meta":    map[string]any{"versionId": "4"},
					"subject": map[string]any{"reference": "Patient/p-9"},
				},
			})
		}
	}
	bundle := map[string]any{"resourceType": "Bundle", "type": "history", "entry": entries}
	if !start.IsZero() {
		bundle["timestamp"] = start.Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(bundle)
	if err != nil {
		panic(err)
	}
	return b
}

func docHint(n int) connector.Change {
	return connector.Change{Kind: connector.ChangeHint, Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: fmt.Sprintf("doc-%d", n)}}
}

// A gap in events-since-subscription-start asks for a reconcile of the
// source, in the same event as the changes that revealed it.
func TestEventGapTriggersReconcile(t *testing.T) {
	ing := newMemIngester()
	_, post := fhirReceiver(t, ing, webhook.Config{})

	steps := []struct {
		name      string
		body      []byte
		status    int
		id        string
		changes   []connector.Change
		reconcile bool
	}{
		{"handshake", r4Notification("handshake", "requested", 0, false), http.StatusOK, "", nil, false},
		{"event 1 follows", r4Notification("event-notification", "active", 1, false, 1), http.StatusAccepted, "#1", []connector.Change{docHint(1)}, false},
		{"event 3 skips 2", r4Notification("event-notification", "active", 3, false, 3), http.StatusAccepted, "#3", []connector.Change{docHint(3)}, true},
		{"event 2 arrives late", r4Notification("event-notification", "active", 3, false, 2), http.StatusAccepted, "#2", []connector.Change{docHint(2)}, false},
		{"event 3 resent", r4Notification("event-notification", "active", 3, false, 3), http.StatusOK, "", nil, false},
		{"events 4 and 5 together", r4Notification("event-notification", "active", 5, false, 4, 5), http.StatusAccepted, "#4,5", []connector.Change{docHint(4), docHint(5)}, false},
		{"heartbeat, nothing missed", r4Notification("heartbeat", "active", 5, false), http.StatusOK, "", nil, false},
		{"heartbeat shows events 6-7 missed", r4Notification("heartbeat", "active", 7, false), http.StatusAccepted, "#gap@7", nil, true},
		{"same heartbeat resent", r4Notification("heartbeat", "active", 7, false), http.StatusOK, "", nil, false},
		{"subscription in error", r4Notification("heartbeat", "error", 7, false), http.StatusAccepted, "#error@7", nil, true},
	}
	count := 0
	for _, s := range steps {
		res := post(s.body)
		require.Equal(t, s.status, res.Status, "%s: %s", s.name, res.Body)
		if s.status != http.StatusAccepted {
			require.Len(t, ing.Events(), count, s.name)
			continue
		}
		count++
		evs := ing.Events()
		require.Len(t, evs, count, s.name)
		got := evs[count-1]
		assert.Equal(t, admissionSub+s.id, got.ID, s.name)
		assert.Equal(t, s.changes, got.Changes, s.name)
		assert.Equal(t, s.reconcile, got.Reconcile, s.name)
	}
}

// After a new handshake the server numbers its events from 1 again. Event
// 1 of the new numbering is a new event, to a receiver that saw the
// handshake and to one (another replica) that did not; a resend of it is
// still a duplicate, and a gap within the new numbering still asks for a
// reconcile, as does a heartbeat that shows one at a count the previous
// numbering had a gap at too.
func TestSubscriptionRestartIsANewNumbering(t *testing.T) {
	first := time.Date(2026, 2, 27, 8, 0, 0, 0, time.FixedZone("EST", -5*3600))
	second := first.Add(26 * time.Hour)
	ing := newMemIngester()
	_, post := fhirReceiver(t, ing, webhook.Config{})
	_, postOther := fhirReceiver(t, ing, webhook.Config{}) // misses the second handshake

	steps := []struct {
		name      string
		post      func([]byte) response
		body      []byte
		status    int
		reconcile bool
	}{
		{"handshake", post, r4NotificationAt(first, "handshake", "requested", 0, false), http.StatusOK, false},
		{"event 1", post, r4NotificationAt(first, "event-notification", "active", 1, false, 1), http.StatusAccepted, false},
		{"event 2", post, r4NotificationAt(first, "event-notification", "active", 2, false, 2), http.StatusAccepted, false},
		{"event 2 resent to the other", postOther, r4NotificationAt(first, "event-notification", "active", 2, false, 2), http.StatusOK, false},
		{"event 3", post, r4NotificationAt(first, "event-notification", "active", 3, false, 3), http.StatusAccepted, false},
		{"heartbeat shows 4-6 missed", post, r4NotificationAt(first.Add(time.Hour), "heartbeat", "active", 6, false), http.StatusAccepted, true},
		{"new handshake", post, r4NotificationAt(second, "handshake", "requested", 0, false), http.StatusOK, false},
		{"new event 1", post, r4NotificationAt(second, "event-notification", "active", 1, false, 1), http.StatusAccepted, false},
		{"new event 1 resent", post, r4NotificationAt(second, "event-notification", "active", 1, false, 1), http.StatusOK, false},
		{"new event 2 to the other", postOther, r4NotificationAt(second, "event-notification", "active", 2, false, 2), http.StatusAccepted, false},
		{"new event 2 resent to the first", post, r4NotificationAt(second, "event-notification", "active", 2, false, 2), http.StatusOK, false},
		{"new event 4 skips 3", post, r4NotificationAt(second, "event-notification", "active", 4, false, 4), http.StatusAccepted, true},
		{"heartbeat shows 5-6 missed", post, r4NotificationAt(second.Add(time.Hour), "heartbeat", "active", 6, false), http.StatusAccepted, true},
		{"subscription in error", post, r4NotificationAt(second.Add(2*time.Hour), "heartbeat", "error", 6, false), http.StatusAccepted, true},
		{"still in error, next heartbeat", post, r4NotificationAt(second.Add(3*time.Hour), "heartbeat", "error", 6, false), http.StatusOK, false},
	}
	count := 0
	for _, s := range steps {
		res := s.post(s.body)
		require.Equal(t, s.status, res.Status, "%s: %s", s.name, res.Body)
		if s.status != http.StatusAccepted {
			assert.Len(t, ing.Events(), count, s.name)
			continue
		}
		count++
		evs := ing.Events()
		require.Len(t, evs, count, s.name)
		assert.Equal(t, s.reconcile, evs[count-1].Reconcile, s.name)
	}
	evs := ing.Events()
	require.Len(t, evs, 9)
	assert.Equal(t, []connector.Change{docHint(1)}, evs[4].Changes, "the new event 1 is ingested for its focus")
	assert.NotEqual(t, evs[0].ID, evs[4].ID, "event 1 of each numbering has its own id")
	assert.NotEqual(t, evs[3].ID, evs[7].ID, "each numbering's gap at 6 has its own id")
}

func TestFullResourceNotifications(t *testing.T) {
	ing := newMemIngester()
	_, post := fhirReceiver(t, ing, webhook.Config{})
	res := post(r4Notification("event-notification", "active", 2, true, 1, 2))
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	want := []connector.Change{
		{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "doc-1"}, Version: "4", Patient: "p-9"},
		{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "doc-2"}, Version: "4", Patient: "p-9"},
	}
	assert.Equal(t, want, ing.Events()[0].Changes)

	// A deleted focus: the entry carries a DELETE request and no resource.
	deleted := []byte(`{"resourceType":"Bundle","type":"history","entry":[
	  {"resource":{"resourceType":"Parameters","parameter":[
	    {"name":"subscription","valueReference":{"reference":"Subscription/s1"}},
	    {"name":"type","valueCode":"event-notification"},
	    {"name":"notification-event","part":[{"name":"event-number","valueString":"9"},
	      {"name":"focus","valueReference":{"reference":"DocumentReference/doc-1/_history/5"}}]}]}},
	  {"fullUrl":"DocumentReference/doc-1","request":{"method":"DELETE","url":"DocumentReference/doc-1"},"response":{"status":"204"}}]}`)
	res = post(deleted)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	ev := ing.Events()[1]
	assert.Equal(t, "Subscription/s1#9", ev.ID)
	assert.Equal(t, []connector.Change{{Kind: connector.ChangeDelete, Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "doc-1"}, Version: "5"}}, ev.Changes)

	// A focus that cannot be told (an unresolved urn:uuid) reconciles.
	unknown := []byte(`{"resourceType":"Bundle","type":"history","entry":[
	  {"resource":{"resourceType":"Parameters","parameter":[
	    {"name":"subscription","valueReference":{"reference":"Subscription/s1"}},
	    {"name":"type","valueCode":"event-notification"},
	    {"name":"notification-event","part":[{"name":"event-number","valueString":"10"},
	      {"name":"focus","valueReference":{"reference":"urn:uuid:0b5c8a32-0000-4000-8000-000000000000"}}]}]}}]}`)
	res = post(unknown)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	ev = ing.Events()[2]
	assert.Empty(t, ev.Changes)
	assert.True(t, ev.Reconcile)
}

// With "empty" content the notification names no focus: the source is
// reconciled instead.
func TestEmptyContentReconciles(t *testing.T) {
	ing := newMemIngester()
	_, post := fhirReceiver(t, ing, webhook.Config{})
	body := []byte(`{"resourceType":"Bundle","type":"history","entry":[{"resource":{"resourceType":"Parameters","parameter":[
	  {"name":"subscription","valueReference":{"reference":"Subscription/s1"}},
	  {"name":"type","valueCode":"event-notification"},
	  {"name":"events-since-subscription-start","valueString":"1"},
	  {"name":"notification-event","part":[{"name":"event-number","valueString":"1"}]}]}}]}`)
	res := post(body)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	require.Len(t, ing.Events(), 1)
	assert.Equal(t, connector.Event{ID: "Subscription/s1#1", Source: "php", Action: connector.ActionWebhook, Reconcile: true}, ing.Events()[0])
}

// A subscription silent for more than two heartbeat periods has missed a
// heartbeat: CheckHeartbeats reconciles the source, once per silence.
func TestMissedHeartbeatTriggersReconcile(t *testing.T) {
	clk := &clock{t: fixedNow}
	ing := newMemIngester()
	r, post := fhirReceiver(t, ing, webhook.Config{HeartbeatPeriod: time.Minute, Now: clk.Now})
	ctx := context.Background()

	require.Equal(t, http.StatusOK, post(r4Notification("heartbeat", "active", 0, false)).Status)
	heard := clk.Now()

	clk.Advance(2 * time.Minute) // exactly two periods: not yet missed
	require.NoError(t, r.CheckHeartbeats(ctx))
	assert.Empty(t, ing.Events())

	clk.Advance(time.Second)
	require.NoError(t, r.CheckHeartbeats(ctx))
	require.Len(t, ing.Events(), 1)
	ev := ing.Events()[0]
	assert.Equal(t, fmt.Sprintf("%s#silent-since@%d", admissionSub, heard.UnixNano()), ev.ID)
	assert.True(t, ev.Reconcile)
	assert.Empty(t, ev.Changes)
	assert.Equal(t, "php", ev.Source)

	clk.Advance(time.Hour)
	require.NoError(t, r.CheckHeartbeats(ctx))
	assert.Len(t, ing.Events(), 1, "one silence, one reconcile")

	// The late heartbeat was already accounted for.
	require.Equal(t, http.StatusOK, post(r4Notification("heartbeat", "active", 0, false)).Status)
	assert.Len(t, ing.Events(), 1)

	// A notification that arrives after a silence nobody checked carries
	// the reconcile itself.
	clk.Advance(3 * time.Minute)
	res := post(r4Notification("event-notification", "active", 1, false, 1))
	require.Equal(t, http.StatusAccepted, res.Status)
	require.Len(t, ing.Events(), 2)
	assert.True(t, ing.Events()[1].Reconcile)
	assert.Equal(t, []connector.Change{docHint(1)}, ing.Events()[1].Changes)
	require.NoError(t, r.CheckHeartbeats(ctx))
	assert.Len(t, ing.Events(), 2)
}

func TestMissedHeartbeatStoreDownIsRetried(t *testing.T) {
	clk := &clock{t: fixedNow}
	ing := newMemIngester()
	r, post := fhirReceiver(t, ing, webhook.Config{HeartbeatPeriod: time.Minute, Now: clk.Now})
	require.Equal(t, http.StatusOK, post(r4Notification("heartbeat", "active", 0, false)).Status)
	clk.Advance(5 * time.Minute)

	ing.SetFail(fmt.Errorf("database is locked"))
	assert.Error(t, r.CheckHeartbeats(context.Background()))
	ing.SetFail(nil)
	require.NoError(t, r.CheckHeartbeats(context.Background()))
	assert.Len(t, ing.Events(), 1)
}

func TestRunChecksHeartbeatsUntilCancelled(t *testing.T) {
	clk := &clock{t: fixedNow}
	ing := newMemIngester()
	r, post := fhirReceiver(t, ing, webhook.Config{HeartbeatPeriod: 20 * time.Millisecond, Now: clk.Now})
	require.Equal(t, http.StatusOK, post(r4Notification("heartbeat", "active", 0, false)).Status)
	clk.Advance(time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	require.Eventually(t, func() bool { return len(ing.Events()) == 1 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}

	// Nothing to watch: Run returns at once.
	std, err := webhook.New(ing, webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}})
	require.NoError(t, err)
	assert.NoError(t, std.Run(context.Background()))
}

func TestFHIRAuthentication(t *testing.T) {
	body := fixture(t, "r4-notification-id-only.json")
	tests := []struct {
		name    string
		cfg     webhook.Config
		header  http.Header
		status  int
		outcome string
	}{
		{"no header", webhook.Config{}, http.Header{}, http.StatusUnauthorized, "unauthorized"},
		{"wrong token", webhook.Config{}, http.Header{"Authorization": {"Bearer nope"}}, http.StatusUnauthorized, "unauthorized"},
		{"token prefix only", webhook.Config{}, http.Header{"Authorization": {"Bearer s3cr3t"}}, http.StatusUnauthorized, "unauthorized"},
		{"header twice", webhook.Config{}, http.Header{"Authorization": {bearer, "Bearer nope"}}, http.StatusUnauthorized, "unauthorized"},
		{"right token", webhook.Config{}, http.Header{"Authorization": {bearer}}, http.StatusAccepted, "accepted"},
		{"rotated token", webhook.Config{Secrets: []string{"Bearer old", bearer}}, http.Header{"Authorization": {"Bearer old"}}, http.StatusAccepted, "accepted"},
		{"custom header", webhook.Config{Header: "X-Api-Key", Secrets: []string{"k-1"}}, http.Header{"X-Api-Key": {"k-1"}}, http.StatusAccepted, "accepted"},
		{"custom header, value in Authorization", webhook.Config{Header: "X-Api-Key", Secrets: []string{"k-1"}}, http.Header{"Authorization": {"k-1"}}, http.StatusUnauthorized, "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := newMemIngester()
			cfg := tt.cfg
			cfg.Format = webhook.FormatFHIRSubscription
			if cfg.Secrets == nil {
				cfg.Secrets = []string{bearer}
			}
			_, srv, _ := newReceiver(t, ing, cfg)
			h := tt.header.Clone()
			h.Set("Content-Type", "application/fhir+json")
			res := send(t, srv, http.MethodPost, h, body)
			assert.Equal(t, tt.status, res.Status)
			if tt.status == http.StatusUnauthorized {
				assert.Equal(t, tt.outcome, res.Problem["outcome"])
				assert.Zero(t, ing.Calls())
			}
		})
	}
}

func TestMalformedNotifications(t *testing.T) {
	tests := map[string]string{
		"not json":                    `{"resourceType":`,
		"not a bundle":                `{"resourceType":"Patient","id":"p"}`,
		"no entries":                  `{"resourceType":"Bundle","type":"history"}`,
		"first entry not a status":    `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","id":"o"}}]}`,
		"no subscription":             `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Parameters","parameter":[{"name":"type","valueCode":"heartbeat"}]}}]}`,
		"no type":                     `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Parameters","parameter":[{"name":"subscription","valueReference":{"reference":"Subscription/s"}}]}}]}`,
		"event number not a number":   `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Parameters","parameter":[{"name":"subscription","valueReference":{"reference":"Subscription/s"}},{"name":"type","valueCode":"event-notification"},{"name":"notification-event","part":[{"name":"event-number","valueString":"two"}]}]}}]}`,
		"negative events since start": `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Parameters","parameter":[{"name":"subscription","valueReference":{"reference":"Subscription/s"}},{"name":"type","valueCode":"heartbeat"},{"name":"events-since-subscription-start","valueString":"-1"}]}}]}`,
		"R4B status with bad number":  `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"SubscriptionStatus","type":"heartbeat","subscription":{"reference":"Subscription/s"},"eventsSinceSubscriptionStart":"x"}}]}`,
		"parameter of the wrong type": `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Parameters","parameter":{"name":"type"}}}]}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			ing := newMemIngester()
			_, post := fhirReceiver(t, ing, webhook.Config{})
			res := post([]byte(body))
			assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
			assert.Equal(t, "malformed", res.Problem["outcome"])
			assert.Zero(t, ing.Calls())
		})
	}
}

func TestOtherNotificationTypesAreIgnored(t *testing.T) {
	ing := newMemIngester()
	_, post := fhirReceiver(t, ing, webhook.Config{})
	for _, typ := range []string{"query-status", "query-event", "something-new"} {
		res := post(r4Notification(typ, "active", 4, false))
		assert.Equal(t, http.StatusOK, res.Status)
		assert.JSONEq(t, `{"id":"`+admissionSub+`#since@4","outcome":"ignored"}`, string(res.Body))
	}
	assert.Zero(t, ing.Calls())
}
