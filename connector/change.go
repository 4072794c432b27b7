package connector

import "fmt"

// ChangeKind says what happened to a resource.
type ChangeKind string

// The kinds of Change.
const (
	// ChangeUpsert: the resource was created or updated; Version, when set,
	// is the version that now exists.
	ChangeUpsert ChangeKind = "upsert"
	// ChangeDelete: the resource was deleted at the Source.
	ChangeDelete ChangeKind = "delete"
	// ChangeHint: something may have changed; fetch to find out. Webhooks
	// that carry only an id (FHIR id-only notifications) produce hints.
	ChangeHint ChangeKind = "hint"
)

// Change is one normalized change event about a resource in a Source. It is
// what webhook receivers, pollers and the API hand to ingest.
type Change struct {
	Kind ChangeKind `json:"kind"`
	// Ref is the resource that changed. Ref.System names the Source.
	Ref Ref `json:"ref"`
	// Version is the resource's version after the change, when known.
	Version string `json:"version,omitempty"`
	// Patient is the Source's patient id the resource belongs to, when the
	// event says so; empty for a Patient resource itself.
	Patient string `json:"patient,omitempty"`
}

// Validate rejects a Change the engine cannot act on.
func (c Change) Validate() error {
	switch c.Kind {
	case ChangeUpsert, ChangeDelete, ChangeHint:
	case "":
		return fmt.Errorf("%w: change has no kind", ErrInvalid)
	default:
		return fmt.Errorf("%w: change has unknown kind %q", ErrInvalid, c.Kind)
	}
	if err := c.Ref.Validate(); err != nil {
		return fmt.Errorf("change: %w", err)
	}
	return nil
}

// Event is one inbound notification, carrying the changes it reports. Its ID
// makes ingest idempotent: an Event whose ID was already ingested is
// acknowledged and enqueues nothing.
type Event struct {
	// ID is unique per event within its Source (a webhook-id, a
	// subscription and event number).
	ID string `json:"id"`
	// Source is the name of the Source the event came from.
	Source string `json:"source"`
	// Action is how the event arrived, for the sync log.
	Action  Action   `json:"action"`
	Changes []Change `json:"changes,omitempty"`
	// Reconcile asks for every known patient of Source to be reconciled,
	// as when a notification gap shows that events were lost.
	Reconcile bool `json:"reconcile,omitempty"`
}

// Validate rejects an event with no id, no source, or a bad change. Every
// change must belong to the event's Source.
func (e Event) Validate() error {
	if e.ID == "" {
		return fmt.Errorf("%w: event has no id", ErrInvalid)
	}
	if e.Source == "" {
		return fmt.Errorf("%w: event %q has no source", ErrInvalid, e.ID)
	}
	for i, c := range e.Changes {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("event %q change %d: %w", e.ID, i, err)
		}
		if c.Ref.System != e.Source {
			return fmt.Errorf("%w: event %q change %d names system %q, not the event's source %q", ErrInvalid, e.ID, i, c.Ref.System, e.Source)
		}
	}
	return nil
}
