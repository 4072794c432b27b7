package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/webhook"
)

// printIngester stands in for *connector.Engine: it prints what it is
// handed and remembers event ids, as the store's unique event ids do.
type printIngester map[string]bool

func (p printIngester) Ingest(_ context.Context, ev connector.Event) (connector.IngestResult, error) {
	if p[ev.ID] {
		return connector.IngestResult{Duplicate: true}, nil
	}
	p[ev.ID] = true
	for _, c := range ev.Changes {
		fmt.Printf("ingest %s: %s %s version %q patient %q\n", ev.ID, c.Kind, c.Ref, c.Version, c.Patient)
	}
	if ev.Reconcile {
		fmt.Printf("ingest %s: reconcile %s\n", ev.ID, ev.Source)
	}
	return connector.IngestResult{Enqueued: len(ev.Changes)}, nil
}

// A provider signs a change event with Standard Webhooks; the receiver
// verifies it and hands the normalized Change to ingest. The same event
// sent again is a duplicate: acknowledged, nothing ingested.
func Example() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r, err := webhook.New(printIngester{}, webhook.Config{
		Source:  "php",
		Format:  webhook.FormatStandardWebhooks,
		Secrets: []string{secret},
		Now:     func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}

	body := `{"type":"resource.updated","timestamp":"2026-03-01T11:59:58Z",` +
		`"data":{"resourceType":"DocumentReference","id":"doc-1","versionId":"3","patient":"Patient/p-1"}}`
	sig, _ := webhook.Sign(secret, "msg_2Xk", now.Add(-2*time.Second), []byte(body))
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/php", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(webhook.HeaderID, "msg_2Xk")
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Add(-2*time.Second).Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, sig)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// ingest msg_2Xk: upsert php/DocumentReference/doc-1 version "3" patient "p-1"
	// 202 {"id":"msg_2Xk","outcome":"accepted","enqueued":1}
	// 200 {"id":"msg_2Xk","outcome":"duplicate"}
}

// A FHIR subscription's notifications carry event numbers; a number that
// skips one shows a lost notification, and the event that revealed it also
// asks for a reconcile of the source.
func Example_fhirSubscription() {
	r, err := webhook.New(printIngester{}, webhook.Config{
		Source:  "php",
		Format:  webhook.FormatFHIRSubscription,
		Secrets: []string{"Bearer s3cr3t"}, // the Subscription's channel.header
	})
	if err != nil {
		panic(err)
	}
	notify := func(n int) {
		body := fmt.Sprintf(`{"resourceType":"Bundle","type":"history","entry":[{"resource":{
		  "resourceType":"Parameters","parameter":[
		    {"name":"subscription","valueReference":{"reference":"Subscription/docs"}},
		    {"name":"status","valueCode":"active"},
		    {"name":"type","valueCode":"event-notification"},
		    {"name":"events-since-subscription-start","valueString":"%d"},
		    {"name":"notification-event","part":[{"name":"event-number","valueString":"%d"},
		      {"name":"focus","valueReference":{"reference":"DocumentReference/doc-%d"}}]}]}}]}`, n, n, n)
		req := httptest.NewRequest(http.MethodPost, "/webhooks/php", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/fhir+json")
		req.Header.Set("Authorization", "Bearer s3cr3t")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	notify(1)
	notify(2)
	notify(4) // 3 was lost
	// Output:
	// ingest Subscription/docs#1: hint php/DocumentReference/doc-1 version "" patient ""
	// 202
	// ingest Subscription/docs#2: hint php/DocumentReference/doc-2 version "" patient ""
	// 202
	// ingest Subscription/docs#4: hint php/DocumentReference/doc-4 version "" patient ""
	// ingest Subscription/docs#4: reconcile php
	// 202
}

// Receivers mount on any mux; BySource picks the one named by the path.
func ExampleBySource() {
	ing := printIngester{}
	php, _ := webhook.New(ing, webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks, Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}})
	medplum, _ := webhook.New(ing, webhook.Config{Source: "medplum", Format: webhook.FormatMedplum, Secrets: []string{"abc"}})

	mux := http.NewServeMux()
	mux.Handle("/webhooks/{source...}", webhook.BySource(php, medplum))

	body := `{"resourceType":"Observation","id":"obs-1","meta":{"versionId":"2"},"subject":{"reference":"Patient/p-1"}}`
	req := httptest.NewRequest(http.MethodPost, "/webhooks/medplum", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set(webhook.HeaderMedplumSignature, webhook.SignMedplum("abc", []byte(body)))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	// A source without a receiver, and a path that names none, are
	// answered as problems too.
	for _, path := range []string{"/webhooks/unknown", "/webhooks/"} {
		req = httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}"))
		rec = httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	}
	// Output:
	// ingest medplum:d9905cc3ded455dafdc308c37aa76d8b: upsert medplum/Observation/obs-1 version "2" patient "p-1"
	// 202
	// 404 application/problem+json
	// 404 application/problem+json
}
