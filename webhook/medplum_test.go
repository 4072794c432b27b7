package webhook_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/webhook"
)

const medplumSecret = "abc"

func medplumHeader(secret, subscription string, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/fhir+json")
	h.Set(webhook.HeaderMedplumSignature, webhook.SignMedplum(secret, body))
	if subscription != "" {
		h.Set(webhook.HeaderMedplumSubscription, subscription)
	}
	return h
}

func TestMedplumNotifications(t *testing.T) {
	docV2 := []byte(`{"resourceType":"DiagnosticReport","id":"dr-1","meta":{"versionId":"2","lastUpdated":"2026-03-01T11:59:00Z"},"status":"final","subject":{"reference":"Patient/p-1"}}`)
	docV3 := []byte(`{"resourceType":"DiagnosticReport","id":"dr-1","meta":{"versionId":"3"},"status":"amended","subject":{"reference":"Patient/p-1"}}`)
	patient := []byte(`{"resourceType":"Patient","id":"p-1","meta":{"versionId":"8"}}`)
	ref := connector.Ref{System: "medplum", Type: "DiagnosticReport", ID: "dr-1"}

	ing := newMemIngester()
	_, srv, _ := newReceiver(t, ing, webhook.Config{Source: "medplum", Format: webhook.FormatMedplum, Secrets: []string{"retired", medplumSecret}})
	post := func(h http.Header, body []byte) response { return send(t, srv, http.MethodPost, h, body) }

	steps := []struct {
		name   string
		header http.Header
		body   []byte
		status int
		want   *connector.Change
	}{
		{"version 2", medplumHeader(medplumSecret, "sub-1", docV2), docV2, http.StatusAccepted,
			&connector.Change{Kind: connector.ChangeUpsert, Ref: ref, Version: "2", Patient: "p-1"}},
		{"version 2 resent", medplumHeader(medplumSecret, "sub-1", docV2), docV2, http.StatusOK, nil},
		{"version 2 through another subscription", medplumHeader(medplumSecret, "sub-2", docV2), docV2, http.StatusAccepted,
			&connector.Change{Kind: connector.ChangeUpsert, Ref: ref, Version: "2", Patient: "p-1"}},
		{"version 3", medplumHeader(medplumSecret, "sub-1", docV3), docV3, http.StatusAccepted,
			&connector.Change{Kind: connector.ChangeUpsert, Ref: ref, Version: "3", Patient: "p-1"}},
		{"a patient", medplumHeader("retired", "", patient), patient, http.StatusAccepted,
			&connector.Change{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "medplum", Type: "Patient", ID: "p-1"}, Version: "8"}},
		{"deleted", func() http.Header {
			h := medplumHeader(medplumSecret, "sub-1", []byte(`{}`))
			h.Set(webhook.HeaderMedplumDeleted, "DiagnosticReport/dr-1")
			return h
		}(), []byte(`{}`), http.StatusAccepted, &connector.Change{Kind: connector.ChangeDelete, Ref: ref}},
		{"deleted again, the sender naming the version", func() http.Header {
			h := medplumHeader(medplumSecret, "sub-1", docV3)
			h.Set(webhook.HeaderMedplumDeleted, "DiagnosticReport/dr-1")
			return h
		}(), docV3, http.StatusAccepted, &connector.Change{Kind: connector.ChangeDelete, Ref: ref}},
	}
	count := 0
	for _, s := range steps {
		res := post(s.header, s.body)
		require.Equal(t, s.status, res.Status, "%s: %s", s.name, res.Body)
		if s.want == nil {
			continue
		}
		count++
		evs := ing.Events()
		require.Len(t, evs, count, s.name)
		assert.Equal(t, []connector.Change{*s.want}, evs[count-1].Changes, s.name)
		assert.Regexp(t, `^medplum:[0-9a-f]{32}$`, evs[count-1].ID)
	}
	assert.Len(t, ing.Events(), 6)
}

func TestMedplumBadInput(t *testing.T) {
	body := []byte(`{"resourceType":"Observation","id":"o-1","meta":{"versionId":"1"}}`)
	tests := []struct {
		name    string
		header  http.Header
		body    []byte
		status  int
		outcome string
	}{
		{"no signature", http.Header{"Content-Type": {"application/fhir+json"}}, body, http.StatusUnauthorized, "unauthorized"},
		{"signature not hex", http.Header{"Content-Type": {"application/fhir+json"}, "X-Signature": {"zz"}}, body, http.StatusUnauthorized, "unauthorized"},
		{"wrong secret", medplumHeader("other", "s", body), body, http.StatusUnauthorized, "unauthorized"},
		{"body changed", medplumHeader(medplumSecret, "s", body), []byte(`{"resourceType":"Observation","id":"o-2","meta":{"versionId":"1"}}`), http.StatusUnauthorized, "unauthorized"},
		{"not json", medplumHeader(medplumSecret, "s", []byte(`nope`)), []byte(`nope`), http.StatusBadRequest, "malformed"},
		{"no resource type", medplumHeader(medplumSecret, "s", []byte(`{"id":"x"}`)), []byte(`{"id":"x"}`), http.StatusBadRequest, "malformed"},
		{"bad id", medplumHeader(medplumSecret, "s", []byte(`{"resourceType":"Observation","id":"a b"}`)), []byte(`{"resourceType":"Observation","id":"a b"}`), http.StatusBadRequest, "malformed"},
		{"bad deleted header", func() http.Header {
			h := medplumHeader(medplumSecret, "s", []byte(`{}`))
			h.Set(webhook.HeaderMedplumDeleted, "nonsense")
			return h
		}(), []byte(`{}`), http.StatusBadRequest, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := newMemIngester()
			_, srv, _ := newReceiver(t, ing, webhook.Config{Source: "medplum", Format: webhook.FormatMedplum, Secrets: []string{medplumSecret}})
			res := send(t, srv, http.MethodPost, tt.header, tt.body)
			assert.Equal(t, tt.status, res.Status, "%s", res.Body)
			assert.Equal(t, tt.outcome, res.Problem["outcome"])
			assert.Zero(t, ing.Calls())
		})
	}
}

// A Medplum deletion's body is "{}": the signature covers only that, so
// nothing signed tells one deletion of a resource from the next. A resend
// within the window is a duplicate; a genuine later deletion of the
// re-created resource is a new event, and so is one whose body names the
// version it deleted. (The engine confirms each at the provider.)
func TestMedplumRepeatedDeletes(t *testing.T) {
	ref := connector.Ref{System: "medplum", Type: "DocumentReference", ID: "doc-1"}
	recreated := []byte(`{"resourceType":"DocumentReference","id":"doc-1","meta":{"versionId":"2"}}`)
	deleted := func(body []byte) http.Header {
		h := medplumHeader(medplumSecret, "sub-1", body)
		h.Set(webhook.HeaderMedplumDeleted, "DocumentReference/doc-1")
		return h
	}
	empty := []byte(`{}`)
	clk := &clock{t: fixedNow}
	ing := newMemIngester()
	_, srv, _ := newReceiver(t, ing, webhook.Config{Source: "medplum", Format: webhook.FormatMedplum,
		Secrets: []string{medplumSecret}, Now: clk.Now})

	steps := []struct {
		name    string
		advance time.Duration
		header  http.Header
		body    []byte
		status  int
		kind    connector.ChangeKind
	}{
		{"deleted", 0, deleted(empty), empty, http.StatusAccepted, connector.ChangeDelete},
		{"the same delivery resent", time.Minute, deleted(empty), empty, http.StatusOK, ""},
		{"re-created", time.Minute, medplumHeader(medplumSecret, "sub-1", recreated), recreated, http.StatusAccepted, connector.ChangeUpsert},
		{"deleted again", 10 * time.Minute, deleted(empty), empty, http.StatusAccepted, connector.ChangeDelete},
		{"deleted again, resent", 0, deleted(empty), empty, http.StatusOK, ""},
		{"a deletion naming version 2", 0, deleted(recreated), recreated, http.StatusAccepted, connector.ChangeDelete},
		{"the same, resent later", time.Hour, deleted(recreated), recreated, http.StatusOK, ""},
	}
	count := 0
	for _, s := range steps {
		clk.Advance(s.advance)
		res := send(t, srv, http.MethodPost, s.header, s.body)
		require.Equal(t, s.status, res.Status, "%s: %s", s.name, res.Body)
		if s.kind == "" {
			continue
		}
		count++
		evs := ing.Events()
		require.Len(t, evs, count, s.name)
		require.Len(t, evs[count-1].Changes, 1, s.name)
		assert.Equal(t, s.kind, evs[count-1].Changes[0].Kind, s.name)
		assert.Equal(t, ref, evs[count-1].Changes[0].Ref, s.name)
	}
	assert.Len(t, ing.Events(), 4)
}
