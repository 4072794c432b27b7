package connector

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Redelivery asks for local copies to be written to a sink again, as when
// a database is reused with a sink that lost what it held, or a sink was
// restored from an old backup. The engine otherwise trusts its mapping of
// what each sink holds.
type Redelivery struct {
	// Sink is the name of the sink to write to. Required.
	Sink string
	// Source is the name of the source whose patients are redelivered.
	// Required.
	Source string
	// Patient narrows the redelivery to one patient, by the source's id;
	// empty means every patient of Source.
	Patient string
	// ID names this redelivery, so that it is enqueued once however often
	// it is asked for; empty means a new one.
	ID string
}

// Redeliver enqueues one delivery of each of the patients' records and
// live documents to r.Sink, written even where the mapping says the sink
// holds them, and returns how many it enqueued. It needs only the Store,
// so an operator's tool can call it beside a running server, whose workers
// do the writes.
func Redeliver(ctx context.Context, s Store, r Redelivery) (int, error) {
	if r.Sink == "" || r.Source == "" {
		return 0, fmt.Errorf("%w: redelivery needs a sink and a source", ErrInvalid)
	}
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	var n int
	err := s.Update(ctx, func(tx Tx) error {
		n = 0
		patients := []Ref{{System: r.Source, Type: PatientType, ID: r.Patient}}
		if r.Patient == "" {
			var err error
			if patients, err = tx.PatientRefs(ctx, r.Source); err != nil {
				return err
			}
		}
		var ops []Op
		for _, ref := range patients {
			p, err := tx.Patient(ctx, ref)
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%w: no patient %s of source %s", ErrNotFound, ref.ID, r.Source)
			}
			if err != nil {
				return err
			}
			ops = append(ops, DeliverOp{Sink: r.Sink, Ref: ref, Version: p.Version, Fingerprint: p.Fingerprint,
				Action: ActionDelivery, Redelivery: r.ID})
			docs, err := tx.LiveDocuments(ctx, ref)
			if err != nil {
				return err
			}
			for _, d := range docs {
				ops = append(ops, DeliverOp{Sink: r.Sink, Ref: d.Ref, Version: d.Version, Fingerprint: d.Fingerprint,
					Action: ActionDelivery, Redelivery: r.ID})
			}
		}
		skipped, err := tx.Enqueue(ctx, ops...)
		n = len(ops) - skipped
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("redeliver to %s: %w", r.Sink, err)
	}
	return n, nil
}
