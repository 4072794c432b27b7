package mockphp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// ChangeEvent is the JSON body of a Standard Webhooks notification; see
// the package documentation for an example.
type ChangeEvent struct {
	// Type is resource.created, resource.updated or resource.deleted.
	Type string `json:"type"`
	// Timestamp is when the change happened (RFC 3339).
	Timestamp string          `json:"timestamp"`
	Data      ChangeEventData `json:"data"`
}

// ChangeEventData names the changed resource.
type ChangeEventData struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	VersionID    string `json:"versionId"`
	// Patient is "Patient/id", absent for resources outside a patient.
	Patient     string `json:"patient,omitempty"`
	LastUpdated string `json:"lastUpdated"`
	// Resource is the resource itself, only for a full-resource endpoint
	// and not on deletes.
	Resource json.RawMessage `json:"resource,omitempty"`
}

// render builds the body and headers of one attempt to send d.
func (e *emitter) render(st *endpointState, d *delivery) ([]byte, http.Header, error) {
	h := http.Header{}
	h.Set("User-Agent", "mockphp-webhooks/1")
	for _, line := range st.ep.Header {
		k, v, _ := strings.Cut(line, ":")
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	switch st.ep.Format {
	case FormatStandardWebhooks:
		return e.renderStandard(st, d, h)
	case FormatMedplum:
		return renderMedplum(st, d, h)
	default:
		return e.renderBackport(st, d, h)
	}
}

func (e *emitter) renderStandard(st *endpointState, d *delivery, h http.Header) ([]byte, http.Header, error) {
	c := d.change
	ev := ChangeEvent{
		Type:      c.Type,
		Timestamp: formatInstant(c.At),
		Data: ChangeEventData{
			ResourceType: c.ResourceType, ID: c.ID, VersionID: c.VersionID,
			Patient: c.Patient, LastUpdated: formatInstant(c.LastUpdated),
		},
	}
	if st.ep.Payload == PayloadFullResource && c.Type != ChangeDeleted {
		ev.Data.Resource = c.body
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, nil, err
	}
	ts := strconv.FormatInt(e.s.now().Unix(), 10)
	var sigs []string
	for _, secret := range st.ep.Secrets {
		key, err := webhookKey(secret)
		if err != nil {
			return nil, nil, err
		}
		sigs = append(sigs, "v1,"+SignStandardWebhook(key, d.msgID, ts, body))
	}
	h.Set("Content-Type", "application/json")
	h.Set("webhook-id", d.msgID)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", strings.Join(sigs, " "))
	return body, h, nil
}

// SignStandardWebhook returns the base64 HMAC-SHA256 of "id.timestamp.body"
// under key (the decoded whsec_ secret), the value after "v1,".
func SignStandardWebhook(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + timestamp + "."))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func renderMedplum(st *endpointState, d *delivery, h http.Header) ([]byte, http.Header, error) {
	c := d.change
	body := c.body
	h.Set("Content-Type", "application/fhir+json")
	if c.Type == ChangeDeleted {
		h.Set("X-Medplum-Deleted-Resource", c.Ref())
	}
	if len(st.ep.Secrets) > 0 {
		m := hmac.New(sha256.New, []byte(st.ep.Secrets[0]))
		m.Write(body)
		h.Set("X-Signature", hex.EncodeToString(m.Sum(nil)))
	}
	return body, h, nil
}

// renderBackport builds a Subscriptions Backport notification Bundle (R4
// form): a history Bundle whose first entry is the SubscriptionStatus
// Parameters.
func (e *emitter) renderBackport(st *endpointState, d *delivery, h http.Header) ([]byte, http.Header, error) {
	base := e.s.BaseURL()
	abs := func(ref string) string {
		if strings.HasPrefix(base, "http") {
			return base + "/" + ref
		}
		return ref
	}
	subRef := abs("Subscription/" + st.ep.ID)
	st.mu.Lock()
	events := st.events
	st.mu.Unlock()
	kind, status := "event-notification", "active"
	switch d.kind {
	case kindHandshake:
		kind, status, events = "handshake", "requested", 0
	case kindHeartbeat:
		kind = "heartbeat"
	case kindEvent:
		events = d.eventNumber
	}
	now := formatInstant(e.s.now())
	params := []any{
		object{"name": "subscription", "valueReference": object{"reference": subRef}},
		object{"name": "topic", "valueCanonical": TopicURL},
		object{"name": "status", "valueCode": status},
		object{"name": "type", "valueCode": kind},
		object{"name": "events-since-subscription-start", "valueString": strconv.FormatUint(events, 10)},
	}
	c := d.change
	if d.kind == kindEvent {
		parts := []any{
			object{"name": "event-number", "valueString": strconv.FormatUint(d.eventNumber, 10)},
			object{"name": "timestamp", "valueInstant": formatInstant(c.At)},
		}
		if st.ep.Payload != PayloadEmpty {
			parts = append(parts, object{"name": "focus", "valueReference": object{"reference": abs(c.Ref())}})
		}
		params = append(params, object{"name": "notification-event", "part": parts})
	}
	statusID := newUUID()
	entries := []any{object{
		"fullUrl": "urn:uuid:" + statusID,
		"resource": object{
			"resourceType": "Parameters",
			"id":           statusID,
			"meta":         object{"profile": list("http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4")},
			"parameter":    params,
		},
		"request":  object{"method": "GET", "url": subRef + "/$status"},
		"response": object{"status": "200"},
	}}
	if d.kind == kindEvent && st.ep.Payload == PayloadFullResource {
		entry := object{"fullUrl": abs(c.Ref())}
		switch c.Type {
		case ChangeCreated:
			entry["request"] = object{"method": "POST", "url": c.ResourceType}
			entry["response"] = object{"status": "201"}
		case ChangeUpdated:
			entry["request"] = object{"method": "PUT", "url": c.Ref()}
			entry["response"] = object{"status": "200"}
		case ChangeDeleted:
			entry["request"] = object{"method": "DELETE", "url": c.Ref()}
			entry["response"] = object{"status": "204"}
		}
		if c.Type != ChangeDeleted {
			entry["resource"] = json.RawMessage(c.body)
		}
		entries = append(entries, entry)
	}
	bundle := object{
		"resourceType": "Bundle",
		"id":           newUUID(),
		"meta":         object{"profile": list("http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-notification-r4")},
		"type":         "history",
		"timestamp":    now,
		"entry":        entries,
	}
	body, err := encodeResource(bundle)
	if err != nil {
		return nil, nil, err
	}
	h.Set("Content-Type", "application/fhir+json")
	return body, h, nil
}
