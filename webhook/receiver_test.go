package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/webhook"
)

func TestBadInputIsRefusedAndNothingIngested(t *testing.T) {
	body := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "Patient/p-1")
	good := func() http.Header { return signed(t, secretA, "msg_1", fixedNow, body) }
	tests := []struct {
		name    string
		method  string
		header  func() http.Header
		body    []byte
		status  int
		outcome string
	}{
		{"wrong method", http.MethodGet, good, nil, http.StatusMethodNotAllowed, "method_not_allowed"},
		{"put", http.MethodPut, good, body, http.StatusMethodNotAllowed, "method_not_allowed"},
		{"no content type", http.MethodPost, func() http.Header { h := good(); h.Del("Content-Type"); return h }, body, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"wrong content type", http.MethodPost, func() http.Header { h := good(); h.Set("Content-Type", "text/plain"); return h }, body, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"form content type", http.MethodPost, func() http.Header { h := good(); h.Set("Content-Type", "application/x-www-form-urlencoded"); return h }, body, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"garbled content type", http.MethodPost, func() http.Header { h := good(); h.Set("Content-Type", ";;;"); return h }, body, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"body over limit", http.MethodPost, func() http.Header { return signed(t, secretA, "msg_big", fixedNow, bigBody) }, bigBody, http.StatusRequestEntityTooLarge, "too_large"},
		{"no signature", http.MethodPost, func() http.Header { h := good(); h.Del(webhook.HeaderSignature); return h }, body, http.StatusUnauthorized, "unauthorized"},
		{"no id", http.MethodPost, func() http.Header { h := good(); h.Del(webhook.HeaderID); return h }, body, http.StatusUnauthorized, "unauthorized"},
		{"no timestamp", http.MethodPost, func() http.Header { h := good(); h.Del(webhook.HeaderTimestamp); return h }, body, http.StatusUnauthorized, "unauthorized"},
		{"timestamp not a number", http.MethodPost, func() http.Header { h := good(); h.Set(webhook.HeaderTimestamp, "2026-03-01T12:00:00Z"); return h }, body, http.StatusUnauthorized, "unauthorized"},
		{"bad signature", http.MethodPost, func() http.Header {
			h := good()
			h.Set(webhook.HeaderSignature, "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
			return h
		}, body, http.StatusUnauthorized, "unauthorized"},
		{"signature not base64", http.MethodPost, func() http.Header { h := good(); h.Set(webhook.HeaderSignature, "v1,!!!"); return h }, body, http.StatusUnauthorized, "unauthorized"},
		{"signature of another version", http.MethodPost, func() http.Header {
			h := good()
			h.Set(webhook.HeaderSignature, strings.Replace(h.Get(webhook.HeaderSignature), "v1,", "v2,", 1))
			return h
		}, body, http.StatusUnauthorized, "unauthorized"},
		{"signed by an unknown secret", http.MethodPost, func() http.Header { return signed(t, "whsec_b3RoZXI=", "msg_1", fixedNow, body) }, body, http.StatusUnauthorized, "unauthorized"},
		{"body altered after signing", http.MethodPost, good, append([]byte(nil), strings.Replace(string(body), "doc-1", "doc-2", 1)...), http.StatusUnauthorized, "unauthorized"},
		{"id altered after signing", http.MethodPost, func() http.Header { h := good(); h.Set(webhook.HeaderID, "msg_2"); return h }, body, http.StatusUnauthorized, "unauthorized"},
		{"timestamp too old", http.MethodPost, func() http.Header { return signed(t, secretA, "msg_1", fixedNow.Add(-5*time.Minute-time.Second), body) }, body, http.StatusUnauthorized, "stale_timestamp"},
		{"timestamp too new", http.MethodPost, func() http.Header { return signed(t, secretA, "msg_1", fixedNow.Add(5*time.Minute+time.Second), body) }, body, http.StatusUnauthorized, "stale_timestamp"},
		{"malformed json", http.MethodPost, func() http.Header { return signed(t, secretA, "msg_1", fixedNow, []byte(`{"type":`)) }, []byte(`{"type":`), http.StatusBadRequest, "malformed"},
		{"json of the wrong shape", http.MethodPost, func() http.Header { return signed(t, secretA, "msg_1", fixedNow, []byte(`[1,2]`)) }, []byte(`[1,2]`), http.StatusBadRequest, "malformed"},
		{"no type", http.MethodPost, func() http.Header { return signed(t, secretA, "msg_1", fixedNow, []byte(`{"data":{}}`)) }, []byte(`{"data":{}}`), http.StatusBadRequest, "malformed"},
		{"known type without id", http.MethodPost, func() http.Header {
			return signed(t, secretA, "msg_1", fixedNow, []byte(`{"type":"resource.updated","data":{"resourceType":"DocumentReference"}}`))
		}, []byte(`{"type":"resource.updated","data":{"resourceType":"DocumentReference"}}`), http.StatusBadRequest, "malformed"},
		{"id with a slash", http.MethodPost, func() http.Header {
			return signed(t, secretA, "msg_1", fixedNow, []byte(`{"type":"resource.updated","data":{"resourceType":"DocumentReference","id":"../Patient/1"}}`))
		}, []byte(`{"type":"resource.updated","data":{"resourceType":"DocumentReference","id":"../Patient/1"}}`), http.StatusBadRequest, "malformed"},
		{"bad timestamp in body", http.MethodPost, func() http.Header {
			return signed(t, secretA, "msg_1", fixedNow, []byte(`{"type":"resource.updated","timestamp":"yesterday","data":{"resourceType":"DocumentReference","id":"d"}}`))
		}, []byte(`{"type":"resource.updated","timestamp":"yesterday","data":{"resourceType":"DocumentReference","id":"d"}}`), http.StatusBadRequest, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := newMemIngester()
			_, srv, _ := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}, MaxBody: 1024})
			res := send(t, srv, tt.method, tt.header(), tt.body)
			assert.Equal(t, tt.status, res.Status, "body %s", res.Body)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			require.NotNil(t, res.Problem)
			assert.EqualValues(t, tt.status, res.Problem["status"])
			assert.Equal(t, http.StatusText(tt.status), res.Problem["title"])
			assert.Equal(t, "about:blank", res.Problem["type"])
			assert.Equal(t, tt.outcome, res.Problem["outcome"])
			assert.NotEmpty(t, res.Problem["detail"])
			assert.Zero(t, ing.Calls(), "nothing reaches ingest")
			if tt.status == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, res.Header.Get("Allow"))
			}
			if tt.status == http.StatusUnauthorized {
				assert.NotEmpty(t, res.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

var bigBody = []byte(`{"type":"resource.updated","data":{"resourceType":"DocumentReference","id":"d","pad":"` + strings.Repeat("x", 2048) + `"}}`)

// A body sent without Content-Length is cut off at the limit by
// http.MaxBytesReader rather than read whole.
func TestBodyOverLimitWithoutContentLength(t *testing.T) {
	ing := newMemIngester()
	_, srv, _ := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}, MaxBody: 1024})
	req, err := http.NewRequest(http.MethodPost, srv.URL, io.MultiReader(strings.NewReader(string(bigBody))))
	require.NoError(t, err)
	for k, v := range signed(t, secretA, "msg_big", fixedNow, bigBody) {
		req.Header[k] = v
	}
	require.Zero(t, req.ContentLength, "sent chunked, without a length")
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	assert.Zero(t, ing.Calls())
}

func TestStandardWebhooksNormalizesEachEventType(t *testing.T) {
	tests := []struct {
		typ, resourceType, version, patient string
		want                                connector.Change
	}{
		{webhook.EventResourceCreated, "DocumentReference", "1", "Patient/p-1",
			connector.Change{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "r-1"}, Version: "1", Patient: "p-1"}},
		{webhook.EventResourceUpdated, "DiagnosticReport", "7", "https://ehr.example/fhir/Patient/p-2",
			connector.Change{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: "DiagnosticReport", ID: "r-1"}, Version: "7", Patient: "p-2"}},
		{webhook.EventResourceDeleted, "DocumentReference", "", "p-3",
			connector.Change{Kind: connector.ChangeDelete, Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "r-1"}, Patient: "p-3"}},
		{webhook.EventResourceUpdated, "Patient", "2", "Patient/r-1",
			connector.Change{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: "Patient", ID: "r-1"}, Version: "2"}},
		{webhook.EventResourceUpdated, "Observation", "", "Group/g-1",
			connector.Change{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: "Observation", ID: "r-1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.resourceType, func(t *testing.T) {
			ing := newMemIngester()
			_, srv, _ := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}})
			body := changeBody(tt.typ, tt.resourceType, "r-1", tt.version, tt.patient)
			res := send(t, srv, http.MethodPost, signed(t, secretA, "msg_1", fixedNow, body), body)
			require.Equal(t, http.StatusAccepted, res.Status, "body %s", res.Body)
			assert.JSONEq(t, `{"id":"msg_1","outcome":"accepted","enqueued":1}`, string(res.Body))
			assert.Equal(t, []connector.Event{{ID: "msg_1", Source: "php", Action: connector.ActionWebhook, Changes: []connector.Change{tt.want}}}, ing.Events())
		})
	}
}

// Optional fields are read leniently: an empty time is unknown, extra
// members (a full resource, say) are skipped.
func TestStandardWebhooksLenientBody(t *testing.T) {
	ing := newMemIngester()
	_, srv, _ := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}})
	body := []byte(`{"type":"resource.updated","timestamp":"","data":{"resourceType":"Binary","id":"b-1","versionId":"2",
	  "lastUpdated":"","resource":{"resourceType":"Binary","id":"b-1"},"extra":[1]}}`)
	res := send(t, srv, http.MethodPost, signed(t, secretA, "msg_lenient", fixedNow, body), body)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	assert.Equal(t, []connector.Change{{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: "Binary", ID: "b-1"}, Version: "2"}}, ing.Events()[0].Changes)
}

func TestDuplicateAndUnknownTypeEnqueueNothing(t *testing.T) {
	ing := newMemIngester()
	_, srv, logs := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}})
	body := changeBody(webhook.EventResourceCreated, "DocumentReference", "doc-marker-7f3a", "1", "Patient/p-1")
	h := signed(t, secretA, "msg_dup", fixedNow, body)

	first := send(t, srv, http.MethodPost, h, body)
	assert.Equal(t, http.StatusAccepted, first.Status)
	again := send(t, srv, http.MethodPost, h, body)
	assert.Equal(t, http.StatusOK, again.Status)
	assert.JSONEq(t, `{"id":"msg_dup","outcome":"duplicate"}`, string(again.Body))
	assert.Len(t, ing.Events(), 1)

	unknown := []byte(`{"type":"resource.archived","timestamp":"2026-03-01T12:00:00Z","data":{"resourceType":"DocumentReference","id":"doc-1"}}`)
	res := send(t, srv, http.MethodPost, signed(t, secretA, "msg_unknown", fixedNow, unknown), unknown)
	assert.Equal(t, http.StatusOK, res.Status)
	assert.JSONEq(t, `{"id":"msg_unknown","outcome":"ignored"}`, string(res.Body))
	assert.Len(t, ing.Events(), 1, "an ignored event enqueues nothing")
	assert.Equal(t, 2, ing.Calls(), "an ignored event does not reach ingest")

	log := logs.String()
	assert.Contains(t, log, `"event":"msg_unknown"`)
	assert.Contains(t, log, `"outcome":"ignored"`)
	assert.Contains(t, log, `"outcome":"duplicate"`)
	assert.NotContains(t, log, "doc-marker-7f3a", "the body is never logged")
}

// funcIngester answers Ingest with a function.
type funcIngester func(context.Context, connector.Event) (connector.IngestResult, error)

func (f funcIngester) Ingest(ctx context.Context, ev connector.Event) (connector.IngestResult, error) {
	return f(ctx, ev)
}

func TestIngestErrors(t *testing.T) {
	body := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"refused event", fmt.Errorf("%w: unknown source", connector.ErrInvalid), http.StatusBadRequest, ""},
		{"store down", errors.New("database is locked"), http.StatusServiceUnavailable, "5"},
		{"store asks for a delay", connector.RetryAfter(1500*time.Millisecond, errors.New("pool exhausted")), http.StatusServiceUnavailable, "2"},
		{"deadline", context.DeadlineExceeded, http.StatusServiceUnavailable, "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := funcIngester(func(context.Context, connector.Event) (connector.IngestResult, error) {
				return connector.IngestResult{}, tt.err
			})
			_, srv, logs := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}})
			res := send(t, srv, http.MethodPost, signed(t, secretA, "msg_1", fixedNow, body), body)
			assert.Equal(t, tt.status, res.Status)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			assert.Equal(t, tt.retryAfter, res.Header.Get("Retry-After"))
			if tt.status == http.StatusServiceUnavailable {
				assert.NotContains(t, string(res.Body), tt.err.Error(), "the store's error stays in our log")
				assert.Contains(t, logs.String(), `"outcome":"unavailable"`)
			}
		})
	}
}

// Crash safety: a store that fails after the body was read and verified
// answers 503 and keeps nothing; the sender's retry then lands exactly once.
func TestStoreFailureIsRetriedWithoutHalfWrites(t *testing.T) {
	ing := newMemIngester()
	_, srv, _ := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}, RetryAfter: 30 * time.Second})
	body := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "Patient/p-1")
	h := signed(t, secretA, "msg_crash", fixedNow, body)

	ing.SetFail(errors.New("disk I/O error"))
	res := send(t, srv, http.MethodPost, h, body)
	assert.Equal(t, http.StatusServiceUnavailable, res.Status)
	assert.Equal(t, "30", res.Header.Get("Retry-After"))
	assert.Equal(t, 1, ing.Calls(), "the body was read, verified and handed to ingest")
	assert.Empty(t, ing.Events(), "nothing half-written")

	ing.SetFail(nil)
	assert.Equal(t, http.StatusAccepted, send(t, srv, http.MethodPost, h, body).Status)
	assert.Equal(t, http.StatusOK, send(t, srv, http.MethodPost, h, body).Status)
	assert.Len(t, ing.Events(), 1)
}

func TestConcurrentDuplicatesIngestOnce(t *testing.T) {
	ing := newMemIngester()
	_, srv, _ := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}})
	body := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	h := signed(t, secretA, "msg_race", fixedNow, body)
	var wg sync.WaitGroup
	statuses := make([]int, 16)
	for i := range statuses {
		wg.Go(func() { statuses[i] = send(t, srv, http.MethodPost, h, body).Status })
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	assert.Equal(t, map[int]int{http.StatusAccepted: 1, http.StatusOK: 15}, counts)
	assert.Len(t, ing.Events(), 1)
}

func TestMetricsCountOutcomes(t *testing.T) {
	reg := prometheus.NewRegistry()
	ing := newMemIngester()
	_, srv, _ := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}, Metrics: reg})
	// A second receiver on the same registry shares the collectors.
	_, srv2, _ := newReceiver(t, ing, webhook.Config{Source: "medplum", Format: webhook.FormatMedplum, Secrets: []string{"abc"}, Metrics: reg})

	body := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	h := signed(t, secretA, "msg_m", fixedNow, body)
	send(t, srv, http.MethodPost, h, body)
	send(t, srv, http.MethodPost, h, body)
	bad := h.Clone()
	bad.Set(webhook.HeaderSignature, "v1,AAAA")
	send(t, srv, http.MethodPost, bad, body)
	send(t, srv2, http.MethodPost, http.Header{"Content-Type": {"application/fhir+json"}}, []byte(`{}`))

	count := func(source, format, outcome string) float64 {
		return metricValue(t, reg, "webhook_requests_total", map[string]string{"source": source, "format": format, "outcome": outcome})
	}
	assert.Equal(t, 1.0, count("php", "standard-webhooks", "accepted"))
	assert.Equal(t, 1.0, count("php", "standard-webhooks", "duplicate"))
	assert.Equal(t, 1.0, count("php", "standard-webhooks", "unauthorized"))
	assert.Equal(t, 1.0, count("medplum", "medplum", "unauthorized"))

	n, err := testutil.GatherAndCount(reg, "webhook_request_duration_seconds")
	require.NoError(t, err)
	assert.Equal(t, 4, n, "one latency series per source, format and outcome")
}

// metricValue gathers reg and returns the counter or gauge name with the
// labels.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metrics
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestNewRefusesBadConfig(t *testing.T) {
	ing := newMemIngester()
	tests := []struct {
		name string
		ing  webhook.Ingester
		cfg  webhook.Config
	}{
		{"no ingester", nil, webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}}},
		{"no source", ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}}},
		{"no secret", ing, webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks}},
		{"empty secret", ing, webhook.Config{Source: "php", Format: webhook.FormatMedplum, Secrets: []string{""}}},
		{"secret not base64", ing, webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks, Secrets: []string{"whsec_%%%"}}},
		{"unknown format", ing, webhook.Config{Source: "php", Format: "soap", Secrets: []string{secretA}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.New(tt.ing, tt.cfg)
			assert.Error(t, err)
		})
	}
}

func TestBySourceRoutesOnThePathWildcard(t *testing.T) {
	ing := newMemIngester()
	php, err := webhook.New(ing, webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	med, err := webhook.New(ing, webhook.Config{Source: "medplum", Format: webhook.FormatMedplum, Secrets: []string{"abc"}})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/{source}", webhook.BySource(php, med))
	srv := newLoopbackServer(t, mux)

	body := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	res := send(t, srv, http.MethodPost, signed(t, secretA, "msg_route", fixedNow, body), body) // posts to /webhooks/php
	assert.Equal(t, http.StatusAccepted, res.Status)

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/nobody", strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	r, err := srv.Client().Do(req)
	require.NoError(t, err)
	r.Body.Close()
	assert.Equal(t, http.StatusNotFound, r.StatusCode)
	assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))

	assert.Panics(t, func() { webhook.BySource(php, php) })
}
