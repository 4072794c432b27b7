package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// NotificationType is the kind of a Subscriptions notification.
type NotificationType string

// The notification types of the Subscriptions R5 Backport IG.
const (
	// Handshake is sent once when a subscription starts.
	Handshake NotificationType = "handshake"
	// Heartbeat is sent on an idle subscription; its
	// events-since-subscription-start reveals lost events.
	Heartbeat NotificationType = "heartbeat"
	// NotificationEvent carries one or more events.
	EventNotification NotificationType = "event-notification"
	// QueryStatus answers a $status query.
	QueryStatus NotificationType = "query-status"
	// QueryEvent answers an $events query.
	QueryEvent NotificationType = "query-event"
)

// ErrNotNotification marks a body that is FHIR but not a subscription
// notification Bundle.
var ErrNotNotification = errors.New("not a subscription notification")

// Notification is a decoded Subscriptions notification, in the R4 Backport
// form (a history Bundle whose first entry is a Parameters resource) or
// the R4B form (first entry a SubscriptionStatus).
type Notification struct {
	Type NotificationType
	// Status is the subscription's status: requested, active, error, off.
	Status string
	// Subscription is the reference of the Subscription that sent it, as
	// sent (usually an absolute URL).
	Subscription string
	// Topic is the canonical URL of the SubscriptionTopic.
	Topic string
	// EventsSinceStart is events-since-subscription-start: how many events
	// the subscription has triggered, this notification's included. It is
	// -1 when the notification does not say. A receiver that saw fewer
	// has lost some.
	EventsSinceStart int64
	Events           []NotificationEvent
	// Errors are the errors the server reports for the subscription.
	Errors []CodeableConcept
	// Included are the entries after the status: the focus resources of a
	// full-resource notification, and any resources they bring along.
	Included []IncludedResource
	// Bundle is the notification as decoded.
	Bundle *Bundle
}

// NotificationEvent is one event a notification reports.
type NotificationEvent struct {
	// Number is the event's number within the subscription, -1 when
	// absent.
	Number    int64
	Timestamp Instant
	// Focus is the resource the event is about; its Reference is empty in
	// an "empty" payload.
	Focus             Reference
	AdditionalContext []Reference
}

// IncludedResource is one resource of a full-resource notification.
type IncludedResource struct {
	FullURL  string
	Resource Resource
}

// ParseNotification decodes a Subscriptions notification body. It fails
// with ErrNotFHIR for a body that is not FHIR, and with
// ErrNotNotification for FHIR that is not a notification (another
// resource, a Bundle of another type, no status entry). Unknown
// notification types and statuses are kept as sent, not refused.
func ParseNotification(body []byte) (*Notification, error) {
	r, err := Decode(body)
	if err != nil {
		return nil, err
	}
	b, ok := r.(*Bundle)
	if !ok {
		return nil, fmt.Errorf("%w: got %s", ErrNotNotification, r.base().ResourceType)
	}
	if b.Type != BundleHistory && b.Type != BundleSubscriptionNotification {
		return nil, fmt.Errorf("%w: bundle of type %q", ErrNotNotification, b.Type)
	}
	if len(b.Entry) == 0 {
		return nil, fmt.Errorf("%w: bundle has no entries", ErrNotNotification)
	}
	status, err := b.Entry[0].Decode()
	if err != nil {
		return nil, fmt.Errorf("%w: status entry: %w", ErrNotNotification, err)
	}
	n := &Notification{Bundle: b, EventsSinceStart: -1}
	switch s := status.(type) {
	case *Parameters:
		n.fromParameters(s)
	case *SubscriptionStatus:
		n.fromStatus(s)
	default:
		return nil, fmt.Errorf("%w: first entry is %s, want Parameters or SubscriptionStatus", ErrNotNotification, status.base().ResourceType)
	}
	if n.Type == "" {
		return nil, fmt.Errorf("%w: status has no notification type", ErrNotNotification)
	}
	for i, e := range b.Entry[1:] {
		if len(e.Resource) == 0 {
			continue
		}
		res, err := e.Decode()
		if err != nil {
			return nil, fmt.Errorf("notification entry %d: %w", i+1, err)
		}
		n.Included = append(n.Included, IncludedResource{FullURL: e.FullURL, Resource: res})
	}
	return n, nil
}

// Resource returns the included resource a reference points at, matched
// by full URL or by "Type/id"; nil when the notification does not carry
// it (an id-only payload).
func (n *Notification) Resource(ref Reference) Resource {
	typ, id, ok := ref.TypeID()
	for _, inc := range n.Included {
		if ref.Reference != "" && inc.FullURL == ref.Reference {
			return inc.Resource
		}
		if b := inc.Resource.base(); ok && b.ResourceType == typ && b.ID == id {
			return inc.Resource
		}
	}
	return nil
}

func (n *Notification) fromParameters(p *Parameters) {
	for _, q := range p.Parameter {
		switch q.Name {
		case "subscription":
			if r, ok := q.Reference(); ok {
				n.Subscription = r.Reference
			}
		case "topic":
			n.Topic = q.String()
		case "status":
			n.Status = q.String()
		case "type":
			n.Type = NotificationType(q.String())
		case "events-since-subscription-start":
			n.EventsSinceStart = parseCount(q.String())
		case "notification-event":
			ev := NotificationEvent{Number: -1}
			for _, part := range q.Part {
				switch part.Name {
				case "event-number":
					ev.Number = parseCount(part.String())
				case "timestamp":
					ev.Timestamp = Instant(part.String())
				case "focus":
					ev.Focus, _ = part.Reference()
				case "additional-context":
					if r, ok := part.Reference(); ok {
						ev.AdditionalContext = append(ev.AdditionalContext, r)
					}
				}
			}
			n.Events = append(n.Events, ev)
		case "error":
			if c, ok := q.CodeableConcept(); ok {
				n.Errors = append(n.Errors, c)
			}
		}
	}
}

func (n *Notification) fromStatus(s *SubscriptionStatus) {
	n.Type = NotificationType(s.Type)
	n.Status = s.Status
	n.Subscription = s.Subscription.Reference
	n.Topic = s.Topic
	n.EventsSinceStart = parseCount(string(s.EventsSinceSubscriptionStart))
	n.Errors = s.Error
	for _, e := range s.NotificationEvent {
		n.Events = append(n.Events, NotificationEvent{
			Number:            parseCount(string(e.EventNumber)),
			Timestamp:         e.Timestamp,
			Focus:             e.Focus,
			AdditionalContext: e.AdditionalContext,
		})
	}
}

func parseCount(s string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 0 {
		return -1
	}
	return v
}

// SubscriptionStatus is the R4B (and R5) resource carrying a
// subscription's status in a notification.
type SubscriptionStatus struct {
	Base
	Status                       string            `json:"status,omitempty"`
	Type                         string            `json:"type,omitempty"`
	EventsSinceSubscriptionStart Number            `json:"eventsSinceSubscriptionStart,omitempty"`
	NotificationEvent            []StatusEvent     `json:"notificationEvent,omitempty"`
	Subscription                 Reference         `json:"subscription"`
	Topic                        string            `json:"topic,omitempty"`
	Error                        []CodeableConcept `json:"error,omitempty"`
}

// StatusEvent is one notificationEvent of a SubscriptionStatus.
type StatusEvent struct {
	EventNumber       Number      `json:"eventNumber,omitempty"`
	Timestamp         Instant     `json:"timestamp,omitempty"`
	Focus             Reference   `json:"focus"`
	AdditionalContext []Reference `json:"additionalContext,omitempty"`
}

// Number is an integer FHIR sends either as a JSON number or, for
// integer64 and in R4B, as a JSON string. It is kept as text.
type Number string

// UnmarshalJSON accepts a JSON number or string.
func (n *Number) UnmarshalJSON(data []byte) error {
	var s string
	if json.Unmarshal(data, &s) == nil {
		*n = Number(s)
		return nil
	}
	var v json.Number
	if err := json.Unmarshal(data, &v); err != nil {
		*n = ""
		return nil
	}
	*n = Number(v.String())
	return nil
}
