package connectortest

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// SourceConfig configures an in-memory Source. The zero value is usable.
type SourceConfig struct {
	// Name goes in Ref.System of every ref the Source returns. Empty leaves
	// System empty, which the Source contract allows.
	Name string
	// PageSize bounds the items of one ListDocuments page. Default 50.
	PageSize int
	// DocumentType is Ref.Type of documents. Default "DocumentReference".
	DocumentType string
	// Now is the clock that stamps UpdatedAt. Default time.Now.
	Now func() time.Time
	// Faults start as these; see Source.SetFaults.
	Faults Faults
	// OpaqueVersions makes version ids opaque, as many FHIR servers issue
	// them (random UUIDs), instead of "1", "2", ...: each new id sorts
	// before the one it replaces, so a test catches an engine that orders
	// versions by their ids.
	OpaqueVersions bool
	// UnlistDeleted leaves removed documents out of listings, as FHIR
	// searches do: only a fetch tells that one is gone.
	UnlistDeleted bool
	// StreamAbove, when set, makes fetched content larger than this many
	// bytes come as a connector.Body, as a Source that streams an
	// attachment returns it, instead of in Content. See also
	// Source.FailStream.
	StreamAbove int
}

// Source is an in-memory connector.Source: a provider's patients and
// documents that a test adds, updates and removes while an engine syncs
// them. It takes patient edits (connector.PatientWriter) and document
// requests (connector.DocumentRequester, connector.RequestTracker), which
// a test settles with CompleteRequest or SetRequestStatus. Every change bumps the record's version ("1", "2", ..., or a new
// UUID with SourceConfig.OpaqueVersions) and
// UpdatedAt, and moves it to the end of the change order that listings
// follow, so an incremental listing sees exactly what changed since its
// cursor. Removed documents stay listed as deleted.
//
// A Source is safe for concurrent use, and its faults may be changed while
// it is in use.
type Source struct {
	cfg    SourceConfig
	faults injector

	mu  sync.Mutex
	seq uint64 // change counter; a cursor is a value of it
	// lastPatient and lastDocument number assigned ids.
	lastPatient, lastDocument int
	// opaque counts opaque version ids issued.
	opaque   uint64
	patients map[string]*connector.Patient
	docs     map[string]*sourceDoc
	// byPatient indexes docs by patient id.
	byPatient map[string]map[string]*sourceDoc
	calls     SourceCalls
	// requests are the document requests taken, by task id; taskOf
	// maps their keys to task ids.
	requests map[string]*Request
	taskOf   map[string]string
	// streamFaults break the streamed content of documents, by id.
	streamFaults map[string]streamFault
	// obs are the patients' observations, by id (see Observing).
	obs     map[string]*sourceObs
	lastObs int
}

type sourceDoc struct {
	doc connector.Document
	// seq is the change counter at the document's last change.
	seq uint64
}

// SourceCalls counts the calls a Source received, failed ones included.
type SourceCalls struct {
	List, Fetch, Find int
	// Write counts WritePatient calls; Request and Status the calls of
	// RequestDocuments and RequestStatus.
	Write, Request, Status int
	// ListObservations and FetchObservation count the calls of an
	// ObservingSource.
	ListObservations, FetchObservation int
	// Injected counts the calls that failed by an injected fault.
	Injected int
}

// NewSource returns an empty Source.
func NewSource(cfg SourceConfig) *Source {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 50
	}
	if cfg.DocumentType == "" {
		cfg.DocumentType = "DocumentReference"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Source{
		cfg:          cfg,
		patients:     make(map[string]*connector.Patient),
		docs:         make(map[string]*sourceDoc),
		byPatient:    make(map[string]map[string]*sourceDoc),
		requests:     make(map[string]*Request),
		taskOf:       make(map[string]string),
		streamFaults: make(map[string]streamFault),
	}
	s.faults.set(cfg.Faults)
	return s
}

var _ connector.Source = (*Source)(nil)

// SetFaults replaces the faults the Source injects from now on.
func (s *Source) SetFaults(f Faults) { s.faults.set(f) }

// Faults returns the faults the Source injects.
func (s *Source) Faults() Faults { return s.faults.get() }

// Calls returns how many calls the Source received.
func (s *Source) Calls() SourceCalls {
	s.mu.Lock()
	c := s.calls
	s.mu.Unlock()
	c.Injected = s.faults.count()
	return c
}

// PatientRef returns the ref the Source gives the patient with this id.
func (s *Source) PatientRef(id string) connector.Ref {
	return connector.Ref{System: s.cfg.Name, Type: connector.PatientType, ID: id}
}

// DocumentRef returns the ref the Source gives the document with this id.
func (s *Source) DocumentRef(id string) connector.Ref {
	return connector.Ref{System: s.cfg.Name, Type: s.cfg.DocumentType, ID: id}
}

// PutPatient creates the patient, or updates the one with the same
// Ref.ID, and returns it as stored. An empty Ref.ID is assigned one.
func (s *Source) PutPatient(p connector.Patient) connector.Patient {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Ref.ID == "" {
		for used := true; used; _, used = s.patients[p.Ref.ID] {
			s.lastPatient++
			p.Ref.ID = fmt.Sprintf("patient-%d", s.lastPatient)
		}
	}
	p.Ref = s.PatientRef(p.Ref.ID)
	p.Version = s.bump("")
	if old, ok := s.patients[p.Ref.ID]; ok {
		p.Version = s.bump(old.Version)
	}
	p.UpdatedAt = s.cfg.Now()
	p.Identifiers = slices.Clone(p.Identifiers)
	s.patients[p.Ref.ID] = &p
	return clonePatient(p)
}

// AddDocument adds a document to the patient named by d.Patient.ID and
// returns it as stored: with its ref, version, UpdatedAt, Size and
// ContentHash set. An empty Ref.ID is assigned one; the ID of a live
// document is refused, that of a removed one brings it back with a newer
// version. An empty Type becomes connector.DocumentOther.
func (s *Source) AddDocument(d connector.Document) (connector.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.patients[d.Patient.ID]; !ok {
		return connector.Document{}, fmt.Errorf("add document: patient %q: %w", d.Patient.ID, connector.ErrNotFound)
	}
	if d.Ref.ID == "" {
		for used := true; used; _, used = s.docs[d.Ref.ID] {
			s.lastDocument++
			d.Ref.ID = fmt.Sprintf("doc-%d", s.lastDocument)
		}
	}
	version := s.bump("")
	if old, ok := s.docs[d.Ref.ID]; ok {
		if !old.doc.Deleted {
			return connector.Document{}, fmt.Errorf("add document: %q already exists: %w", d.Ref.ID, connector.ErrConflict)
		}
		version = s.bump(old.doc.Version)
		delete(s.byPatient[old.doc.Patient.ID], d.Ref.ID)
	}
	d.Version = version
	d.Deleted = false
	return s.store(d), nil
}

// UpdateDocument applies edit to a copy of the live document with this id
// and stores the result as its next version. The edit may not change the
// document's ref, patient or version.
func (s *Source) UpdateDocument(id string, edit func(*connector.Document)) (connector.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.docs[id]
	if !ok || old.doc.Deleted {
		return connector.Document{}, fmt.Errorf("update document %q: %w", id, connector.ErrNotFound)
	}
	d := cloneDocument(old.doc)
	edit(&d)
	d.Ref, d.Patient, d.Deleted = old.doc.Ref, old.doc.Patient, false
	d.Version = s.bump(old.doc.Version)
	return s.store(d), nil
}

// RemoveDocument deletes the document: it is listed as deleted with a new
// version, and fetching it answers connector.ErrNotFound.
func (s *Source) RemoveDocument(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.docs[id]
	if !ok || old.doc.Deleted {
		return fmt.Errorf("remove document %q: %w", id, connector.ErrNotFound)
	}
	d := connector.Document{
		Ref: old.doc.Ref, Patient: old.doc.Patient, Type: old.doc.Type,
		Version: s.bump(old.doc.Version), Deleted: true,
	}
	d.Seal()
	s.store(d)
	return nil
}

// store saves d as the document's latest change; s.mu is held.
func (s *Source) store(d connector.Document) connector.Document {
	d.Ref = s.DocumentRef(d.Ref.ID)
	d.Patient = s.PatientRef(d.Patient.ID)
	if d.Type == "" {
		d.Type = connector.DocumentOther
	}
	d.Content = slices.Clone(d.Content)
	d.Raw = slices.Clone(d.Raw)
	d.Seal()
	d.UpdatedAt = s.cfg.Now()
	s.seq++
	sd := &sourceDoc{doc: d, seq: s.seq}
	s.docs[d.Ref.ID] = sd
	if s.byPatient[d.Patient.ID] == nil {
		s.byPatient[d.Patient.ID] = make(map[string]*sourceDoc)
	}
	s.byPatient[d.Patient.ID][d.Ref.ID] = sd
	return cloneDocument(d)
}

// Fill adds patients each with documents, all synthetic (no real person's
// data), and returns the patients. Their contents are deterministic.
func (s *Source) Fill(patients, documentsEach int) ([]connector.Patient, error) {
	types := []connector.DocumentType{connector.DocumentLabResult, connector.DocumentProgressNote, connector.DocumentPhysicalAssessment, connector.DocumentOther}
	date := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	out := make([]connector.Patient, 0, patients)
	for i := range patients {
		p := s.PutPatient(connector.Patient{
			Name:        fmt.Sprintf("Synthetic Patient %d", i+1),
			Email:       fmt.Sprintf("patient%d@example.invalid", i+1),
			Identifiers: []connector.Identifier{{System: "urn:connectortest:mrn", Value: fmt.Sprintf("MRN-%06d", i+1)}},
		})
		out = append(out, p)
		for j := range documentsEach {
			_, err := s.AddDocument(connector.Document{
				Patient:     p.Ref,
				Type:        types[j%len(types)],
				Title:       fmt.Sprintf("Synthetic document %d", j+1),
				Date:        date.AddDate(0, 0, j),
				Author:      "Synthetic Clinician",
				Source:      "connectortest",
				ContentType: "text/plain",
				Content:     fmt.Appendf(nil, "synthetic content of document %d of patient %d", j+1, i+1),
			})
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// Document returns the document with this id as stored, deleted or not.
func (s *Source) Document(id string) (connector.Document, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[id]
	if !ok {
		return connector.Document{}, false
	}
	return cloneDocument(d.doc), true
}

// Documents returns every document, removed ones included (marked
// Deleted), ordered by ref id.
func (s *Source) Documents() []connector.Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]connector.Document, 0, len(s.docs))
	for _, d := range s.docs {
		out = append(out, cloneDocument(d.doc))
	}
	slices.SortFunc(out, func(a, b connector.Document) int { return cmp.Compare(a.Ref.ID, b.Ref.ID) })
	return out
}

// Patients returns every patient, ordered by ref id.
func (s *Source) Patients() []connector.Patient {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]connector.Patient, 0, len(s.patients))
	for _, p := range s.patients {
		out = append(out, clonePatient(*p))
	}
	slices.SortFunc(out, func(a, b connector.Patient) int { return cmp.Compare(a.Ref.ID, b.Ref.ID) })
	return out
}

// ListDocuments implements connector.Source. Items come in the order they
// last changed, at most PageSize a page, each document once with its
// latest version.
func (s *Source) ListDocuments(ctx context.Context, patient connector.Ref, cursor string) (connector.Page, error) {
	s.count(func(c *SourceCalls) { c.List++ })
	after, err := parseCursor(cursor)
	if err != nil {
		return connector.Page{}, err
	}
	if _, err := s.faults.begin(ctx, "list documents", patient.ID+"\x00"+cursor); err != nil {
		return connector.Page{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.patients[patient.ID]; !ok {
		return connector.Page{}, fmt.Errorf("list documents of patient %q: %w", patient.ID, connector.ErrNotFound)
	}
	var changed []*sourceDoc
	for _, d := range s.byPatient[patient.ID] {
		if d.seq > after && !(d.doc.Deleted && s.cfg.UnlistDeleted) {
			changed = append(changed, d)
		}
	}
	return changePage(s, changed, func(d *sourceDoc) uint64 { return d.seq }, func(d *sourceDoc) connector.Item {
		return connector.Item{Ref: d.doc.Ref, Version: d.doc.Version, UpdatedAt: d.doc.UpdatedAt, Deleted: d.doc.Deleted}
	}), nil
}

// changePage returns the first page of what changed, in change order (seq
// gives each record's change counter), at most PageSize items; s.mu is
// held.
func changePage[T any](s *Source, changed []T, seq func(T) uint64, item func(T) connector.Item) connector.Page {
	slices.SortFunc(changed, func(a, b T) int { return cmp.Compare(seq(a), seq(b)) })
	page := connector.Page{Cursor: formatCursor(s.seq)}
	if len(changed) > s.cfg.PageSize {
		changed = changed[:s.cfg.PageSize]
		page.More = true
		page.Cursor = formatCursor(seq(changed[len(changed)-1]))
	}
	page.Items = make([]connector.Item, len(changed))
	for i, c := range changed {
		page.Items[i] = item(c)
	}
	return page
}

// FetchDocument implements connector.Source.
func (s *Source) FetchDocument(ctx context.Context, ref connector.Ref) (*connector.Document, error) {
	s.count(func(c *SourceCalls) { c.Fetch++ })
	if _, err := s.faults.begin(ctx, "fetch document", ref.ID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[ref.ID]
	if !ok || d.doc.Deleted || (ref.Type != "" && ref.Type != s.cfg.DocumentType) {
		return nil, fmt.Errorf("fetch document %q: %w", ref.ID, connector.ErrNotFound)
	}
	doc := cloneDocument(d.doc)
	if n := s.cfg.StreamAbove; n > 0 && len(doc.Content) > n {
		doc.Body = &stream{content: doc.Content, fault: s.streamFaults[ref.ID]}
		doc.Content, doc.Size, doc.ContentHash = nil, 0, ""
	}
	return &doc, nil
}

// FindPatient implements connector.Source. An empty query is refused with
// connector.ErrInvalid.
func (s *Source) FindPatient(ctx context.Context, q connector.PatientQuery) (*connector.Patient, error) {
	s.count(func(c *SourceCalls) { c.Find++ })
	var match func(p *connector.Patient) bool
	var id string
	switch {
	case q.ID != "":
		id = "id:" + q.ID
		match = func(p *connector.Patient) bool { return p.Ref.ID == q.ID }
	case q.Identifier != (connector.Identifier{}):
		id = "identifier:" + q.Identifier.System + "|" + q.Identifier.Value
		match = func(p *connector.Patient) bool { return slices.Contains(p.Identifiers, q.Identifier) }
	case q.Email != "":
		id = "email:" + q.Email
		match = func(p *connector.Patient) bool { return strings.EqualFold(p.Email, q.Email) }
	default:
		return nil, fmt.Errorf("find patient: %w: empty query", connector.ErrInvalid)
	}
	if _, err := s.faults.begin(ctx, "find patient", id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var found *connector.Patient
	for _, p := range s.patients {
		if !match(p) {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("find patient: %w: several patients match", connector.ErrAmbiguous)
		}
		found = p
	}
	if found == nil {
		return nil, fmt.Errorf("find patient: %w", connector.ErrNotFound)
	}
	p := clonePatient(*found)
	return &p, nil
}

func (s *Source) count(f func(*SourceCalls)) {
	s.mu.Lock()
	f(&s.calls)
	s.mu.Unlock()
}

// Cursors are opaque to callers; inside they hold the change counter.
const cursorPrefix = "seq:"

func formatCursor(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatUint(seq, 10)))
}

func parseCursor(c string) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && strings.HasPrefix(string(b), cursorPrefix) {
		var seq uint64
		if seq, err = strconv.ParseUint(strings.TrimPrefix(string(b), cursorPrefix), 10, 64); err == nil {
			return seq, nil
		}
	}
	return 0, fmt.Errorf("list documents: %w: malformed cursor %q", connector.ErrInvalid, c)
}

// bump returns the numeric version after v.
// bump returns the version after v.
func (s *Source) bump(v string) string {
	if s.cfg.OpaqueVersions {
		s.opaque++
		return fmt.Sprintf("%016x", math.MaxUint64-s.opaque)
	}
	n, _ := strconv.ParseUint(v, 10, 64)
	return strconv.FormatUint(n+1, 10)
}

func cloneDocument(d connector.Document) connector.Document {
	d.Content = slices.Clone(d.Content)
	d.Raw = slices.Clone(d.Raw)
	return d
}

func clonePatient(p connector.Patient) connector.Patient {
	p.Identifiers = slices.Clone(p.Identifiers)
	return p
}
