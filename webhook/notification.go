package webhook

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// notification is a Subscriptions Backport notification Bundle, reduced to
// what ingest needs. Both the R4 form (a Parameters with the
// backport-subscription-status-r4 profile) and the R4B form (a
// SubscriptionStatus) parse to it.
type notification struct {
	// Subscription is the reference of the Subscription that sent it.
	Subscription string
	Status       string
	// Type is handshake, heartbeat, event-notification, query-status or
	// query-event.
	Type string
	// EventsSinceStart is events-since-subscription-start, or -1 when the
	// notification does not carry it.
	EventsSinceStart int64
	Events           []notificationEvent
	// Sent is the Bundle's timestamp (when the notification was put
	// together) and BundleID its id, either empty when absent.
	Sent, BundleID string
	// entries are the Bundle's other entries, by fullUrl and by Type/id.
	entries map[string]*bundleEntry
}

type notificationEvent struct {
	Number int64
	// Focus is the reference of the resource the event is about; empty
	// for an event without one.
	Focus string
	// At is the event's timestamp, when it happened at the server; empty
	// when the notification does not say.
	At string
}

type bundle struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp"`
	Entry        []bundleEntry `json:"entry"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  *struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
}

// parameters is the R4 form of the subscription status.
type parameters struct {
	ResourceType string      `json:"resourceType"`
	Parameter    []parameter `json:"parameter"`
}

type parameter struct {
	Name           string         `json:"name"`
	ValueString    string         `json:"valueString"`
	ValueCode      string         `json:"valueCode"`
	ValueCanonical string         `json:"valueCanonical"`
	ValueURI       string         `json:"valueUri"`
	ValueInteger64 string         `json:"valueInteger64"`
	ValueInstant   string         `json:"valueInstant"`
	ValueDateTime  string         `json:"valueDateTime"`
	ValueUnsigned  number         `json:"valueUnsignedInt"`
	ValueInteger   number         `json:"valueInteger"`
	ValueReference *fhirReference `json:"valueReference"`
	Part           []parameter    `json:"part"`
}

// value returns the parameter's primitive value as a string.
func (p parameter) value() string {
	for _, s := range []string{p.ValueString, p.ValueCode, p.ValueCanonical, p.ValueURI, p.ValueInteger64, p.ValueInstant, p.ValueDateTime} {
		if s != "" {
			return s
		}
	}
	for _, n := range []number{p.ValueUnsigned, p.ValueInteger} {
		if s := n.text(); s != "" {
			return s
		}
	}
	if p.ValueReference != nil {
		return p.ValueReference.Reference
	}
	return ""
}

// subscriptionStatus is the R4B (and R5) form of the subscription status.
type subscriptionStatus struct {
	ResourceType                 string         `json:"resourceType"`
	Status                       string         `json:"status"`
	Type                         string         `json:"type"`
	EventsSinceSubscriptionStart number         `json:"eventsSinceSubscriptionStart"`
	Subscription                 *fhirReference `json:"subscription"`
	NotificationEvent            []struct {
		EventNumber number         `json:"eventNumber"`
		Timestamp   string         `json:"timestamp"`
		Focus       *fhirReference `json:"focus"`
	} `json:"notificationEvent"`
}

// parseNotification decodes a notification Bundle. Errors wrap
// errMalformed.
func parseNotification(body []byte) (*notification, error) {
	var b bundle
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, jsonError(body, "", err)
	}
	if b.ResourceType != "Bundle" {
		return nil, malformedf("field resourceType: want Bundle, got %q", clip(b.ResourceType, maxQuoted))
	}
	if len(b.Entry) == 0 || len(b.Entry[0].Resource) == 0 {
		return nil, malformedf("field entry[0].resource is missing: want the subscription status")
	}
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(b.Entry[0].Resource, &head); err != nil {
		return nil, jsonError(b.Entry[0].Resource, statusAt, err)
	}
	var n *notification
	var err error
	switch head.ResourceType {
	case "Parameters":
		n, err = fromParameters(b.Entry[0].Resource)
	case "SubscriptionStatus":
		n, err = fromSubscriptionStatus(b.Entry[0].Resource)
	default:
		return nil, malformedf("field %s.resourceType: want Parameters or SubscriptionStatus, got %q", statusAt, clip(head.ResourceType, maxQuoted))
	}
	if err != nil {
		return nil, err
	}
	if n.Subscription == "" {
		return nil, malformedf("the subscription status in %s names no subscription", statusAt)
	}
	if n.Type == "" {
		return nil, malformedf("the subscription status in %s has no type", statusAt)
	}
	n.Sent, n.BundleID = b.Timestamp, b.ID
	n.entries = make(map[string]*bundleEntry, 2*(len(b.Entry)-1))
	for i := 1; i < len(b.Entry); i++ {
		e := &b.Entry[i]
		if e.FullURL != "" {
			n.entries[e.FullURL] = e
		}
		if ref, ok := parseReference(e.FullURL); ok {
			n.entries[ref.key()] = e
		}
		if e.Request != nil {
			if ref, ok := parseReference(e.Request.URL); ok {
				n.entries[ref.key()] = e
			}
		}
	}
	return n, nil
}

func fromParameters(raw json.RawMessage) (*notification, error) {
	var p parameters
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, jsonError(raw, statusAt, err)
	}
	n := &notification{EventsSinceStart: -1}
	for _, prm := range p.Parameter {
		switch prm.Name {
		case "subscription":
			n.Subscription = prm.value()
		case "status":
			n.Status = prm.value()
		case "type":
			n.Type = prm.value()
		case "events-since-subscription-start":
			v, err := eventNumber(prm.value())
			if err != nil {
				return nil, fmt.Errorf("parameter events-since-subscription-start: %w", err)
			}
			n.EventsSinceStart = v
		case "notification-event":
			var ev notificationEvent
			number := ""
			for _, part := range prm.Part {
				switch part.Name {
				case "event-number":
					number = part.value()
				case "focus":
					ev.Focus = part.value()
				case "timestamp":
					ev.At = part.value()
				}
			}
			v, err := eventNumber(number)
			if err != nil {
				return nil, fmt.Errorf("parameter notification-event, part event-number: %w", err)
			}
			ev.Number = v
			n.Events = append(n.Events, ev)
		}
	}
	return n, nil
}

func fromSubscriptionStatus(raw json.RawMessage) (*notification, error) {
	var s subscriptionStatus
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, jsonError(raw, statusAt, err)
	}
	n := &notification{Status: s.Status, Type: s.Type, EventsSinceStart: -1}
	if s.Subscription != nil {
		n.Subscription = s.Subscription.Reference
	}
	if s.EventsSinceSubscriptionStart.set() {
		v, err := eventNumber(s.EventsSinceSubscriptionStart.text())
		if err != nil {
			return nil, fmt.Errorf("field %s.eventsSinceSubscriptionStart: %w", statusAt, err)
		}
		n.EventsSinceStart = v
	}
	for i, e := range s.NotificationEvent {
		v, err := eventNumber(e.EventNumber.text())
		if err != nil {
			return nil, fmt.Errorf("field %s.notificationEvent[%d].eventNumber: %w", statusAt, i, err)
		}
		ev := notificationEvent{Number: v, At: e.Timestamp}
		if e.Focus != nil {
			ev.Focus = e.Focus.Reference
		}
		n.Events = append(n.Events, ev)
	}
	return n, nil
}

// eventNumber reads an event counter: a non-negative decimal integer64.
func eventNumber(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, malformedf("want a non-negative integer, got %q", clip(s, maxQuoted))
	}
	return v, nil
}

// statusAt is where a notification Bundle carries its subscription status.
const statusAt = "entry[0].resource"

// maxQuoted bounds a value of the body quoted in an error.
const maxQuoted = 64

// number is a FHIR integer as JSON carries it: a number, or (integer64 and
// some servers' unsignedInt) a string of digits. It is read as raw JSON and
// checked by its user, so that a bad one is reported by name.
type number json.RawMessage

func (n *number) UnmarshalJSON(b []byte) error {
	*n = append((*n)[:0], b...)
	return nil
}

// set reports whether the member was there and not null.
func (n number) set() bool { return len(n) > 0 && string(n) != "null" }

// text returns the number's digits, the string's content, or "" when unset.
func (n number) text() string {
	if !n.set() {
		return ""
	}
	var s string
	if json.Unmarshal(n, &s) == nil {
		return s
	}
	return string(n)
}

// changes normalizes the notification's events into Changes of source,
// one per distinct focus. It reports false when some event's resource
// cannot be told (no focus, as with "empty" content, or one that cannot be
// read), so that the caller reconciles instead. An id-only event gives a
// ChangeHint; an event whose resource is in the Bundle gives a ChangeUpsert
// at the resource's meta.versionId (or a ChangeDelete for a DELETE entry).
func (n *notification) changes(source string) ([]connector.Change, bool) {
	var out []connector.Change
	complete := true
	seen := make(map[string]bool)
	if len(n.Events) == 0 {
		complete = false // an event-notification about nothing named
	}
	for _, ev := range n.Events {
		if ev.Focus == "" {
			complete = false // "empty" content: the subscriber must look
			continue
		}
		c, ok := n.change(source, ev.Focus)
		if !ok {
			complete = false
			continue
		}
		k := c.Ref.String() + "@" + c.Version + ":" + string(c.Kind)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
	}
	return out, complete
}

func (n *notification) change(source, focus string) (connector.Change, bool) {
	ref, parsed := parseReference(focus)
	entry := n.entries[focus]
	if entry == nil && parsed {
		entry = n.entries[ref.key()]
	}
	if entry != nil && entry.Request != nil && strings.EqualFold(entry.Request.Method, "DELETE") && parsed {
		return connector.Change{
			Kind:    connector.ChangeDelete,
			Ref:     connector.Ref{System: source, Type: ref.Type, ID: ref.ID},
			Version: ref.Version,
		}, true
	}
	if entry != nil && len(entry.Resource) > 0 {
		res, err := decodeResource(entry.Resource)
		if err == nil && isResourceType(res.ResourceType) && isID(res.ID) {
			return connector.Change{
				Kind:    connector.ChangeUpsert,
				Ref:     connector.Ref{System: source, Type: res.ResourceType, ID: res.ID},
				Version: res.Meta.VersionID,
				Patient: res.patient(),
			}, true
		}
	}
	if !parsed {
		return connector.Change{}, false
	}
	return connector.Change{
		Kind:    connector.ChangeHint,
		Ref:     connector.Ref{System: source, Type: ref.Type, ID: ref.ID},
		Version: ref.Version,
	}, true
}

// eventID names the events a notification carries: the subscription, the
// event numbers and the numbering's stamp (see stamp), so a resent
// notification is a duplicate while event 1 of a subscription that started
// counting again is not event 1 of its previous numbering.
func (n *notification) eventID() string {
	nums := make([]int64, 0, len(n.Events))
	for _, ev := range n.Events {
		nums = append(nums, ev.Number)
	}
	slices.Sort(nums)
	nums = slices.Compact(nums)
	var b strings.Builder
	b.WriteString(n.Subscription)
	b.WriteByte('#')
	if len(nums) == 0 {
		b.WriteString("since@")
		b.WriteString(strconv.FormatInt(n.EventsSinceStart, 10))
	}
	for i, v := range nums {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	return withStamp(b.String(), n.stamp())
}

// withStamp appends a notification's stamp to an id.
func withStamp(id, stamp string) string {
	if stamp == "" {
		return id
	}
	return id + "@" + stamp
}

// stamp tells one numbering of a subscription's events from the next. Event
// numbers start again at 1 after a new handshake, so a number alone names
// an event only within one numbering; the instant the event happened, which
// a server sends again unchanged when it resends the event, tells which
// numbering it belongs to. With several events the earliest instant stands
// for them. When an event has no timestamp, the Bundle's timestamp (or else
// its id) stands in: a sender that rebuilds the Bundle on a retry then has
// its retry ingested again, which costs a second look at the resource,
// where reusing the bare number would drop the first event of every new
// numbering. A notification with none of these is named by its numbers
// alone, as before.
func (n *notification) stamp() string {
	if len(n.Events) > 0 && !slices.ContainsFunc(n.Events, func(ev notificationEvent) bool { return ev.At == "" }) {
		var earliest time.Time
		raw := ""
		for _, ev := range n.Events {
			at, err := time.Parse(time.RFC3339Nano, ev.At)
			if err != nil {
				// Unreadable, but the same text on a resend.
				if raw == "" || ev.At < raw {
					raw = ev.At
				}
				continue
			}
			if earliest.IsZero() || at.Before(earliest) {
				earliest = at
			}
		}
		if raw != "" {
			return raw
		}
		return earliest.UTC().Format(time.RFC3339Nano)
	}
	if at, err := time.Parse(time.RFC3339Nano, n.Sent); err == nil {
		return "sent:" + at.UTC().Format(time.RFC3339Nano)
	}
	if n.Sent != "" {
		return "sent:" + n.Sent
	}
	if n.BundleID != "" {
		return "bundle:" + n.BundleID
	}
	return ""
}

// eventRange returns the lowest and highest event number carried, or, for a
// notification without events, its events-since-subscription-start twice.
func (n *notification) eventRange() (lo, hi int64, ok bool) {
	if len(n.Events) == 0 {
		return n.EventsSinceStart, n.EventsSinceStart, n.EventsSinceStart >= 0
	}
	lo, hi = n.Events[0].Number, n.Events[0].Number
	for _, ev := range n.Events[1:] {
		lo, hi = min(lo, ev.Number), max(hi, ev.Number)
	}
	return lo, hi, true
}
