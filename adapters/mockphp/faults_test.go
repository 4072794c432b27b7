package mockphp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

func TestHTTPFaults(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 21, Patients: 3, DocsPerPatient: 2})
	url := ts.URL + "/fhir/R4/Patient"

	t.Run("5xx", func(t *testing.T) {
		require.NoError(t, srv.SetFaults(mockphp.Faults{ErrorRate: 1}))
		for range 5 {
			r := do(t, http.MethodGet, url, nil)
			assert.Contains(t, []int{500, 502, 503}, r.status)
			assert.Equal(t, "OperationOutcome", r.json(t)["resourceType"])
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		require.NoError(t, srv.SetFaults(mockphp.Faults{RateLimitRate: 1, RetryAfter: 1500 * time.Millisecond}))
		r := do(t, http.MethodGet, url, nil)
		assert.Equal(t, http.StatusTooManyRequests, r.status)
		assert.Equal(t, "2", r.header.Get("Retry-After"))
	})
	t.Run("latency per route", func(t *testing.T) {
		require.NoError(t, srv.SetFaults(mockphp.Faults{Latency: map[string]time.Duration{"search:Patient": 1500 * time.Millisecond}}))
		t0 := time.Now()
		assert.Equal(t, http.StatusOK, do(t, http.MethodGet, url, nil).status)
		assert.GreaterOrEqual(t, time.Since(t0), 1500*time.Millisecond)
		t0 = time.Now()
		assert.Equal(t, http.StatusOK, do(t, http.MethodGet, ts.URL+"/fhir/R4/DocumentReference", nil).status)
		assert.Less(t, time.Since(t0), time.Second, "other routes are not slowed")
	})
	t.Run("timeout", func(t *testing.T) {
		require.NoError(t, srv.SetFaults(mockphp.Faults{TimeoutRate: 1, Hang: 5 * time.Second}))
		c := &http.Client{Timeout: 100 * time.Millisecond}
		_, err := c.Get(url)
		require.Error(t, err)
		var ne interface{ Timeout() bool }
		assert.True(t, errors.As(err, &ne) && ne.Timeout())
	})
	t.Run("response cut mid-body", func(t *testing.T) {
		require.NoError(t, srv.SetFaults(mockphp.Faults{CutRate: 1}))
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		_, err = io.ReadAll(resp.Body)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	})
	t.Run("admin endpoint sets faults", func(t *testing.T) {
		body := []byte(`{"error_rate":1,"latency":{"*":"1ms"}}`)
		r := do(t, http.MethodPut, ts.URL+"/admin/faults", body)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		assert.Equal(t, 1.0, srv.Faults().ErrorRate)
		assert.Equal(t, time.Millisecond, srv.Faults().Latency["*"])
		assert.Equal(t, http.StatusBadRequest, do(t, http.MethodPut, ts.URL+"/admin/faults", []byte(`{"error_rate":2}`)).status)
		assert.Equal(t, http.StatusBadRequest, do(t, http.MethodPut, ts.URL+"/admin/faults", []byte(`{"nonsense":1}`)).status)
		r = do(t, http.MethodPut, ts.URL+"/admin/faults", []byte(`{}`))
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, http.StatusOK, do(t, http.MethodGet, url, nil).status)
	})
}

func TestFaultsAreDeterministic(t *testing.T) {
	statuses := func() []int {
		srv, ts := start(t, mockphp.Config{Seed: 99, Patients: 1, DocsPerPatient: 1,
			Faults: mockphp.Faults{ErrorRate: 0.3, RateLimitRate: 0.2}})
		_ = srv
		var out []int
		for range 40 {
			out = append(out, do(t, http.MethodGet, ts.URL+"/fhir/R4/metadata", nil).status)
		}
		return out
	}
	a, b := statuses(), statuses()
	assert.Equal(t, a, b)
	assert.Contains(t, a, http.StatusOK)
	assert.Contains(t, a, http.StatusTooManyRequests)
}

func TestTimestampFaults(t *testing.T) {
	clock := newClock()
	srv, _ := start(t, mockphp.Config{Seed: 22, Patients: 1, DocsPerPatient: 1, Clock: clock.Now})
	p := srv.Patients()[0].ID

	require.NoError(t, srv.SetFaults(mockphp.Faults{LastUpdatedSkew: -90 * time.Second}))
	d, err := srv.CreateDocument(p, mockphp.KindProgressNote)
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(-90*time.Second), d.LastUpdated, "skewed")

	require.NoError(t, srv.SetFaults(mockphp.Faults{}))
	served, err := srv.CreateDocument(p, mockphp.KindProgressNote)
	require.NoError(t, err)
	clock.Add(time.Second)
	require.NoError(t, srv.SetFaults(mockphp.Faults{LateCommitRate: 1, LateCommitBy: 10 * time.Second}))
	late, err := srv.CreateDocument(p, mockphp.KindProgressNote)
	require.NoError(t, err)
	assert.True(t, late.LastUpdated.Before(served.LastUpdated), "a later change carries an older timestamp")
	assert.Equal(t, clock.Now().Add(-10*time.Second), late.LastUpdated)
}

// backportEvents returns the event numbers of event notifications, in
// arrival order, and the last events-since-subscription-start seen.
func backportEvents(t testing.TB, got []received) (numbers []int, since string) {
	for _, r := range got {
		ps := parameters(t, r.json(t))
		if ps["type"] != "event-notification" {
			continue
		}
		n, _ := strconv.Atoi(ps["notification-event"].(map[string]any)["event-number"].(string))
		numbers = append(numbers, n)
		since = ps["events-since-subscription-start"].(string)
	}
	return numbers, since
}

func TestNotificationFaults(t *testing.T) {
	setup := func(t *testing.T, f mockphp.Faults) (*mockphp.Server, *receiver, string) {
		srv, _ := start(t, mockphp.Config{Seed: 23, Patients: 2, DocsPerPatient: 1, Webhooks: fastWebhooks()})
		rc := newReceiver(t, nil)
		_, err := srv.Subscribe(mockphp.Endpoint{URL: rc.url, Format: mockphp.FormatFHIRSubscription, ResourceTypes: []string{"Patient"}})
		require.NoError(t, err)
		require.NoError(t, srv.SetFaults(f))
		return srv, rc, srv.Patients()[0].ID
	}
	change := func(t *testing.T, srv *mockphp.Server, p string) {
		_, err := srv.UpdatePatient(p)
		require.NoError(t, err)
	}

	t.Run("dropped", func(t *testing.T) {
		srv, rc, p := setup(t, mockphp.Faults{DropRate: 1})
		startEmitting(t, srv)
		change(t, srv, p)
		require.NoError(t, srv.SetFaults(mockphp.Faults{}))
		change(t, srv, p)
		require.NoError(t, srv.WaitIdle(context.Background()))
		nums, since := backportEvents(t, rc.all())
		assert.Equal(t, []int{2}, nums, "event 1 never arrives")
		assert.Equal(t, "2", since, "the count reveals the gap")
	})
	t.Run("duplicated", func(t *testing.T) {
		srv, rc, p := setup(t, mockphp.Faults{DuplicateRate: 1})
		startEmitting(t, srv)
		change(t, srv, p)
		require.NoError(t, srv.WaitIdle(context.Background()))
		nums, _ := backportEvents(t, rc.all())
		assert.Equal(t, []int{1, 1}, nums)
	})
	t.Run("reordered", func(t *testing.T) {
		srv, rc, p := setup(t, mockphp.Faults{ReorderRate: 1})
		change(t, srv, p)
		change(t, srv, p)
		startEmitting(t, srv)
		require.NoError(t, srv.WaitIdle(context.Background()))
		nums, _ := backportEvents(t, rc.all())
		assert.Equal(t, []int{2, 1}, nums)
	})
	t.Run("delayed", func(t *testing.T) {
		srv, rc, p := setup(t, mockphp.Faults{DelayRate: 1, Delay: 150 * time.Millisecond})
		startEmitting(t, srv)
		rc.wait(t, 1) // handshake
		t0 := time.Now()
		change(t, srv, p)
		got := rc.wait(t, 2)
		assert.GreaterOrEqual(t, got[1].at.Sub(t0), 150*time.Millisecond)
	})
	t.Run("standard webhooks duplicate keeps the webhook-id", func(t *testing.T) {
		srv, _ := start(t, mockphp.Config{Seed: 24, Patients: 1, DocsPerPatient: 1, Webhooks: fastWebhooks(),
			Faults: mockphp.Faults{DuplicateRate: 1}})
		rc := newReceiver(t, nil)
		_, err := srv.Subscribe(mockphp.Endpoint{URL: rc.url, Format: mockphp.FormatStandardWebhooks,
			Secrets: []string{mockphp.NewWebhookSecret()}, ResourceTypes: []string{"Patient"}})
		require.NoError(t, err)
		startEmitting(t, srv)
		change(t, srv, srv.Patients()[0].ID)
		got := rc.wait(t, 2)
		assert.Equal(t, got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"))
		assert.True(t, bytes.Equal(got[0].body, got[1].body))
	})
}

func TestAdminSubscriptionsAndTouch(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 25, Patients: 3, DocsPerPatient: 2, Webhooks: fastWebhooks(), AdminToken: "s3cret"})
	auth := []string{"Authorization", "Bearer s3cret"}
	assert.Equal(t, http.StatusUnauthorized, do(t, http.MethodGet, ts.URL+"/admin/faults", nil).status)

	rc := newReceiver(t, nil)
	ep, _ := json.Marshal(mockphp.Endpoint{URL: rc.url, Format: mockphp.FormatMedplum})
	r := do(t, http.MethodPost, ts.URL+"/admin/subscriptions", ep, auth...)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	id := r.json(t)["id"].(string)
	startEmitting(t, srv)

	r = do(t, http.MethodPost, ts.URL+"/admin/touch?n=4", nil, auth...)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var changes []map[string]any
	require.NoError(t, json.Unmarshal(r.body, &changes))
	assert.GreaterOrEqual(t, len(changes), 4)
	require.NoError(t, srv.WaitIdle(context.Background()))
	assert.Len(t, rc.all(), len(changes), "every change notified")

	r = do(t, http.MethodGet, ts.URL+"/admin/subscriptions/"+id, nil, auth...)
	assert.EqualValues(t, len(changes), r.json(t)["delivered"])
	assert.Equal(t, http.StatusNoContent, do(t, http.MethodDelete, ts.URL+"/admin/subscriptions/"+id, nil, auth...).status)
	assert.Equal(t, http.StatusNotFound, do(t, http.MethodDelete, ts.URL+"/admin/subscriptions/"+id, nil, auth...).status)
}
