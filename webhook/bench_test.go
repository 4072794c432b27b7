package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/webhook"
)

type nopIngester struct{}

func (nopIngester) Ingest(context.Context, connector.Event) (connector.IngestResult, error) {
	return connector.IngestResult{Enqueued: 1}, nil
}

// BenchmarkReceiver measures the receiver's own work for one Standard
// Webhooks request (verify, parse, answer), without HTTP serving or a
// store.
func BenchmarkReceiver(b *testing.B) {
	const secret = "whsec_YmVuY2htYXJrLXNpZ25pbmctc2VjcmV0LTAxMjM0NTY3ODk="
	rcv, err := webhook.New(nopIngester{}, webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks,
		Secrets: []string{secret}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	body, err := json.Marshal(webhook.ChangeEvent{Type: webhook.EventResourceUpdated, Timestamp: now.UTC(),
		Data: webhook.ChangeData{ResourceType: "DocumentReference", ID: "doc-1", VersionID: "3", Patient: "Patient/p-1", LastUpdated: now.UTC()}})
	if err != nil {
		b.Fatal(err)
	}
	sig, err := webhook.Sign(secret, "msg_1", now, body)
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(webhook.HeaderID, "msg_1")
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/php", bytes.NewReader(body))
		req.Header = h
		w := httptest.NewRecorder()
		rcv.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatalf("answered %d: %s", w.Code, w.Body)
		}
	}
}
