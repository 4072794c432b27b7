package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix marks a Standard Webhooks signing secret.
const secretPrefix = "whsec_"

// maxSignatures bounds how many signatures of one header are tried, so that
// a hostile header cannot make verification arbitrarily expensive.
const maxSignatures = 16

// Verification errors. A Receiver answers both with 401.
var (
	// ErrUnauthenticated: a signature or credential is missing, malformed,
	// or matches none of the secrets.
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrStale: the signed timestamp is further from now than the
	// tolerance, as a replayed (or badly clocked) request is.
	ErrStale = errors.New("timestamp outside tolerance")
)

// Verifier checks Standard Webhooks signatures: HMAC-SHA256 over
// "id.timestamp.body", base64, sent as one or more space-separated
// "v1,<signature>" in the webhook-signature header. Any of several secrets
// may match, which is how secrets are rotated. It is safe for concurrent use.
type Verifier struct {
	keys      [][]byte
	tolerance time.Duration
}

// NewVerifier returns a Verifier accepting signatures by any of secrets
// ("whsec_" and standard base64, padded or not; the prefix is optional) whose timestamp is within
// tolerance of the time of verification.
func NewVerifier(secrets []string, tolerance time.Duration) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("no signing secret")
	}
	if tolerance <= 0 {
		return nil, fmt.Errorf("tolerance %s is not positive", tolerance)
	}
	v := &Verifier{tolerance: tolerance}
	for i, s := range secrets {
		key, err := DecodeSecret(s)
		if err != nil {
			return nil, fmt.Errorf("signing secret %d: %w", i, err)
		}
		v.keys = append(v.keys, key)
	}
	return v, nil
}

// DecodeSecret returns the key of a Standard Webhooks signing secret as
// NewVerifier and Sign read it: the optional whsec_ prefix and the key in
// standard base64, padded or not. Senders and the official libraries
// disagree on the padding (a 32-byte key is often shown without its "="), so
// both spellings of one key are the same key. The URL-safe alphabet is not
// accepted: the specification's secrets are standard base64, and a "-" or
// "_" in one is more likely a copy error than a key.
func DecodeSecret(s string) ([]byte, error) {
	b64 := strings.TrimPrefix(s, secretPrefix)
	enc := base64.StdEncoding
	if !strings.HasSuffix(b64, "=") {
		enc = base64.RawStdEncoding
	}
	key, err := enc.DecodeString(b64)
	if err != nil {
		return nil, errors.New("not whsec_ followed by base64")
	}
	if len(key) == 0 {
		return nil, errors.New("empty key")
	}
	return key, nil
}

// Verify checks the headers and body of one request at time now. It returns
// nil, or an error wrapping ErrUnauthenticated or ErrStale. Signatures are
// compared in constant time.
func (v *Verifier) Verify(h http.Header, body []byte, now time.Time) error {
	secs, err := v.verifyHeaders(h, now)
	if err != nil {
		return err
	}
	id, sigs := h.Get(HeaderID), h.Get(HeaderSignature)
	want := make([][]byte, len(v.keys))
	for i, key := range v.keys {
		want[i] = mac(key, id, secs, body)
	}
	tried := 0
	for _, field := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(field, ",")
		if !ok || version != "v1" {
			continue // another scheme (v1a) or garbage: not ours to judge
		}
		if tried++; tried > maxSignatures {
			break
		}
		// Strict: one signature has one spelling, as for senders that
		// compare the encoded strings.
		got, err := base64.StdEncoding.Strict().DecodeString(sig)
		if err != nil {
			continue
		}
		for _, w := range want {
			if hmac.Equal(got, w) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: no v1 signature matches", ErrUnauthenticated)
}

// verifyHeaders checks what can be checked before the body is read: the
// three headers are there, the timestamp is within the tolerance of now,
// and the signature header offers a v1 signature. It returns the
// timestamp. None of its errors quotes a header.
func (v *Verifier) verifyHeaders(h http.Header, now time.Time) (int64, error) {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	switch {
	case id == "":
		return 0, fmt.Errorf("%w: %s header is missing", ErrUnauthenticated, HeaderID)
	case ts == "":
		return 0, fmt.Errorf("%w: %s header is missing", ErrUnauthenticated, HeaderTimestamp)
	case sigs == "":
		return 0, fmt.Errorf("%w: %s header is missing", ErrUnauthenticated, HeaderSignature)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not integer seconds", ErrUnauthenticated, HeaderTimestamp)
	}
	switch d := now.Sub(time.Unix(secs, 0)); {
	case d > v.tolerance:
		return 0, fmt.Errorf("%w: %s is %s old, beyond the %s tolerance", ErrStale, HeaderTimestamp, d.Round(time.Second), v.tolerance)
	case d < -v.tolerance:
		return 0, fmt.Errorf("%w: %s is %s ahead, beyond the %s tolerance", ErrStale, HeaderTimestamp, (-d).Round(time.Second), v.tolerance)
	}
	if !slices.ContainsFunc(strings.Fields(sigs), func(f string) bool { return strings.HasPrefix(f, "v1,") }) {
		return 0, fmt.Errorf("%w: %s has no v1 signature", ErrUnauthenticated, HeaderSignature)
	}
	return secs, nil
}

// Sign returns the webhook-signature header value ("v1,<base64>") of body
// sent with id at time ts, signed with secret ("whsec_" and base64). Senders,
// tests and load generators use it.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := DecodeSecret(secret)
	if err != nil {
		return "", fmt.Errorf("signing secret: %w", err)
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)), nil
}

func mac(key []byte, id string, secs int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, secs, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
