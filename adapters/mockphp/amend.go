package mockphp

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// errState is returned by a mutation that the resource's state forbids,
// such as restoring a document that is not deleted.
var errState = errors.New("resource is not in a state for this change")

// UpdateAttachment amends the content behind a document's Binary without
// touching the DocumentReference, as an EHR that stores attachments apart
// does: only the Binary gets a new version and notifies. It returns the
// changes committed. A document with inline content has no Binary to
// change and is refused.
func (s *Server) UpdateAttachment(docID string) ([]Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.liveLocked("DocumentReference", docID)
	if err != nil {
		return nil, err
	}
	info := s.docInfoLocked(rec)
	if info.BinaryID == "" {
		return nil, fmt.Errorf("mockphp: DocumentReference/%s has inline content, no Binary: %w", docID, errState)
	}
	start := s.em.seq
	if _, err := s.amendBinaryLocked(info.BinaryID, info.Title, s.addendumLocked()); err != nil {
		return nil, fmt.Errorf("mockphp: update attachment: %w", err)
	}
	return s.em.since(start), nil
}

// CorrectObservation corrects a lab value: the Observation gets a new
// value a few percent off the old one and status corrected, and notifies.
// The DiagnosticReport listing it and the lab report's document are left
// as they were, as when a laboratory corrects a result before it reissues
// the report. It returns the changes committed.
func (s *Server) CorrectObservation(id string) ([]Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.liveLocked("Observation", id)
	if err != nil {
		return nil, err
	}
	res, err := decodeResource(rec.body)
	if err != nil {
		return nil, err
	}
	q := obj(res, "valueQuantity")
	old, err := strconv.ParseFloat(fmt.Sprint(q["value"]), 64)
	if q == nil || err != nil {
		return nil, fmt.Errorf("mockphp: Observation/%s has no numeric value: %w", id, errState)
	}
	decimals := 0
	if _, frac, ok := strings.Cut(fmt.Sprint(q["value"]), "."); ok {
		decimals = len(frac)
	}
	scale := math.Pow(10, float64(decimals))
	v := math.Round(old*(1+(0.02+0.06*s.rng.Float64())*float64(1-2*s.rng.IntN(2)))*scale) / scale
	if v == old {
		v = old + 1/scale
	}
	q["value"] = v
	res["status"] = "corrected"
	res["issued"] = formatInstant(s.now())
	start := s.em.seq
	if _, _, err := s.commitLocked(res, ""); err != nil {
		return nil, fmt.Errorf("mockphp: correct observation: %w", err)
	}
	return s.em.since(start), nil
}

// RestoreDocument creates a deleted document again under the same id,
// with the content it had when it was deleted (its Binary too, if that
// was deleted with it), as a practice undoing a deletion does. Each
// resource created notifies as a create.
func (s *Server) RestoreDocument(id string) (DocumentInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.get("DocumentReference", id)
	switch {
	case rec == nil:
		return DocumentInfo{}, fmt.Errorf("mockphp: DocumentReference/%s: %w", id, errUnknown)
	case !rec.deleted:
		return DocumentInfo{}, fmt.Errorf("mockphp: DocumentReference/%s is not deleted: %w", id, errState)
	}
	info := s.docInfoLocked(rec)
	if info.BinaryID != "" {
		if b := s.st.get("Binary", info.BinaryID); b != nil && b.deleted {
			if err := s.recreateLocked(b); err != nil {
				return DocumentInfo{}, err
			}
		}
	}
	if err := s.recreateLocked(rec); err != nil {
		return DocumentInfo{}, err
	}
	return s.docInfoLocked(rec), nil
}

// recreateLocked commits the last live version of a deleted record as a
// new version, which notifies as a create.
func (s *Server) recreateLocked(rec *record) error {
	var body []byte
	for i := len(rec.versions) - 1; i >= 0 && body == nil; i-- {
		body = rec.versions[i].body
	}
	res, err := decodeResource(body)
	if err != nil {
		return fmt.Errorf("mockphp: restore %s: %w", rec.ref(), err)
	}
	if _, _, err := s.commitLocked(res, ""); err != nil {
		return fmt.Errorf("mockphp: restore %s: %w", rec.ref(), err)
	}
	return nil
}
