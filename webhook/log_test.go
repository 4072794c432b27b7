package webhook_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/webhook"
)

// captureHandler is a slog.Handler that keeps every record with all its
// attributes, those added by Logger.With included.
type captureHandler struct {
	mu      *sync.Mutex
	records *[]map[string]string
	attrs   []slog.Attr
}

func newCaptureHandler() *captureHandler {
	return &captureHandler{mu: &sync.Mutex{}, records: &[]map[string]string{}}
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	rec := map[string]string{"msg": r.Message}
	for _, a := range h.attrs {
		rec[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.records = append(*h.records, rec)
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

// Records returns the records kept so far.
func (h *captureHandler) Records() []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]string(nil), *h.records...)
}

// A log entry costs the same whatever the sender sends: unverified header
// values are never logged, verified ids are cut short, and every value is
// bounded.
func TestLogsAreBoundedAndCarryOnlyVerifiedValues(t *testing.T) {
	const marker = "zq7marker"
	huge := marker + strings.Repeat("x", 64<<10)
	longID := "msg_" + strings.Repeat("l", 200) // verified, but long
	std := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	medDelete := []byte(`{}`)
	hugeSub := `{"resourceType":"Bundle","type":"history","entry":[{"resource":{"resourceType":"Parameters","parameter":[` +
		`{"name":"subscription","valueReference":{"reference":"Subscription/` + strings.Repeat("s", 4096) + `"}},` +
		`{"name":"type","valueCode":"heartbeat"},{"name":"events-since-subscription-start","valueString":"0"}]}}]}`

	tests := []struct {
		name   string
		cfg    webhook.Config
		header http.Header
		body   []byte
		status int
		// event is the event id logged: "" for none.
		event string
	}{
		{"unverified huge id, bad signature", webhook.Config{}, func() http.Header {
			h := signed(t, secretA, "msg_1", fixedNow, std)
			h.Set(webhook.HeaderID, huge)
			return h
		}(), std, http.StatusUnauthorized, ""},
		{"unverified id, bad signature", webhook.Config{}, func() http.Header {
			h := signed(t, secretA, "msg_1", fixedNow, std)
			h.Set(webhook.HeaderID, marker)
			return h
		}(), std, http.StatusUnauthorized, ""},
		{"huge id signed correctly", webhook.Config{}, signed(t, secretA, huge, fixedNow, std), std, http.StatusUnauthorized, ""},
		{"long id signed correctly", webhook.Config{}, signed(t, secretA, longID, fixedNow, std), std, http.StatusAccepted, longID[:64] + "…"},
		{"huge content type", webhook.Config{}, func() http.Header {
			h := signed(t, secretA, "msg_ct", fixedNow, std)
			h.Set("Content-Type", "application/"+huge)
			return h
		}(), std, http.StatusUnsupportedMediaType, ""},
		{"huge unsigned medplum header", webhook.Config{Source: "medplum", Format: webhook.FormatMedplum, Secrets: []string{medplumSecret}}, func() http.Header {
			h := medplumHeader(medplumSecret, "sub", medDelete)
			h.Set(webhook.HeaderMedplumDeleted, huge)
			return h
		}(), medDelete, http.StatusBadRequest, ""},
		{"huge fhir token", webhook.Config{Format: webhook.FormatFHIRSubscription, Secrets: []string{bearer}}, http.Header{
			"Content-Type": {"application/fhir+json"}, "Authorization": {"Bearer " + huge},
		}, []byte(hugeSub), http.StatusUnauthorized, ""},
		{"huge subscription reference", webhook.Config{Format: webhook.FormatFHIRSubscription, Secrets: []string{bearer}}, http.Header{
			"Content-Type": {"application/fhir+json"}, "Authorization": {bearer},
		}, []byte(hugeSub), http.StatusOK, "Subscription/" + strings.Repeat("s", 64-len("Subscription/")) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newCaptureHandler()
			cfg := tt.cfg
			cfg.Logger = slog.New(h)
			if cfg.Format == "" {
				cfg.Format, cfg.Secrets = webhook.FormatStandardWebhooks, []string{secretA}
			}
			_, srv, _ := newReceiver(t, newMemIngester(), cfg)
			res := send(t, srv, http.MethodPost, tt.header, tt.body)
			require.Equal(t, tt.status, res.Status, "%s", res.Body)

			recs := h.Records()
			require.Len(t, recs, 1, "one entry per request")
			rec := recs[0]
			assert.Equal(t, tt.event, rec["event"], "the event id logged")
			total := 0
			for k, v := range rec {
				total += len(k) + len(v)
				assert.LessOrEqual(t, len(v), 512+len("…"), "attribute %s is bounded", k)
				assert.NotContains(t, v, marker, "attribute %s carries an unverified value", k)
			}
			assert.Less(t, total, 1024, "the entry is small: %v", rec)
			// The answer does not echo what was not verified either.
			assert.NotContains(t, string(res.Body), marker)
			assert.Less(t, len(res.Body), 1024)
		})
	}
}

// Many requests with huge unverified ids make a log no larger than as
// many ordinary refusals.
func TestLogGrowthDoesNotDependOnTheRequest(t *testing.T) {
	sizeOf := func(id string) int {
		logs := &logBuffer{}
		_, srv, _ := newReceiver(t, newMemIngester(), webhook.Config{
			Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA},
			Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		})
		for i := range 5 {
			h := signed(t, secretA, "msg", fixedNow, []byte(`{}`))
			h.Set(webhook.HeaderID, fmt.Sprintf("%s%d", id, i))
			send(t, srv, http.MethodPost, h, []byte(`{}`))
		}
		return len(logs.String())
	}
	small, big := sizeOf("m"), sizeOf(strings.Repeat("m", 200<<10))
	assert.Less(t, big, 2*small, "bytes logged for 5 requests with huge ids, against 5 with short ones")
}
