package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// The event types of a ChangeEvent. Any other type is acknowledged and
// ignored.
const (
	EventResourceCreated = "resource.created"
	EventResourceUpdated = "resource.updated"
	EventResourceDeleted = "resource.deleted"
)

// ChangeEvent is the body of a FormatStandardWebhooks request: a small
// change event about one FHIR resource, following the Standard Webhooks
// payload shape (type, timestamp, data).
//
//	{"type": "resource.updated", "timestamp": "2026-01-02T03:04:05Z",
//	 "data": {"resourceType": "DocumentReference", "id": "doc-1",
//	          "versionId": "3", "patient": "Patient/p-1",
//	          "lastUpdated": "2026-01-02T03:04:05Z"}}
type ChangeEvent struct {
	// Type is one of the EventResource* types.
	Type string `json:"type"`
	// Timestamp is when the change happened at the sender.
	Timestamp time.Time  `json:"timestamp,omitzero"`
	Data      ChangeData `json:"data"`
}

// ChangeData names the resource a ChangeEvent is about.
type ChangeData struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	// VersionID is the resource's meta.versionId after the change, when
	// known.
	VersionID string `json:"versionId,omitempty"`
	// Patient is the reference of the patient the resource belongs to
	// ("Patient/123"; a bare id is accepted too), when known.
	Patient     string    `json:"patient,omitempty"`
	LastUpdated time.Time `json:"lastUpdated,omitzero"`
}

// errMalformed marks a body that is not what its format says it is.
var errMalformed = errors.New("malformed body")

// ParseChangeEvent decodes a ChangeEvent body. It reports whether the type
// is one this package acts on; an event of another type is returned with
// known false and no error, and its data is not checked. An error names
// the member of the body at fault and what it should be.
func ParseChangeEvent(body []byte) (ev ChangeEvent, known bool, err error) {
	// The times are read by hand so that an empty one means unknown rather
	// than malformed.
	var wire struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
			VersionID    string `json:"versionId"`
			Patient      string `json:"patient"`
			LastUpdated  string `json:"lastUpdated"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return ChangeEvent{}, false, jsonError(body, "", err)
	}
	ev = ChangeEvent{Type: wire.Type, Data: ChangeData{
		ResourceType: wire.Data.ResourceType, ID: wire.Data.ID,
		VersionID: wire.Data.VersionID, Patient: wire.Data.Patient,
	}}
	if ev.Timestamp, err = parseInstant(wire.Timestamp); err != nil {
		return ChangeEvent{}, false, malformedf("field timestamp: want an RFC 3339 time such as 2026-01-02T03:04:05Z")
	}
	if ev.Data.LastUpdated, err = parseInstant(wire.Data.LastUpdated); err != nil {
		return ChangeEvent{}, false, malformedf("field data.lastUpdated: want an RFC 3339 time such as 2026-01-02T03:04:05Z")
	}
	switch ev.Type {
	case EventResourceCreated, EventResourceUpdated, EventResourceDeleted:
	case "":
		return ChangeEvent{}, false, malformedf("field type is missing: want one of %s, %s, %s", EventResourceCreated, EventResourceUpdated, EventResourceDeleted)
	default:
		return ev, false, nil
	}
	if ev.Data.ResourceType == "" || ev.Data.ID == "" {
		return ChangeEvent{}, false, malformedf("a %s event needs data.resourceType and data.id", ev.Type)
	}
	// The ref ends up in a URL path of the provider's API: only what FHIR
	// allows in a type and an id passes.
	switch {
	case !isResourceType(ev.Data.ResourceType):
		return ChangeEvent{}, false, malformedf("field data.resourceType: want a FHIR resource type (letters, a capital first)")
	case !isID(ev.Data.ID):
		return ChangeEvent{}, false, malformedf("field data.id: want a FHIR id (1 to 64 of A-Z a-z 0-9 - .)")
	case ev.Data.VersionID != "" && !isID(ev.Data.VersionID):
		return ChangeEvent{}, false, malformedf("field data.versionId: want a FHIR id (1 to 64 of A-Z a-z 0-9 - .)")
	}
	return ev, true, nil
}

// parseInstant reads an RFC 3339 time; "" is the zero time.
func parseInstant(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// Change normalizes a known event into a Change of source.
func (e ChangeEvent) Change(source string) connector.Change {
	c := connector.Change{
		Kind:    connector.ChangeUpsert,
		Ref:     connector.Ref{System: source, Type: e.Data.ResourceType, ID: e.Data.ID},
		Version: e.Data.VersionID,
	}
	if e.Type == EventResourceDeleted {
		c.Kind = connector.ChangeDelete
	}
	if c.Ref.Type != connector.PatientType {
		c.Patient = patientID(e.Data.Patient)
	}
	return c
}

// maxEventID bounds a webhook-id: it becomes the stored event id.
const maxEventID = 256

// isEventID accepts a webhook-id the receiver stores and logs: 1 to
// maxEventID printable ASCII characters.
func isEventID(s string) bool {
	if s == "" || len(s) > maxEventID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// standardFormat verifies with v and parses ChangeEvents. Everything but
// the signature itself is checked before the body is read.
func (r *Receiver) standardFormat(v *Verifier) wireFormat {
	headers := func(req *http.Request) error {
		if _, err := v.verifyHeaders(req.Header, r.cfg.Now()); err != nil {
			return err
		}
		if !isEventID(req.Header.Get(HeaderID)) {
			return fmt.Errorf("%w: %s must be 1 to %d printable ASCII characters", ErrUnauthenticated, HeaderID, maxEventID)
		}
		return nil
	}
	decode := func(req *http.Request, body []byte) (decoded, error) {
		var d decoded
		if err := v.Verify(req.Header, body, r.cfg.Now()); err != nil {
			return d, authProblem(err)
		}
		// Only now is webhook-id known to come from the sender.
		id := req.Header.Get(HeaderID)
		d.id = id
		ev, known, err := ParseChangeEvent(bytes.TrimSpace(body))
		if err != nil {
			return d, wrapProblem(http.StatusBadRequest, outcomeMalformed, "the body is not a change event", err)
		}
		if !known {
			d.outcome = outcomeIgnored
			return d, nil
		}
		d.event = &connector.Event{ID: id, Changes: []connector.Change{ev.Change(r.cfg.Source)}}
		return d, nil
	}
	return wireFormat{headers: headers, decode: decode}
}

// authProblem answers a verification error with 401.
func authProblem(err error) *problem {
	o := outcomeUnauthorized
	if errors.Is(err, ErrStale) {
		o = outcomeStale
	}
	return &problem{status: http.StatusUnauthorized, outcome: o, detail: err.Error(), cause: err}
}
