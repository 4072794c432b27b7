package connectortest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/healthcare-records/healthcare-records/connector"
)

// SinkConfig configures an in-memory Sink. The zero value is usable.
type SinkConfig struct {
	// WriteRate limits calls to this many a second, as a token bucket of
	// WriteBurst tokens; a call waits for its token (or its context).
	// Zero means no limit. See Sink.SetWriteRate.
	WriteRate  float64
	WriteBurst int
	// Faults start as these; see Sink.SetFaults.
	Faults Faults
}

// Sink is an in-memory connector.Sink: a practice platform holding contacts
// (patients) and documents, which keeps the Sink contract to the letter.
// It remembers every idempotency key with its result, answering a repeated
// key from memory; a write without a SinkID for a Ref it already holds
// updates that object in place.
//
// Besides its contents it records what a test needs to prove exactly-once
// delivery: calls and applied writes per idempotency key, the versions
// written to each ref in order, and calls for one ref that overlapped.
// Check sums these up.
//
// A Sink is safe for concurrent use; its faults and write rate may be
// changed while it is in use.
type Sink struct {
	faults  injector
	limiter *rate.Limiter

	mu            sync.Mutex
	next          int
	contacts      map[string]*Contact
	contactByRef  map[connector.Ref]string
	documents     map[string]*SinkDocument
	documentByRef map[connector.Ref]string
	keys          map[string]*keyState
	history       map[connector.Ref][]Write
	inflight      map[connector.Ref]int
	stats         SinkStats
	regressions   []Regression
	overlaps      []connector.Ref
}

// Contact is a patient as the Sink holds it.
type Contact struct {
	ID      string
	Patient connector.Patient
}

// SinkDocument is a document as the Sink holds it.
type SinkDocument struct {
	ID string
	// ContactID is the Sink id of the document's patient.
	ContactID string
	Document  connector.Document
}

// Write is one applied write of a ref, in SinkStats order.
type Write struct {
	Key     string
	Version string
	// UpdatedAt is the written copy's update time at its Source.
	UpdatedAt time.Time
	// Deleted marks a DeleteDocument; it carries no version.
	Deleted bool
}

// Regression is a write that put an older version of a ref over a newer
// one the Sink had been given before.
type Regression struct {
	Ref connector.Ref
	// Version was written after Newer.
	Version, Newer string
}

// String describes the regression by ref and versions, without patient data.
func (r Regression) String() string {
	return fmt.Sprintf("%s: version %s written after version %s", r.Ref, r.Version, r.Newer)
}

// SinkStats counts what a Sink received.
type SinkStats struct {
	// Calls counts every call, failed ones included.
	Calls int
	// Applied counts calls that changed the Sink's state (or, for a
	// delete of what was gone, were first to ask).
	Applied int
	// Replays counts calls answered from a remembered idempotency key.
	Replays int
	// Injected counts the calls an injected fault failed, lost responses
	// included.
	Injected int
	// Overlaps counts calls for a ref that arrived while another call for
	// the same ref was in progress, which the Sink contract rules out.
	Overlaps int
}

type keyState struct {
	calls, applied int
	// request summarizes the first successful request; a repeat must match.
	request string
	result  string
	done    bool
}

// NewSink returns an empty Sink.
func NewSink(cfg SinkConfig) *Sink {
	s := &Sink{
		limiter:       rate.NewLimiter(rate.Inf, 1),
		contacts:      make(map[string]*Contact),
		contactByRef:  make(map[connector.Ref]string),
		documents:     make(map[string]*SinkDocument),
		documentByRef: make(map[connector.Ref]string),
		keys:          make(map[string]*keyState),
		history:       make(map[connector.Ref][]Write),
		inflight:      make(map[connector.Ref]int),
	}
	s.SetWriteRate(cfg.WriteRate, cfg.WriteBurst)
	s.faults.set(cfg.Faults)
	return s
}

var _ connector.Sink = (*Sink)(nil)

// SetFaults replaces the faults the Sink injects from now on.
func (s *Sink) SetFaults(f Faults) { s.faults.set(f) }

// Faults returns the faults the Sink injects.
func (s *Sink) Faults() Faults { return s.faults.get() }

// SetWriteRate limits calls to perSecond a second with bursts of burst
// (at least 1); perSecond zero or less removes the limit.
func (s *Sink) SetWriteRate(perSecond float64, burst int) {
	limit := rate.Limit(perSecond)
	if perSecond <= 0 || math.IsInf(perSecond, 1) {
		limit = rate.Inf
	}
	s.limiter.SetBurst(max(burst, 1))
	s.limiter.SetLimit(limit)
}

// UpsertPatient implements connector.Sink.
func (s *Sink) UpsertPatient(ctx context.Context, w connector.PatientWrite) (string, error) {
	const op = "upsert patient"
	ref := w.Patient.Ref
	request := summary(ref.String(), w.Patient.Version, w.Patient.Fingerprint())
	return s.write(ctx, op, w.Key, ref, request, func() (string, error) {
		if err := ref.Validate(); err != nil {
			return "", fmt.Errorf("%s: %w", op, err)
		}
		c := s.contacts[w.SinkID]
		if c == nil {
			c = s.contacts[s.contactByRef[ref]]
		}
		if c == nil {
			c = &Contact{ID: s.newID("contact")}
			s.contacts[c.ID] = c
		}
		if c.Patient.Ref != ref {
			delete(s.contactByRef, c.Patient.Ref)
		}
		c.Patient = clonePatient(w.Patient)
		s.contactByRef[ref] = c.ID
		s.record(ref, Write{Key: w.Key, Version: w.Patient.Version, UpdatedAt: w.Patient.UpdatedAt})
		return c.ID, nil
	})
}

// PutDocument implements connector.Sink. The document must be valid
// (connector.Document.Validate) and PatientSinkID must name a contact the
// Sink holds, or the call fails with connector.ErrInvalid or
// connector.ErrNotFound. A SinkID the Sink does not hold (the document
// was deleted) is ignored: the document is found by its Ref or created.
func (s *Sink) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	const op = "put document"
	ref := w.Document.Ref
	doc, err := readDocument(ctx, w.Document)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", op, ref.ID, err)
	}
	request := summary(ref.String(), doc.Version, doc.Fingerprint(), w.PatientSinkID)
	return s.write(ctx, op, w.Key, ref, request, func() (string, error) {
		if err := doc.Validate(); err != nil {
			return "", fmt.Errorf("%s: %w", op, err)
		}
		if w.PatientSinkID == "" {
			return "", fmt.Errorf("%s %s: %w: no patient sink id", op, ref.ID, connector.ErrInvalid)
		}
		if s.contacts[w.PatientSinkID] == nil {
			return "", fmt.Errorf("%s %s: contact %q: %w", op, ref.ID, w.PatientSinkID, connector.ErrNotFound)
		}
		d := s.documents[w.SinkID]
		if d == nil {
			d = s.documents[s.documentByRef[ref]]
		}
		if d == nil {
			d = &SinkDocument{ID: s.newID("document")}
			s.documents[d.ID] = d
		}
		if d.Document.Ref != ref {
			delete(s.documentByRef, d.Document.Ref)
		}
		d.ContactID, d.Document = w.PatientSinkID, doc
		s.documentByRef[ref] = d.ID
		s.record(ref, Write{Key: w.Key, Version: doc.Version, UpdatedAt: doc.UpdatedAt})
		return d.ID, nil
	})
}

// readDocument returns a copy of d holding its content in Content, read
// through d.Open as a Sink that uploads it would, and sealed. Content that
// reads other than d's Size and ContentHash state (when set) is refused.
func readDocument(ctx context.Context, d connector.Document) (connector.Document, error) {
	r, err := d.Open(ctx)
	if err != nil {
		return d, fmt.Errorf("open content: %w", err)
	}
	defer r.Close()
	content, err := io.ReadAll(r)
	if err != nil {
		return d, fmt.Errorf("read content: %w", err)
	}
	doc := cloneDocument(d)
	doc.Content, doc.Body = content, nil
	doc.Seal()
	if d.ContentHash != "" && (doc.ContentHash != d.ContentHash || doc.Size != d.Size) {
		return d, fmt.Errorf("%w: content reads as %d bytes with sha-256 %s, the document states %d bytes with %s",
			connector.ErrInvalid, doc.Size, doc.ContentHash, d.Size, d.ContentHash)
	}
	return doc, nil
}

// DeleteDocument implements connector.Sink. It finds the document by
// SinkID or else by Ref; finding none succeeds.
func (s *Sink) DeleteDocument(ctx context.Context, d connector.DocumentDelete) error {
	const op = "delete document"
	_, err := s.write(ctx, op, d.Key, d.Ref, summary(d.Ref.String(), "deleted"), func() (string, error) {
		doc := s.documents[d.SinkID]
		if doc == nil {
			doc = s.documents[s.documentByRef[d.Ref]]
		}
		if doc != nil {
			delete(s.documents, doc.ID)
			delete(s.documentByRef, doc.Document.Ref)
		}
		s.record(d.Ref, Write{Key: d.Key, Deleted: true})
		return "", nil
	})
	return err
}

// write runs one call: rate limit, faults, then apply under the lock
// unless the key was seen. apply runs with s.mu held.
func (s *Sink) write(ctx context.Context, op, key string, ref connector.Ref, request string, apply func() (string, error)) (string, error) {
	s.mu.Lock()
	s.stats.Calls++
	if s.inflight[ref] > 0 {
		s.stats.Overlaps++
		s.overlaps = append(s.overlaps, ref)
	}
	s.inflight[ref]++
	ks := s.keys[key]
	if ks == nil {
		ks = &keyState{}
		s.keys[key] = ks
	}
	ks.calls++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.inflight[ref]--; s.inflight[ref] == 0 {
			delete(s.inflight, ref)
		}
		s.mu.Unlock()
	}()

	if key == "" {
		return "", fmt.Errorf("%s %s: %w: no idempotency key", op, ref.ID, connector.ErrInvalid)
	}
	if err := s.limiter.Wait(ctx); err != nil {
		return "", fmt.Errorf("%s: rate limit: %w", op, err)
	}
	lost, err := s.faults.begin(ctx, op, key)
	if err != nil {
		s.count(func(st *SinkStats) { st.Injected++ })
		return "", err
	}

	s.mu.Lock()
	var result string
	switch {
	case ks.done && ks.request != request:
		err = fmt.Errorf("%s %s: %w: idempotency key reused for another request", op, ref.ID, connector.ErrConflict)
	case ks.done:
		s.stats.Replays++
		result = ks.result
	default:
		if result, err = apply(); err == nil {
			ks.done, ks.request, ks.result = true, request, result
			ks.applied++
			s.stats.Applied++
		}
	}
	if lost {
		s.stats.Injected++
	}
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	if lost {
		return "", lostError(op)
	}
	return result, nil
}

// record appends an applied write to ref's history, noting a regression;
// s.mu is held.
func (s *Sink) record(ref connector.Ref, w Write) {
	h := s.history[ref]
	if !w.Deleted {
		for _, prev := range h {
			// Ordered as the engine orders them; numeric ids as sequential,
			// since the in-memory Source's are unless opaque.
			older := connector.CompareRevisions(connector.Revision{Version: w.Version, UpdatedAt: w.UpdatedAt},
				connector.Revision{Version: prev.Version, UpdatedAt: prev.UpdatedAt}, true) == connector.Older
			if !prev.Deleted && older {
				s.regressions = append(s.regressions, Regression{Ref: ref, Version: w.Version, Newer: prev.Version})
				break
			}
		}
	}
	s.history[ref] = append(h, w)
}

func (s *Sink) newID(kind string) string {
	s.next++
	return fmt.Sprintf("%s-%d", kind, s.next)
}

func (s *Sink) count(f func(*SinkStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// summary fingerprints a request, to tell a repeat from a reuse of its key.
func summary(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Stats returns the Sink's counters.
func (s *Sink) Stats() SinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// CallsFor returns how many calls carried the idempotency key.
func (s *Sink) CallsFor(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ks := s.keys[key]; ks != nil {
		return ks.calls
	}
	return 0
}

// AppliedFor returns how many calls with the idempotency key took effect:
// at most 1 when delivery is exactly-once.
func (s *Sink) AppliedFor(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ks := s.keys[key]; ks != nil {
		return ks.applied
	}
	return 0
}

// History returns the writes applied to ref, oldest first.
func (s *Sink) History(ref connector.Ref) []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.history[ref])
}

// Regressions returns every write that put an older version over a newer
// one.
func (s *Sink) Regressions() []Regression {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.regressions)
}

// Count returns how many objects the Sink holds for ref: 0 or 1 for a Sink
// that keeps its contract. It fits SinkOptions.Count.
func (s *Sink) Count(ref connector.Ref) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.contacts {
		if c.Patient.Ref == ref {
			n++
		}
	}
	for _, d := range s.documents {
		if d.Document.Ref == ref {
			n++
		}
	}
	return n
}

// HeldVersion returns the Version of the patient or document the Sink
// holds for ref, or "" if it holds none. It fits SinkOptions.HeldVersion.
func (s *Sink) HeldVersion(ref connector.Ref) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.documents[s.documentByRef[ref]]; d != nil {
		return d.Document.Version
	}
	if c := s.contacts[s.contactByRef[ref]]; c != nil {
		return c.Patient.Version
	}
	return ""
}

// Check reports every breach of exactly-once delivery the Sink saw: a key
// applied more than once, an older version written over a newer one, and
// calls for one ref that overlapped. It returns nil when there is none.
func (s *Sink) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var problems []string
	var keys []string
	for k, ks := range s.keys {
		if ks.applied > 1 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		problems = append(problems, fmt.Sprintf("key %s applied %d times", k, s.keys[k].applied))
	}
	for _, r := range s.regressions {
		problems = append(problems, r.String())
	}
	for _, ref := range s.overlaps {
		problems = append(problems, fmt.Sprintf("%s: overlapping calls", ref))
	}
	if len(problems) == 0 {
		return nil
	}
	const most = 20
	msg := fmt.Sprintf("connectortest: sink saw %d problems:", len(problems))
	for i, p := range problems {
		if i == most {
			msg += fmt.Sprintf("\n\t... and %d more", len(problems)-most)
			break
		}
		msg += "\n\t" + p
	}
	return errors.New(msg)
}

// Patients returns the contacts the Sink holds, ordered by id.
func (s *Sink) Patients() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, 0, len(s.contacts))
	for _, c := range s.contacts {
		out = append(out, Contact{ID: c.ID, Patient: clonePatient(c.Patient)})
	}
	slices.SortFunc(out, func(a, b Contact) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Documents returns the documents the Sink holds, ordered by id.
func (s *Sink) Documents() []SinkDocument {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SinkDocument, 0, len(s.documents))
	for _, d := range s.documents {
		out = append(out, SinkDocument{ID: d.ID, ContactID: d.ContactID, Document: cloneDocument(d.Document)})
	}
	slices.SortFunc(out, func(a, b SinkDocument) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Document returns the document the Sink holds for ref.
func (s *Sink) Document(ref connector.Ref) (SinkDocument, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.documents[s.documentByRef[ref]]
	if d == nil {
		return SinkDocument{}, false
	}
	return SinkDocument{ID: d.ID, ContactID: d.ContactID, Document: cloneDocument(d.Document)}, true
}
