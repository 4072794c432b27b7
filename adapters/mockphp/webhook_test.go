package mockphp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

func (r received) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

// receiver is a webhook endpoint on loopback that records what it gets
// and answers with status(n) for the n-th request (from 1).
type receiver struct {
	mu     sync.Mutex
	got    []received
	status func(n int) int
	url    string
}

func newReceiver(t testing.TB, status func(n int) int) *receiver {
	rc := &receiver{status: status}
	ts := loopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Clone(), b, time.Now()})
		n := len(rc.got)
		rc.mu.Unlock()
		code := http.StatusNoContent
		if rc.status != nil {
			code = rc.status(n)
		}
		w.WriteHeader(code)
	}))
	rc.url = ts.URL + "/hook"
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) wait(t testing.TB, n int) []received {
	t.Helper()
	require.Eventually(t, func() bool { return len(rc.all()) >= n }, 5*time.Second, 5*time.Millisecond,
		"waiting for %d notifications", n)
	return rc.all()
}

// verifyStandardWebhook checks a Standard Webhooks request as a receiver
// does: some v1 signature in the header must be the HMAC-SHA256 of
// "id.timestamp.body" under the base64-decoded whsec_ secret.
func verifyStandardWebhook(h http.Header, body []byte, secret string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)))
	want := m.Sum(nil)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		v, b64, ok := strings.Cut(sig, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func startEmitting(t testing.TB, srv *mockphp.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, srv.Start(ctx))
}

func fastWebhooks() mockphp.WebhookConfig {
	return mockphp.WebhookConfig{InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Timeout: 2 * time.Second}
}

func TestStandardWebhooks(t *testing.T) {
	clock := newClock()
	srv, _ := start(t, mockphp.Config{Seed: 11, Patients: 2, DocsPerPatient: 2, Clock: clock.Now, Webhooks: fastWebhooks()})
	rc := newReceiver(t, nil)
	oldSecret, newSecret := mockphp.NewWebhookSecret(), mockphp.NewWebhookSecret()
	_, err := srv.Subscribe(mockphp.Endpoint{
		URL: rc.url, Format: mockphp.FormatStandardWebhooks, Secrets: []string{oldSecret, newSecret},
		Payload: mockphp.PayloadFullResource, ResourceTypes: []string{"DocumentReference"},
	})
	require.NoError(t, err)
	startEmitting(t, srv)

	p := srv.Patients()[0].ID
	doc, err := srv.CreateDocument(p, mockphp.KindProgressNote)
	require.NoError(t, err)
	_, err = srv.UpdateDocument(doc.ID)
	require.NoError(t, err)
	require.NoError(t, srv.DeleteDocument(doc.ID))

	got := rc.wait(t, 3)
	require.Len(t, got, 3)
	wantTypes := []string{"resource.created", "resource.updated", "resource.deleted"}
	ids := map[string]bool{}
	for i, r := range got {
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		assert.True(t, verifyStandardWebhook(r.header, r.body, oldSecret), "old secret verifies during rotation")
		assert.True(t, verifyStandardWebhook(r.header, r.body, newSecret), "new secret verifies during rotation")
		assert.False(t, verifyStandardWebhook(r.header, r.body, mockphp.NewWebhookSecret()), "a stranger's secret does not")
		assert.Len(t, strings.Fields(r.header.Get("webhook-signature")), 2)
		ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
		require.NoError(t, err)
		assert.Equal(t, clock.Now().Unix(), ts)
		ids[r.header.Get("webhook-id")] = true

		var ev mockphp.ChangeEvent
		require.NoError(t, json.Unmarshal(r.body, &ev))
		assert.Equal(t, wantTypes[i], ev.Type)
		assert.Equal(t, "DocumentReference", ev.Data.ResourceType)
		assert.Equal(t, doc.ID, ev.Data.ID)
		assert.Equal(t, strconv.Itoa(i+1), ev.Data.VersionID)
		assert.Equal(t, "Patient/"+p, ev.Data.Patient)
		_, err = time.Parse(time.RFC3339, ev.Timestamp)
		assert.NoError(t, err)
		_, err = time.Parse(time.RFC3339, ev.Data.LastUpdated)
		assert.NoError(t, err)
		if ev.Type == "resource.deleted" {
			assert.Empty(t, ev.Data.Resource)
		} else {
			assert.Contains(t, string(ev.Data.Resource), `"id":"`+doc.ID+`"`)
		}
	}
	assert.Len(t, ids, 3, "each message has its own webhook-id")

	t.Run("a tampered body fails verification", func(t *testing.T) {
		r := got[0]
		assert.False(t, verifyStandardWebhook(r.header, append([]byte(" "), r.body...), oldSecret))
	})
	t.Run("bad secrets are refused at registration", func(t *testing.T) {
		_, err := srv.Subscribe(mockphp.Endpoint{URL: rc.url, Format: mockphp.FormatStandardWebhooks, Secrets: []string{"plain"}})
		assert.Error(t, err)
		_, err = srv.Subscribe(mockphp.Endpoint{URL: "ftp://x", Format: mockphp.FormatMedplum})
		assert.Error(t, err)
	})
}

func parameters(t testing.TB, bundle map[string]any) map[string]any {
	t.Helper()
	require.Equal(t, "Bundle", bundle["resourceType"])
	require.Equal(t, "history", bundle["type"])
	first := bundle["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)
	require.Equal(t, "Parameters", first["resourceType"])
	out := map[string]any{}
	for _, p := range first["parameter"].([]any) {
		m := p.(map[string]any)
		name := m["name"].(string)
		for k, v := range m {
			if k == "valueString" || k == "valueCode" || k == "valueCanonical" {
				out[name] = v
			}
			if k == "valueReference" {
				out[name] = v.(map[string]any)["reference"]
			}
			if k == "part" {
				parts := map[string]any{}
				for _, pp := range v.([]any) {
					pm := pp.(map[string]any)
					for kk, vv := range pm {
						switch kk {
						case "valueString", "valueInstant":
							parts[pm["name"].(string)] = vv
						case "valueReference":
							parts[pm["name"].(string)] = vv.(map[string]any)["reference"]
						}
					}
				}
				out[name] = parts
			}
		}
	}
	return out
}

func TestFHIRBackport(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 12, Patients: 2, DocsPerPatient: 2, Webhooks: fastWebhooks()})
	base := ts.URL + "/fhir/R4"
	rc := newReceiver(t, nil)
	id, err := srv.Subscribe(mockphp.Endpoint{
		URL: rc.url, Format: mockphp.FormatFHIRSubscription, Payload: mockphp.PayloadFullResource,
		Header: []string{"Authorization: Bearer hook-token"}, ResourceTypes: []string{"DocumentReference"},
	})
	require.NoError(t, err)
	startEmitting(t, srv)

	hs := rc.wait(t, 1)[0]
	assert.Equal(t, "Bearer hook-token", hs.header.Get("Authorization"), "channel.header is sent")
	assert.Equal(t, "application/fhir+json", hs.header.Get("Content-Type"))
	ps := parameters(t, hs.json(t))
	assert.Equal(t, "handshake", ps["type"])
	assert.Equal(t, "0", ps["events-since-subscription-start"])
	assert.Equal(t, base+"/Subscription/"+id, ps["subscription"])
	assert.Equal(t, mockphp.TopicURL, ps["topic"])

	sub := do(t, http.MethodGet, base+"/Subscription/"+id, nil)
	assert.Equal(t, http.StatusOK, sub.status, "the Subscription resource exists")

	p := srv.Patients()[1].ID
	var docs []string
	for range 2 {
		d, err := srv.CreateDocument(p, mockphp.KindLabResult)
		require.NoError(t, err)
		docs = append(docs, d.ID)
	}
	got := rc.wait(t, 3)
	for i, r := range got[1:] {
		b := r.json(t)
		ps := parameters(t, b)
		assert.Equal(t, "event-notification", ps["type"])
		n := strconv.Itoa(i + 1)
		assert.Equal(t, n, ps["events-since-subscription-start"])
		ev := ps["notification-event"].(map[string]any)
		assert.Equal(t, n, ev["event-number"])
		assert.Equal(t, base+"/DocumentReference/"+docs[i], ev["focus"])
		es := b["entry"].([]any)
		require.Len(t, es, 2, "full-resource carries the resource")
		res := es[1].(map[string]any)["resource"].(map[string]any)
		assert.Equal(t, docs[i], res["id"])
		assert.Equal(t, "POST", es[1].(map[string]any)["request"].(map[string]any)["method"])
	}
}

func TestFHIRBackportSubscriptionResource(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 13, Patients: 1, DocsPerPatient: 1, Webhooks: fastWebhooks()})
	startEmitting(t, srv)
	rc := newReceiver(t, nil)
	sub := `{"resourceType":"Subscription","status":"requested","reason":"sync","criteria":"` + mockphp.TopicURL + `",
	  "channel":{"type":"rest-hook","endpoint":"` + rc.url + `","payload":"application/fhir+json",
	    "_payload":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content","valueCode":"id-only"}]},
	    "extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period","valueUnsignedInt":1}],
	    "header":["X-Hook: yes"]}}`
	r := do(t, http.MethodPost, ts.URL+"/fhir/R4/Subscription", []byte(sub))
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	res := r.json(t)
	assert.Equal(t, "active", res["status"])
	subID := res["id"].(string)

	hs := rc.wait(t, 1)[0]
	assert.Equal(t, "handshake", parameters(t, hs.json(t))["type"])
	assert.Equal(t, "yes", hs.header.Get("X-Hook"))

	d, err := srv.CreateDocument(srv.Patients()[0].ID, mockphp.KindProgressNote)
	require.NoError(t, err)
	require.NoError(t, srv.WaitIdle(context.Background()))
	var sawDoc bool
	for _, r := range rc.all()[1:] {
		b := r.json(t)
		ps := parameters(t, b)
		if ps["type"] != "event-notification" {
			continue
		}
		assert.Len(t, b["entry"], 1, "id-only sends the status alone")
		if ps["notification-event"].(map[string]any)["focus"] == ts.URL+"/fhir/R4/DocumentReference/"+d.ID {
			sawDoc = true
		}
	}
	assert.True(t, sawDoc)

	t.Run("heartbeat while idle", func(t *testing.T) {
		require.Eventually(t, func() bool {
			for _, r := range rc.all() {
				if parameters(t, r.json(t))["type"] == "heartbeat" {
					return true
				}
			}
			return false
		}, 3*time.Second, 20*time.Millisecond)
	})
	t.Run("deleting the Subscription stops notifications", func(t *testing.T) {
		require.Equal(t, http.StatusNoContent, do(t, http.MethodDelete, ts.URL+"/fhir/R4/Subscription/"+subID, nil).status)
		assert.Empty(t, srv.Endpoints())
	})
}

func TestMedplumWebhooks(t *testing.T) {
	srv, _ := start(t, mockphp.Config{Seed: 14, Patients: 1, DocsPerPatient: 1, Webhooks: fastWebhooks()})
	rc := newReceiver(t, nil)
	_, err := srv.Subscribe(mockphp.Endpoint{URL: rc.url, Format: mockphp.FormatMedplum, Secrets: []string{"abc"}, ResourceTypes: []string{"DocumentReference"}})
	require.NoError(t, err)
	startEmitting(t, srv)
	d, err := srv.CreateDocument(srv.Patients()[0].ID, mockphp.KindPhysicalAssessment)
	require.NoError(t, err)
	require.NoError(t, srv.DeleteDocument(d.ID))
	got := rc.wait(t, 2)
	for i, r := range got {
		m := hmac.New(sha256.New, []byte("abc"))
		m.Write(r.body)
		assert.Equal(t, hex.EncodeToString(m.Sum(nil)), r.header.Get("X-Signature"))
		res := r.json(t)
		assert.Equal(t, "DocumentReference", res["resourceType"])
		assert.Equal(t, d.ID, res["id"])
		if i == 1 {
			assert.Equal(t, "DocumentReference/"+d.ID, r.header.Get("X-Medplum-Deleted-Resource"))
		} else {
			assert.Empty(t, r.header.Get("X-Medplum-Deleted-Resource"))
		}
	}
}

func TestWebhookRetries(t *testing.T) {
	t.Run("non-2xx is retried with the same id", func(t *testing.T) {
		srv, _ := start(t, mockphp.Config{Seed: 15, Patients: 1, DocsPerPatient: 1, Webhooks: fastWebhooks()})
		rc := newReceiver(t, func(n int) int {
			if n <= 2 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		secret := mockphp.NewWebhookSecret()
		id, err := srv.Subscribe(mockphp.Endpoint{URL: rc.url, Format: mockphp.FormatStandardWebhooks, Secrets: []string{secret}, ResourceTypes: []string{"Patient"}})
		require.NoError(t, err)
		startEmitting(t, srv)
		_, err = srv.UpdatePatient(srv.Patients()[0].ID)
		require.NoError(t, err)
		require.NoError(t, srv.WaitIdle(context.Background()))
		got := rc.all()
		require.Len(t, got, 3)
		assert.Equal(t, got[0].header.Get("webhook-id"), got[2].header.Get("webhook-id"))
		for _, r := range got {
			assert.True(t, verifyStandardWebhook(r.header, r.body, secret))
		}
		st, ok := srv.Stats(id)
		require.True(t, ok)
		assert.Equal(t, mockphp.EndpointStats{Delivered: 1, Events: 1}, st)
	})
	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		wh := fastWebhooks()
		wh.MaxAttempts = 3
		srv, _ := start(t, mockphp.Config{Seed: 15, Patients: 1, DocsPerPatient: 1, Webhooks: wh})
		rc := newReceiver(t, func(int) int { return http.StatusInternalServerError })
		id, err := srv.Subscribe(mockphp.Endpoint{URL: rc.url, Format: mockphp.FormatMedplum, ResourceTypes: []string{"Patient"}})
		require.NoError(t, err)
		startEmitting(t, srv)
		_, err = srv.UpdatePatient(srv.Patients()[0].ID)
		require.NoError(t, err)
		require.NoError(t, srv.WaitIdle(context.Background()))
		assert.Len(t, rc.all(), 3)
		st, _ := srv.Stats(id)
		assert.Equal(t, uint64(1), st.Failed)
	})
}
