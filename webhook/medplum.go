package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// The headers of a Medplum-style rest-hook.
const (
	// HeaderMedplumSignature is the hex HMAC-SHA256 of the body, keyed by
	// the subscription's secret.
	HeaderMedplumSignature = "X-Signature"
	// HeaderMedplumSubscription is the id of the Subscription that sent the
	// notification.
	HeaderMedplumSubscription = "X-Medplum-Subscription"
	// HeaderMedplumDeleted names the deleted resource ("Type/id"); the body
	// is then "{}". The header is not signed.
	HeaderMedplumDeleted = "X-Medplum-Deleted-Resource"
)

// SignMedplum returns the X-Signature value of body under secret.
func SignMedplum(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// medplumSignature reads the X-Signature header: the hex of a SHA-256
// HMAC. It is all of a Medplum request that can be checked before the body
// is read.
func medplumSignature(h http.Header) ([]byte, error) {
	sig := h.Get(HeaderMedplumSignature)
	if sig == "" {
		return nil, fmt.Errorf("%w: %s header is missing", ErrUnauthenticated, HeaderMedplumSignature)
	}
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not hex", ErrUnauthenticated, HeaderMedplumSignature)
	}
	if len(got) != sha256.Size {
		return nil, fmt.Errorf("%w: %s is not the %d hex digits of an HMAC-SHA256", ErrUnauthenticated, HeaderMedplumSignature, 2*sha256.Size)
	}
	return got, nil
}

// verifyMedplum checks the X-Signature of body against each secret in
// constant time.
func verifyMedplum(h http.Header, body []byte, secrets []string) error {
	got, err := medplumSignature(h)
	if err != nil {
		return err
	}
	ok := false
	for _, s := range secrets {
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		if hmac.Equal(got, m.Sum(nil)) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%w: %s matches no secret", ErrUnauthenticated, HeaderMedplumSignature)
	}
	return nil
}

// parseMedplum normalizes a verified Medplum notification into the Change
// and the key that identifies it (subscription, resource, version). window
// names the span of time the request arrived in; it tells apart deletions
// that carry nothing else to tell them by.
func parseMedplum(h http.Header, body []byte, subscription, window string) (connector.Change, []string, error) {
	if del := h.Get(HeaderMedplumDeleted); del != "" {
		ref, ok := parseReference(del)
		if !ok || ref.Version != "" {
			// The header is not signed: its value is not quoted.
			return connector.Change{}, nil, malformedf("header %s: want Type/id of the deleted resource", HeaderMedplumDeleted)
		}
		c := connector.Change{Kind: connector.ChangeDelete, Ref: connector.Ref{Type: ref.Type, ID: ref.ID}}
		key := []string{subscription, ref.key(), "deleted"}
		// A sender that sends the deleted resource gives the version it
		// had, which tells this deletion from a later one of the same
		// resource (re-created meanwhile), and a resend from neither. It
		// is not the Change's version: that would be the version after
		// the change, which the notification does not tell.
		if res, err := decodeResource(body); err == nil && res.ResourceType == ref.Type && res.ID == ref.ID &&
			(res.Meta.VersionID != "" || res.Meta.LastUpdated != "") {
			return c, append(key, "last:"+res.Meta.VersionID, "t:"+res.Meta.LastUpdated), nil
		}
		// Medplum sends "{}": every deletion of the resource looks the
		// same, and only the signature of "{}" vouches for it. The
		// window makes a resend within it a duplicate and a later
		// deletion a new event. The engine confirms every deletion at
		// the provider, so a replay of a captured request costs a read
		// there and deletes nothing that still exists.
		return c, append(key, "window:"+window), nil
	}
	res, err := decodeResource(body)
	if err != nil {
		return connector.Change{}, nil, jsonError(body, "", err)
	}
	switch {
	case !isResourceType(res.ResourceType):
		return connector.Change{}, nil, malformedf("field resourceType: want a FHIR resource type (letters, a capital first)")
	case !isID(res.ID):
		return connector.Change{}, nil, malformedf("field id: want a FHIR id (1 to 64 of A-Z a-z 0-9 - .)")
	}
	c := connector.Change{
		Kind:    connector.ChangeUpsert,
		Ref:     connector.Ref{Type: res.ResourceType, ID: res.ID},
		Version: res.Meta.VersionID,
		Patient: res.patient(),
	}
	key := []string{subscription, res.ResourceType + "/" + res.ID, "v:" + res.Meta.VersionID}
	if res.Meta.VersionID == "" {
		// Without a version, the body itself tells one notification from
		// the next.
		sum := sha256.Sum256(body)
		key = append(key, "t:"+res.Meta.LastUpdated, "b:"+hex.EncodeToString(sum[:]))
	}
	return c, key, nil
}

// medplumEventID hashes the key parts into an event id.
func medplumEventID(parts []string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "medplum:" + hex.EncodeToString(sum[:16])
}

// medplumFormat verifies and normalizes Medplum-style notifications. The
// subscription is the X-Medplum-Subscription header, or the request path
// when the sender sets none.
func (r *Receiver) medplumFormat() wireFormat {
	headers := func(req *http.Request) error {
		_, err := medplumSignature(req.Header)
		return err
	}
	decode := func(req *http.Request, body []byte) (decoded, error) {
		var d decoded
		if err := verifyMedplum(req.Header, body, r.cfg.Secrets); err != nil {
			return d, authProblem(err)
		}
		sub := req.Header.Get(HeaderMedplumSubscription)
		if sub == "" {
			sub = req.URL.Path
		}
		window := r.cfg.Now().UTC().Truncate(r.cfg.Tolerance).Format(time.RFC3339)
		c, key, err := parseMedplum(req.Header, body, sub, window)
		if err != nil {
			return d, wrapProblem(http.StatusBadRequest, outcomeMalformed, "the body is not a resource notification", err)
		}
		c.Ref.System = r.cfg.Source
		d.id = medplumEventID(key)
		d.event = &connector.Event{ID: d.id, Changes: []connector.Change{c}}
		return d, nil
	}
	return wireFormat{headers: headers, decode: decode}
}
