package mockphp

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Change types, as the Standard Webhooks event's "type" carries them.
const (
	ChangeCreated = "resource.created"
	ChangeUpdated = "resource.updated"
	ChangeDeleted = "resource.deleted"
)

// Change is one committed create, update or delete, in commit order.
type Change struct {
	// Seq numbers changes from 1 in the order they were committed.
	Seq uint64
	// Type is ChangeCreated, ChangeUpdated or ChangeDeleted.
	Type         string
	ResourceType string
	ID           string
	// VersionID is the meta.versionId the change produced (for a delete,
	// the version number the deletion took).
	VersionID string
	// Patient is "Patient/id" of the patient the resource belongs to, or
	// empty (Binary, Subscription).
	Patient string
	// LastUpdated is the resource's meta.lastUpdated after the change
	// (faults may skew it).
	LastUpdated time.Time
	// At is when the change happened by the server's clock.
	At time.Time

	body []byte // the resource (for a delete: its last version)
}

// Ref is "Type/id".
func (c Change) Ref() string { return c.ResourceType + "/" + c.ID }

// Format is a webhook wire format.
type Format string

// The webhook formats the emitter speaks.
const (
	// FormatStandardWebhooks posts a JSON change event (see the package
	// documentation) signed per the Standard Webhooks specification.
	FormatStandardWebhooks Format = "standard-webhooks"
	// FormatFHIRSubscription posts FHIR Subscriptions R5 Backport
	// notification Bundles (R4 form): handshake, heartbeat and
	// event-notification. The name is the receiver's; "fhir-backport" is
	// accepted for it too.
	FormatFHIRSubscription Format = "fhir-subscription"
	// FormatMedplum posts the changed resource itself with an X-Signature
	// header, as Medplum's rest-hook subscriptions do.
	FormatMedplum Format = "medplum"
)

// Payload is how much of the resource a notification carries.
type Payload string

// Payload contents, named as the Subscriptions Backport names them.
const (
	PayloadIDOnly       Payload = "id-only"
	PayloadFullResource Payload = "full-resource"
	PayloadEmpty        Payload = "empty"
)

// TopicURL is the SubscriptionTopic canonical of every change the server
// notifies about.
const TopicURL = "https://healthcare-records.github.io/fhir/SubscriptionTopic/resource-change"

// Endpoint is a receiver of notifications.
type Endpoint struct {
	// ID names the endpoint (and, for FormatFHIRSubscription, its Subscription
	// resource). Subscribe assigns one when empty.
	ID string `json:"id,omitempty"`
	// URL receives POSTs.
	URL    string `json:"url"`
	Format Format `json:"format"`
	// Secrets sign the notifications. Standard Webhooks: "whsec_<base64>"
	// secrets, every one signing each message (more than one while a secret
	// is rotated). Medplum: the first secret is the HMAC key as is. FHIR
	// Backport sends no signature; use Header for a credential.
	Secrets []string `json:"secrets,omitempty"`
	// Payload is id-only (the default) or full-resource; Backport also
	// knows empty. Standard Webhooks adds data.resource when full; Medplum
	// always sends the resource.
	Payload Payload `json:"payload,omitempty"`
	// Header lines ("Authorization: Bearer x") added to every POST, as FHIR
	// Subscription.channel.header carries them.
	Header []string `json:"header,omitempty"`
	// ResourceTypes limits notifications to these types; empty means every
	// type except Subscription.
	ResourceTypes []string `json:"resource_types,omitempty"`
	// HeartbeatPeriod sends Backport heartbeats while idle (zero: none).
	HeartbeatPeriod time.Duration `json:"heartbeat_period,omitempty"`
}

func (ep *Endpoint) validate() error {
	u, err := url.Parse(ep.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint url %q is not an http(s) url", ep.URL)
	}
	if ep.Format == "fhir-backport" {
		ep.Format = FormatFHIRSubscription
	}
	switch ep.Format {
	case FormatStandardWebhooks:
		if len(ep.Secrets) == 0 {
			return errors.New("a standard-webhooks endpoint needs a whsec_ secret")
		}
		for _, s := range ep.Secrets {
			if _, err := webhookKey(s); err != nil {
				return err
			}
		}
	case FormatFHIRSubscription, FormatMedplum:
	default:
		return fmt.Errorf("webhook format %q is not known", ep.Format)
	}
	switch ep.Payload {
	case "":
		ep.Payload = PayloadIDOnly
	case PayloadIDOnly, PayloadFullResource:
	case PayloadEmpty:
		if ep.Format != FormatFHIRSubscription {
			return errors.New("payload empty is only for fhir-subscription")
		}
	default:
		return fmt.Errorf("payload %q is not known", ep.Payload)
	}
	for _, h := range ep.Header {
		if k, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("header %q is not 'Name: value'", h)
		}
	}
	if ep.HeartbeatPeriod < 0 {
		return errors.New("negative heartbeat period")
	}
	return nil
}

func (ep *Endpoint) wants(typ string) bool {
	if len(ep.ResourceTypes) == 0 {
		return typ != "Subscription"
	}
	return slices.Contains(ep.ResourceTypes, typ)
}

// webhookKey decodes a Standard Webhooks secret "whsec_<base64>".
func webhookKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New("standard-webhooks secret must start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < 16 {
		return nil, errors.New("standard-webhooks secret is not base64 of at least 16 bytes")
	}
	return key, nil
}

// NewWebhookSecret returns a fresh Standard Webhooks secret
// ("whsec_" and 32 random bytes in base64).
func NewWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// Subscribe registers ep and returns its id. A FormatFHIRSubscription endpoint
// gets a Subscription resource and a handshake before any event. Events
// committed from now on are queued for it; they are sent once Start runs.
func (s *Server) Subscribe(ep Endpoint) (string, error) {
	if err := ep.validate(); err != nil {
		return "", fmt.Errorf("mockphp: subscribe: %w", err)
	}
	if ep.ID == "" {
		ep.ID = newUUID()
	}
	if ep.Format == FormatFHIRSubscription {
		s.mu.Lock()
		defer s.mu.Unlock()
		if rec := s.st.get("Subscription", ep.ID); rec == nil || rec.deleted {
			if _, _, err := s.st.put(subscriptionResource(ep), s.now(), ""); err != nil {
				return "", fmt.Errorf("mockphp: subscribe: %w", err)
			}
		}
	}
	s.em.add(ep)
	s.log.Info("endpoint subscribed", "endpoint", ep.ID, "format", string(ep.Format))
	return ep.ID, nil
}

// Unsubscribe stops notifications to the endpoint; what is queued for it
// is dropped.
func (s *Server) Unsubscribe(id string) bool {
	return s.em.remove(id)
}

// Endpoints lists the registered endpoints.
func (s *Server) Endpoints() []Endpoint { return s.em.list() }

// subscriptionResource is the R4 Subscription, Backport profile, that
// stands for ep.
func subscriptionResource(ep Endpoint) object {
	channel := object{
		"type":     "rest-hook",
		"endpoint": ep.URL,
		"payload":  "application/fhir+json",
		"_payload": object{"extension": list(object{
			"url":       "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content",
			"valueCode": string(ep.Payload),
		})},
	}
	if len(ep.Header) > 0 {
		h := make([]any, len(ep.Header))
		for i, v := range ep.Header {
			h[i] = v
		}
		channel["header"] = h
	}
	if ep.HeartbeatPeriod > 0 {
		channel["extension"] = list(object{
			"url":              "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period",
			"valueUnsignedInt": int(ep.HeartbeatPeriod.Seconds()),
		})
	}
	return object{
		"resourceType": "Subscription",
		"id":           ep.ID,
		"meta":         object{"profile": list("http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription")},
		"status":       "active",
		"reason":       "resource changes for healthcare-records",
		"criteria":     TopicURL,
		"channel":      channel,
	}
}

// endpointFromSubscription reads a Backport Subscription a client created.
func endpointFromSubscription(res object) (Endpoint, error) {
	ch := obj(res, "channel")
	if str(ch, "type") != "rest-hook" {
		return Endpoint{}, fmt.Errorf("%w: only rest-hook channels are supported", errMalformed)
	}
	ep := Endpoint{ID: str(res, "id"), URL: str(ch, "endpoint"), Format: FormatFHIRSubscription, Payload: PayloadIDOnly}
	for _, e := range arr(obj(ch, "_payload"), "extension") {
		if m, ok := e.(object); ok && strings.HasSuffix(str(m, "url"), "/backport-payload-content") {
			ep.Payload = Payload(str(m, "valueCode"))
		}
	}
	for _, e := range arr(ch, "extension") {
		if m, ok := e.(object); ok && strings.HasSuffix(str(m, "url"), "/backport-heartbeat-period") {
			var secs float64
			_, _ = fmt.Sscan(fmt.Sprint(m["valueUnsignedInt"]), &secs)
			ep.HeartbeatPeriod = time.Duration(secs * float64(time.Second))
		}
	}
	for _, h := range arr(ch, "header") {
		if v, ok := h.(string); ok {
			ep.Header = append(ep.Header, v)
		}
	}
	if err := ep.validate(); err != nil {
		return Endpoint{}, fmt.Errorf("%w: %w", errMalformed, err)
	}
	return ep, nil
}
