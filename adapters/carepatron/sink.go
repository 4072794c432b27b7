package carepatron

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/connector"
)

// Config configures a Sink.
type Config struct {
	// Client calls Carepatron. Required.
	Client *carepatron.Client
	// SourceLink returns the link back to a document at its source, shown
	// with the document in Carepatron. Default: a URN naming the ref,
	// "urn:healthcare-records:<system>:<type>:<id>".
	SourceLink func(connector.Ref) string
	// Logger receives ids and outcomes, never patient data. Default
	// slog.Default().
	Logger *slog.Logger
	// Remember is how many recent idempotency keys the Sink answers from
	// memory without calling Carepatron. Default 4096; negative disables.
	Remember int
}

// Sink delivers patients and documents to Carepatron: a patient becomes a
// contact, a document a file on the contact's record with its source
// metadata and a link back to the source. It implements connector.Sink and
// is safe for concurrent use.
//
// No write ever leaves a second contact or document for one source ref,
// whatever fails when. Three things see to it:
//
//   - every create carries the engine's key as Idempotency-Key, so a create
//     retried after a lost response answers the object it made;
//   - every object carries its source ref as external reference, which
//     Carepatron keeps unique: a create for a ref already held answers 409
//     with the holder's id, and the Sink updates that one instead;
//   - every update carries a key derived from the engine's, so replaying an
//     old delivery cannot write its old version over a newer one.
type Sink struct {
	c    *carepatron.Client
	link func(connector.Ref) string
	log  *slog.Logger
	memo *memo
}

var _ connector.Sink = (*Sink)(nil)

// New returns a Sink writing through cfg.Client.
func New(cfg Config) (*Sink, error) {
	if cfg.Client == nil {
		return nil, errors.New("carepatron sink: config has no client")
	}
	if cfg.SourceLink == nil {
		cfg.SourceLink = sourceURN
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Remember == 0 {
		cfg.Remember = 4096
	}
	return &Sink{c: cfg.Client, link: cfg.SourceLink, log: cfg.Logger, memo: newMemo(cfg.Remember)}, nil
}

func sourceURN(r connector.Ref) string {
	return "urn:healthcare-records:" + r.System + ":" + r.Type + ":" + r.ID
}

// reference is the external reference a source ref is kept under.
func reference(r connector.Ref) string { return r.String() }

// Derived idempotency keys: one engine key drives up to one create and one
// update, which must not share a key (they are different requests).
func updateKey(key string) string { return key + "/update" }

// UpsertPatient creates or updates the patient's contact. With no SinkID
// it first looks the contact up by the patient's ref; a contact that holds
// a newer source version is left as it is.
func (s *Sink) UpsertPatient(ctx context.Context, w connector.PatientWrite) (string, error) {
	if w.Key == "" {
		return "", fmt.Errorf("%w: patient write has no key", connector.ErrInvalid)
	}
	if err := w.Patient.Ref.Validate(); err != nil {
		return "", fmt.Errorf("patient: %w", err)
	}
	fp := requestPrint(w.SinkID, w.Patient.Ref.String(), w.Patient.Version, w.Patient.Fingerprint())
	if id, ok := s.memo.get(w.Key, fp); ok {
		return id, nil
	}
	id, err := s.upsertPatient(ctx, w)
	if err != nil {
		return "", fmt.Errorf("carepatron sink: patient %s: %w", w.Patient.Ref, classify(err))
	}
	s.memo.put(w.Key, fp, id)
	return id, nil
}

func (s *Sink) upsertPatient(ctx context.Context, w connector.PatientWrite) (string, error) {
	in := contactInput(w.Patient)
	if w.SinkID != "" {
		c, err := s.c.UpdateContact(ctx, w.SinkID, updateKey(w.Key), in)
		if !carepatron.IsNotFound(err) {
			return idOf(c, err)
		}
		s.log.InfoContext(ctx, "carepatron contact gone; finding or creating it again", "contact", w.SinkID, "ref", w.Patient.Ref.String())
	}
	page, err := s.c.SearchContacts(ctx, carepatron.ContactQuery{ExternalReference: in.ExternalReference, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(page.Items) > 0 {
		return s.updateFound(ctx, w, &page.Items[0], in)
	}
	c, err := s.c.CreateContact(ctx, w.Key, in)
	if id, ok := duplicateOf(err); ok {
		// Created since the search, by another writer or a lost response.
		c, err = s.c.UpdateContact(ctx, id, updateKey(w.Key), in)
	}
	if err == nil {
		s.log.DebugContext(ctx, "carepatron contact written", "contact", c.Id, "ref", w.Patient.Ref.String())
	}
	return idOf(c, err)
}

// updateFound updates a contact found by its ref, unless it holds a newer
// version or already what would be written.
func (s *Sink) updateFound(ctx context.Context, w connector.PatientWrite, held *carepatron.Contact, in carepatron.ContactInput) (string, error) {
	if holdsNewer(held.SourceVersion, held.SourceUpdatedAt, w.Patient.Version, w.Patient.UpdatedAt) {
		s.log.InfoContext(ctx, "carepatron contact holds a newer version; left as it is",
			"contact", held.Id, "held", held.SourceVersion, "version", w.Patient.Version)
		return held.Id, nil
	}
	if sameContact(held, in) {
		return held.Id, nil
	}
	c, err := s.c.UpdateContact(ctx, held.Id, updateKey(w.Key), in)
	return idOf(c, err)
}

// PutDocument uploads the document to its patient's record, or updates the
// one already there (metadata and file in one call).
func (s *Sink) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	if w.Key == "" {
		return "", fmt.Errorf("%w: document write has no key", connector.ErrInvalid)
	}
	if w.PatientSinkID == "" {
		return "", fmt.Errorf("%w: document %s has no patient in carepatron", connector.ErrInvalid, w.Document.Ref)
	}
	if err := w.Document.Ref.Validate(); err != nil {
		return "", fmt.Errorf("document: %w", err)
	}
	fp := requestPrint(w.SinkID, w.PatientSinkID, w.Document.Ref.String(), w.Document.Version, w.Document.Fingerprint())
	if id, ok := s.memo.get(w.Key, fp); ok {
		return id, nil
	}
	id, err := s.putDocument(ctx, w)
	if err != nil {
		return "", fmt.Errorf("carepatron sink: document %s: %w", w.Document.Ref, classify(err))
	}
	s.memo.put(w.Key, fp, id)
	return id, nil
}

func (s *Sink) putDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	f := s.file(ctx, &w.Document)
	if w.SinkID != "" {
		d, err := s.c.ReplaceDocument(ctx, w.PatientSinkID, w.SinkID, updateKey(w.Key), f)
		if !carepatron.IsNotFound(err) {
			return idOf(d, err)
		}
		s.log.InfoContext(ctx, "carepatron document gone; uploading it again", "document", w.SinkID, "ref", w.Document.Ref.String())
	}
	// One request for a new document: Carepatron refuses a second document
	// with the same external reference, so no lookup is needed first.
	d, err := s.c.UploadDocument(ctx, w.PatientSinkID, w.Key, f)
	if id, ok := duplicateOf(err); ok {
		return s.replaceHeld(ctx, w, id, f)
	}
	if err == nil {
		s.log.DebugContext(ctx, "carepatron document uploaded", "contact", w.PatientSinkID, "document", d.Id, "ref", w.Document.Ref.String())
	}
	return idOf(d, err)
}

// replaceHeld updates the document that already holds the write's ref,
// unless it holds a newer version or already this one.
func (s *Sink) replaceHeld(ctx context.Context, w connector.DocumentWrite, id string, f carepatron.File) (string, error) {
	held, err := s.c.Document(ctx, w.PatientSinkID, id)
	if err != nil {
		return "", err
	}
	if holdsNewer(held.SourceVersion, held.SourceUpdatedAt, w.Document.Version, w.Document.UpdatedAt) {
		s.log.InfoContext(ctx, "carepatron document holds a newer version; left as it is",
			"document", id, "held", held.SourceVersion, "version", w.Document.Version)
		return id, nil
	}
	if sameDocument(held, f) {
		return id, nil
	}
	d, err := s.c.ReplaceDocument(ctx, w.PatientSinkID, id, updateKey(w.Key), f)
	return idOf(d, err)
}

// DeleteDocument deletes the document from its patient's record. A
// document already gone, or never written, counts as deleted.
func (s *Sink) DeleteDocument(ctx context.Context, d connector.DocumentDelete) error {
	if d.PatientSinkID == "" {
		// The patient never reached Carepatron, so neither did the document.
		return nil
	}
	ids := []string{d.SinkID}
	if d.SinkID == "" {
		var err error
		if ids, err = s.find(ctx, d.PatientSinkID, reference(d.Ref)); err != nil {
			return fmt.Errorf("carepatron sink: delete document %s: %w", d.Ref, classify(err))
		}
	}
	for _, id := range ids {
		err := s.c.DeleteDocument(ctx, d.PatientSinkID, id)
		if err != nil && !carepatron.IsNotFound(err) {
			return fmt.Errorf("carepatron sink: delete document %s: %w", d.Ref, classify(err))
		}
		s.log.DebugContext(ctx, "carepatron document deleted", "contact", d.PatientSinkID, "document", id)
	}
	return nil
}

// find returns the ids of the contact's documents held under ref.
func (s *Sink) find(ctx context.Context, contactID, ref string) ([]string, error) {
	var ids []string
	q := carepatron.DocumentQuery{ExternalReference: ref}
	for {
		page, err := s.c.Documents(ctx, contactID, q)
		if carepatron.IsNotFound(err) {
			return nil, nil // the contact is gone, and its documents with it
		}
		if err != nil {
			return nil, err
		}
		for _, d := range page.Items {
			ids = append(ids, d.Id)
		}
		if page.NextCursor == "" {
			return ids, nil
		}
		q.Cursor = page.NextCursor
	}
}

func idOf[T carepatron.Contact | carepatron.Document](v *T, err error) (string, error) {
	if err != nil {
		return "", err
	}
	switch v := any(v).(type) {
	case *carepatron.Contact:
		return v.Id, nil
	case *carepatron.Document:
		return v.Id, nil
	}
	return "", nil
}
