package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/webhook"
)

// Bodies signed by the official Standard Webhooks library verify with ours,
// through the whole receiver.
func TestInteropTheirsSignsOursVerifies(t *testing.T) {
	ing := newMemIngester()
	_, srv, _ := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}})

	theirs, err := standardwebhooks.NewWebhook(secretA)
	require.NoError(t, err)
	body := changeBody(webhook.EventResourceCreated, "DocumentReference", "doc-1", "1", "Patient/p-1")
	sig, err := theirs.Sign("msg_theirs", fixedNow, body)
	require.NoError(t, err)

	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(standardwebhooks.HeaderWebhookID, "msg_theirs")
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(fixedNow.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	res := send(t, srv, http.MethodPost, h, body)
	require.Equal(t, http.StatusAccepted, res.Status, "body %s", res.Body)
	require.Len(t, ing.Events(), 1)
	assert.Equal(t, connector.Ref{System: "php", Type: "DocumentReference", ID: "doc-1"}, ing.Events()[0].Changes[0].Ref)
}

// Our signatures verify with the official library. It checks the timestamp
// against the real clock, so this one test signs at time.Now.
func TestInteropOursSignsTheirsVerifies(t *testing.T) {
	theirs, err := standardwebhooks.NewWebhook(secretA)
	require.NoError(t, err)
	body := changeBody(webhook.EventResourceUpdated, "DiagnosticReport", "dr-1", "2", "")
	now := time.Now()
	sig, err := webhook.Sign(secretA, "msg_ours", now, body)
	require.NoError(t, err)

	h := http.Header{}
	h.Set(webhook.HeaderID, "msg_ours")
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	require.NoError(t, theirs.Verify(body, h))

	// And both sign identically.
	want, err := theirs.Sign("msg_ours", now, body)
	require.NoError(t, err)
	assert.Equal(t, want, sig)

	// A tampered body fails with them too, so the check above can fail.
	assert.Error(t, theirs.Verify(append(body, ' '), h))
}

// Rotation: during a change of secret the receiver accepts both, and a
// sender may send a signature per secret; a retired secret stops working.
func TestSecretRotation(t *testing.T) {
	body := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	old, err := standardwebhooks.NewWebhook(secretA)
	require.NoError(t, err)
	next, err := standardwebhooks.NewWebhook(secretB)
	require.NoError(t, err)
	sigOld, err := old.Sign("msg_rot", fixedNow, body)
	require.NoError(t, err)
	sigNew, err := next.Sign("msg_rot", fixedNow, body)
	require.NoError(t, err)
	const unknownSig = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="

	tests := []struct {
		name    string
		secrets []string
		header  string
		ok      bool
	}{
		{"old secret only, old signature", []string{secretA}, sigOld, true},
		{"both secrets, old signature", []string{secretA, secretB}, sigOld, true},
		{"both secrets, new signature", []string{secretA, secretB}, sigNew, true},
		{"new secret only, new signature", []string{secretB}, sigNew, true},
		{"new secret only, old signature", []string{secretB}, sigOld, false},
		{"sender sends both signatures", []string{secretB}, sigOld + " " + sigNew, true},
		{"unknown signature first", []string{secretA}, unknownSig + " " + sigOld, true},
		{"only an unknown signature", []string{secretA, secretB}, unknownSig, false},
		{"asymmetric v1a ignored", []string{secretA}, "v1a,abc " + sigOld, true},
		{"prefix-less secret", []string{strings.TrimPrefix(secretA, "whsec_")}, sigOld, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := webhook.NewVerifier(tt.secrets, 5*time.Minute)
			require.NoError(t, err)
			h := http.Header{}
			h.Set(webhook.HeaderID, "msg_rot")
			h.Set(webhook.HeaderTimestamp, strconv.FormatInt(fixedNow.Unix(), 10))
			h.Set(webhook.HeaderSignature, tt.header)
			err = v.Verify(h, body, fixedNow)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, webhook.ErrUnauthenticated)
			}
		})
	}
}

func TestToleranceEdges(t *testing.T) {
	body := []byte(`{"type":"resource.updated"}`)
	const tol = 5 * time.Minute
	tests := []struct {
		name   string
		offset time.Duration // signed time minus now
		err    error
	}{
		{"now", 0, nil},
		{"exactly tolerance old", -tol, nil},
		{"exactly tolerance ahead", tol, nil},
		{"one second too old", -tol - time.Second, webhook.ErrStale},
		{"one second too far ahead", tol + time.Second, webhook.ErrStale},
		{"an hour old", -time.Hour, webhook.ErrStale},
		{"epoch", -fixedNow.Sub(time.Unix(0, 0)), webhook.ErrStale},
	}
	v, err := webhook.NewVerifier([]string{secretA}, tol)
	require.NoError(t, err)
	theirs, err := standardwebhooks.NewWebhook(secretA)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := fixedNow.Add(tt.offset)
			sig, err := theirs.Sign("msg_tol", ts, body)
			require.NoError(t, err)
			h := http.Header{}
			h.Set(webhook.HeaderID, "msg_tol")
			h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
			h.Set(webhook.HeaderSignature, sig)
			err = v.Verify(h, body, fixedNow)
			if tt.err == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.err)
				assert.False(t, errors.Is(err, webhook.ErrUnauthenticated), "stale, not unauthenticated")
			}
		})
	}

	// Through the receiver, with a configured tolerance.
	ing := newMemIngester()
	_, srv, _ := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}, Tolerance: 30 * time.Second})
	b := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	assert.Equal(t, http.StatusAccepted, send(t, srv, http.MethodPost, signed(t, secretA, "in", fixedNow.Add(-30*time.Second), b), b).Status)
	res := send(t, srv, http.MethodPost, signed(t, secretA, "out", fixedNow.Add(-31*time.Second), b), b)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, "stale_timestamp", res.Problem["outcome"])
}

// The specification's published test vector (secret, id, timestamp and
// payload, and the signature they give) signs identically with Sign and
// with the official library, and verifies with ours.
func TestSpecTestVector(t *testing.T) {
	const secret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	payload := []byte(`{"test": 2432232314}`)
	ts := time.Unix(1614265330, 0)
	theirs, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	want, err := theirs.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, payload)
	require.NoError(t, err)
	got, err := webhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, payload)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", got)

	v, err := webhook.NewVerifier([]string{"whsec_" + secret}, 5*time.Minute)
	require.NoError(t, err)
	h := http.Header{}
	h.Set(webhook.HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set(webhook.HeaderTimestamp, "1614265330")
	h.Set(webhook.HeaderSignature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	assert.NoError(t, v.Verify(h, payload, ts.Add(10*time.Second)))
	assert.ErrorIs(t, v.Verify(h, []byte(`{"test": 2432232315}`), ts), webhook.ErrUnauthenticated)
}

// A secret's base64 may come with or without its padding, and with or
// without the whsec_ prefix: every spelling is the same key, through New
// as the example server calls it at start-up. Another alphabet is refused.
func TestSecretSpellings(t *testing.T) {
	// secretB's key is 26 bytes: its base64 ends in one "=".
	padded := strings.TrimPrefix(secretB, "whsec_")
	require.True(t, strings.HasSuffix(padded, "="), "the test needs a padded key")
	unpadded := strings.TrimRight(padded, "=")
	// Bytes 0xfb 0xff give "+/" in standard base64 and "-_" in URL-safe.
	urlSafe := "whsec_-_8" + unpadded[3:]

	body := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	theirs, err := standardwebhooks.NewWebhook(secretB)
	require.NoError(t, err)
	sig, err := theirs.Sign("msg_pad", fixedNow, body)
	require.NoError(t, err)

	tests := []struct {
		name   string
		secret string
		ok     bool
	}{
		{"padded, prefixed", "whsec_" + padded, true},
		{"padded, no prefix", padded, true},
		{"unpadded, prefixed", "whsec_" + unpadded, true},
		{"unpadded, no prefix", unpadded, true},
		{"url-safe alphabet", urlSafe, false},
		{"not base64", "whsec_not base64!", false},
		{"prefix only", "whsec_", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks, Secrets: []string{tt.secret}}
			if !tt.ok {
				_, err := webhook.New(newMemIngester(), cfg)
				assert.Error(t, err)
				return
			}
			mine, err := webhook.Sign(tt.secret, "msg_pad", fixedNow, body)
			require.NoError(t, err)
			assert.Equal(t, sig, mine, "one key, one signature")

			_, srv, _ := newReceiver(t, newMemIngester(), cfg)
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			h.Set(webhook.HeaderID, "msg_pad")
			h.Set(webhook.HeaderTimestamp, strconv.FormatInt(fixedNow.Unix(), 10))
			h.Set(webhook.HeaderSignature, sig)
			res := send(t, srv, http.MethodPost, h, body)
			assert.Equal(t, http.StatusAccepted, res.Status, "body %s", res.Body)
		})
	}
}
