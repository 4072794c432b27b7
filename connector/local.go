package connector

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// SaveLocal keeps a document made here (a dietician's upload), in the
// caller's transaction, and enqueues its delivery to every sink; it
// returns the document's local id. d.Ref.System names where the document
// lives, which must not be a registered Source (the practice uses
// "practice"): documents of no Source are never fetched, and reconciles
// and deletion checks of a Source never take them for deleted. d.Patient
// is the patient's ref at its Source, whose local record must exist.
//
// The content is sealed (Size, ContentHash) and the copy fingerprinted;
// its Version counts its saves ("1", "2", ...) unless d.Version is set, and
// UpdatedAt is now unless set. Saving the same fields again enqueues
// nothing new. With d.Deleted set, the local copy is marked deleted (kept
// as it was, content included) and the sinks delete theirs; a document
// never saved is ErrNotFound.
func (e *Engine) SaveLocal(ctx context.Context, tx Tx, d StoredDocument) (int64, error) {
	if _, ok := e.cfg.Sources[d.Ref.System]; ok {
		return 0, fmt.Errorf("%w: local document %s: %q is a source", ErrInvalid, d.Ref, d.Ref.System)
	}
	old, err := tx.Document(ctx, d.Ref)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, fmt.Errorf("save local document %s: %w", d.Ref, err)
	}
	next := StoredDocument{ID: old.ID, PatientID: old.PatientID, Document: d.Document}
	if d.Deleted {
		if !found {
			return 0, fmt.Errorf("delete local document %s: %w", d.Ref, ErrNotFound)
		}
		next.Document, next.Deleted = old.Document, true
		next.Version = d.Version
	} else {
		e.sealHeld(&next.Document)
		if err := next.Validate(); err != nil {
			return 0, fmt.Errorf("save local document: %w", err)
		}
		p, err := tx.Patient(ctx, d.Patient)
		if err != nil {
			return 0, fmt.Errorf("save local document %s: %w", d.Ref, err)
		}
		next.PatientID = p.ID
	}
	if found && old.Deleted == next.Deleted && old.Fingerprint == next.Document.Fingerprint() {
		return old.ID, nil
	}
	if next.Version == "" {
		n, _ := strconv.Atoi(old.Version)
		next.Version = strconv.Itoa(n + 1)
	}
	if next.UpdatedAt.IsZero() || next.Deleted {
		next.UpdatedAt = e.cfg.Now()
	}
	next.Fingerprint = next.Document.Fingerprint()
	if next.ID, err = tx.SaveDocument(ctx, next); err != nil {
		return 0, fmt.Errorf("save local document %s: %w", d.Ref, err)
	}
	if err := e.enqueueDeliveries(ctx, tx, "", next.Ref, next.Version, next.Fingerprint, next.Deleted); err != nil {
		return 0, fmt.Errorf("save local document %s: %w", d.Ref, err)
	}
	return next.ID, nil
}
