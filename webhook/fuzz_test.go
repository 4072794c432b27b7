package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fuzz targets run their committed seed corpora (testdata/fuzz) under
// plain go test; go test -fuzz=FuzzX -fuzztime=30s explores further.

// A known change event always normalizes to a valid Change.
func FuzzParseChangeEvent(f *testing.F) {
	f.Add([]byte(`{"type":"resource.updated","data":{"resourceType":"DocumentReference","id":"d-1","versionId":"2","patient":"Patient/p"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, known, err := ParseChangeEvent(body)
		checkSenderMessage(t, err)
		if err != nil || !known {
			return
		}
		c := ev.Change("php")
		if err := c.Validate(); err != nil {
			t.Fatalf("known event %q gives an invalid change: %v", body, err)
		}
	})
}

// Verify accepts exactly what Sign produced for the same id, time and
// body, and nothing that was altered.
func FuzzVerify(f *testing.F) {
	f.Add("msg_1", int64(1700000000), []byte(`{"type":"resource.created"}`), "v1,AAAA", int64(0))
	f.Fuzz(func(t *testing.T, id string, secs int64, body []byte, header string, skew int64) {
		const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		v, err := NewVerifier([]string{secret}, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		ts := time.Unix(secs, 0)
		now := ts.Add(time.Duration(skew%600) * time.Second)
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, strconv.FormatInt(secs, 10))
		h.Set(HeaderSignature, header)
		sig, err := Sign(secret, id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		// Arbitrary headers verify only if they carry the true signature.
		if v.Verify(h, body, now) == nil && !containsField(header, sig) {
			t.Fatalf("header %q verified without the signature %q", header, sig)
		}
		// The true signature verifies whenever the headers survive
		// transport and the clock is within tolerance.
		h.Set(HeaderSignature, sig)
		err = v.Verify(h, body, now)
		inTolerance := now.Sub(ts) <= 5*time.Minute && ts.Sub(now) <= 5*time.Minute
		if h.Get(HeaderID) == id && id != "" && inTolerance && err != nil {
			t.Fatalf("own signature refused: %v", err)
		}
		if err == nil && len(body) > 0 {
			altered := append([]byte{body[0] ^ 1}, body[1:]...)
			if v.Verify(h, altered, now) == nil {
				t.Fatal("altered body verified")
			}
		}
	})
}

// checkSenderMessage fails when a parse error, which a Receiver answers to
// the sender, is not a bounded bodyError or quotes Go's decoding error.
func checkSenderMessage(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if !errors.Is(err, errMalformed) || len(msg) > maxDetail {
		t.Fatalf("error %q is not a bounded malformed-body error", msg)
	}
	for _, leak := range []string{"json:", "Go struct", "Go value", "of type", "webhook."} {
		if strings.Contains(msg, leak) {
			t.Fatalf("error %q quotes %q", msg, leak)
		}
	}
}

func containsField(header, sig string) bool {
	for _, f := range strings.Fields(header) {
		if f == sig {
			return true
		}
	}
	return false
}

// A notification that parses names a subscription, an id, and valid
// Changes.
func FuzzParseNotification(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := parseNotification(body)
		checkSenderMessage(t, err)
		if err != nil {
			return
		}
		if n.Subscription == "" || n.Type == "" {
			t.Fatalf("parsed notification without subscription or type: %+v", n)
		}
		if n.eventID() == "" {
			t.Fatal("empty event id")
		}
		changes, _ := n.changes("php")
		for _, c := range changes {
			if err := c.Validate(); err != nil {
				t.Fatalf("invalid change %+v: %v", c, err)
			}
		}
		if lo, hi, ok := n.eventRange(); ok && lo > hi {
			t.Fatalf("event range %d > %d", lo, hi)
		}
	})
}

// A Medplum notification verifies only with the body's HMAC, and parses
// into a valid Change.
func FuzzMedplum(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Observation","id":"o-1","meta":{"versionId":"1"}}`), "", "")
	f.Fuzz(func(t *testing.T, body []byte, sig, deleted string) {
		h := http.Header{}
		h.Set(HeaderMedplumSignature, sig)
		h.Set(HeaderMedplumDeleted, deleted)
		if verifyMedplum(h, body, []string{"abc"}) == nil && !strings.EqualFold(strings.TrimSpace(sig), SignMedplum("abc", body)) {
			t.Fatalf("signature %q verified for another body", sig)
		}
		c, key, err := parseMedplum(h, body, "sub", "2026-03-01T12:00:00Z")
		checkSenderMessage(t, err)
		if err != nil {
			return
		}
		c.Ref.System = "medplum"
		if err := c.Validate(); err != nil {
			t.Fatalf("invalid change %+v: %v", c, err)
		}
		if medplumEventID(key) == "" {
			t.Fatal("empty event id")
		}
	})
}

// What parseReference accepts is a resource type and a FHIR id.
func FuzzParseReference(f *testing.F) {
	f.Add("https://example.org/fhir/Encounter/86009987-eabe-42bf-8c02-b112b18cb616/_history/3")
	f.Fuzz(func(t *testing.T, s string) {
		ref, ok := parseReference(s)
		if !ok {
			return
		}
		if !isResourceType(ref.Type) || !isID(ref.ID) || (ref.Version != "" && !isID(ref.Version)) {
			t.Fatalf("%q parsed to %+v", s, ref)
		}
		if id := patientID(s); ref.Type == "Patient" && id != ref.ID {
			t.Fatalf("patientID(%q) = %q, want %q", s, id, ref.ID)
		}
	})
}
