package folder

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// SourceConfig configures a Source. The zero value is usable.
type SourceConfig struct {
	// Name is shown to the dietician as a document's source when its
	// DocumentReference names no custodian.
	Name string
	// PageSize bounds the items of one ListDocuments page. Default 50.
	PageSize int
}

// Source is a connector.Source over a folder of FHIR JSON files, one
// resource per file named <resourceType>-<id>.json. It reads the folder
// through an fs.FS (os.DirFS, an os.Root's FS, an embed.FS, a
// testing/fstest.MapFS), never writes it, and keeps no state, so it is safe
// for concurrent use. The files may change between calls: a new version of
// a file, with a newer meta.lastUpdated, is listed after the cursor that
// came before it.
type Source struct {
	fsys fs.FS
	cfg  SourceConfig
}

var _ connector.Source = (*Source)(nil)

// NewSource returns a Source reading fsys.
func NewSource(fsys fs.FS, cfg SourceConfig) *Source {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 50
	}
	return &Source{fsys: fsys, cfg: cfg}
}

// listed is one DocumentReference file as a listing sees it.
type listed struct {
	at      position
	patient string
	version string
	deleted bool
}

// position orders a listing: by lastUpdated, then by id, so that
// documents updated at the same instant still have a place to resume
// after.
type position struct {
	updated time.Time
	id      string
}

func (p position) after(q position) bool {
	if c := p.updated.Compare(q.updated); c != 0 {
		return c > 0
	}
	return p.id > q.id
}

// ListDocuments implements connector.Source: the patient's
// DocumentReferences after cursor, oldest change first. The returned
// cursor holds the (lastUpdated, id) of the page's last item; a listing
// that finds nothing new returns the cursor it was given.
//
// A file updated with a lastUpdated older than a cursor already handed out
// (a writer with a slow clock) is not listed again from that cursor; a
// full sync (empty cursor) finds it. Sources that face clock skew list
// from cursor minus an overlap instead, as adapters/fhir does.
func (s *Source) ListDocuments(ctx context.Context, patient connector.Ref, cursor string) (connector.Page, error) {
	from, err := parseCursor(cursor)
	if err != nil {
		return connector.Page{}, err
	}
	if _, err := s.readPatient(patient.ID); err != nil {
		return connector.Page{}, fmt.Errorf("list documents of patient %s: %w", patient.ID, err)
	}
	all, err := s.listAll(ctx)
	if err != nil {
		return connector.Page{}, err
	}
	var items []listed
	for _, l := range all {
		if l.patient == patient.ID && l.at.after(from) {
			items = append(items, l)
		}
	}
	slices.SortFunc(items, func(a, b listed) int {
		return cmp.Or(a.at.updated.Compare(b.at.updated), cmp.Compare(a.at.id, b.at.id))
	})
	page := connector.Page{Cursor: cursor}
	if len(items) > s.cfg.PageSize {
		items, page.More = items[:s.cfg.PageSize], true
	}
	for _, l := range items {
		page.Items = append(page.Items, connector.Item{
			Ref:       connector.Ref{Type: typeDocumentReference, ID: l.at.id},
			Version:   l.version,
			UpdatedAt: l.at.updated,
			Deleted:   l.deleted,
		})
	}
	if len(items) > 0 {
		page.Cursor = formatCursor(items[len(items)-1].at)
	}
	return page, nil
}

// listAll reads every DocumentReference in the folder. A folder is small;
// a real Source asks its server for one page at a time instead.
func (s *Source) listAll(ctx context.Context) ([]listed, error) {
	names, err := fs.Glob(s.fsys, typeDocumentReference+"-*.json")
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	out := make([]listed, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var r documentReference
		if _, err := readResource(s.fsys, name, &r); err != nil {
			return nil, fmt.Errorf("list documents: %w", err)
		}
		patient, ok := strings.CutPrefix(r.subjectRef(), connector.PatientType+"/")
		if !ok {
			return nil, fmt.Errorf("list documents: %w", badFile(name, "subject is not a Patient reference"))
		}
		updated, _ := r.updatedAt() // checked by readResource
		out = append(out, listed{at: position{updated, r.ID}, patient: patient, version: r.Meta.VersionID, deleted: r.deleted()})
	}
	return out, nil
}

// FetchDocument implements connector.Source. A document that is not in the
// folder, or was entered in error, answers connector.ErrNotFound, which the
// engine takes to mean deleted.
func (s *Source) FetchDocument(ctx context.Context, ref connector.Ref) (*connector.Document, error) {
	if ref.Type != typeDocumentReference {
		return nil, fmt.Errorf("fetch %s: %w: only %s resources are documents here", ref, connector.ErrNotFound, typeDocumentReference)
	}
	name, err := fileName(ref.Type, ref.ID)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", ref, err)
	}
	var r documentReference
	raw, err := readResource(s.fsys, name, &r)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", ref, err)
	}
	if r.deleted() {
		return nil, fmt.Errorf("fetch %s: entered in error: %w", ref, connector.ErrNotFound)
	}
	return r.document(name, raw, s.cfg.Name)
}

// FindPatient implements connector.Source: by id it reads the patient's
// file; by identifier or email it reads them all, and refuses to guess
// when more than one matches.
func (s *Source) FindPatient(ctx context.Context, q connector.PatientQuery) (*connector.Patient, error) {
	if q.ID != "" {
		p, err := s.readPatient(q.ID)
		if err != nil {
			return nil, fmt.Errorf("find patient %s: %w", q.ID, err)
		}
		return p.patient(), nil
	}
	var match func(*connector.Patient) bool
	switch {
	case q.Identifier != (connector.Identifier{}):
		match = func(p *connector.Patient) bool { return slices.Contains(p.Identifiers, q.Identifier) }
	case q.Email != "":
		match = func(p *connector.Patient) bool { return strings.EqualFold(p.Email, q.Email) }
	default:
		return nil, fmt.Errorf("find patient: %w: empty query", connector.ErrInvalid)
	}
	all, err := s.patients(ctx)
	if err != nil {
		return nil, err
	}
	var found *connector.Patient
	for _, p := range all {
		if !match(p) {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("find patient: %w: several patients match", connector.ErrConflict)
		}
		found = p
	}
	if found == nil {
		return nil, fmt.Errorf("find patient: %w", connector.ErrNotFound)
	}
	return found, nil
}

// Patients returns the refs of every patient in the folder, ordered by id:
// what a first webhook would announce, for seeding an engine.
func (s *Source) Patients(ctx context.Context) ([]connector.Ref, error) {
	all, err := s.patients(ctx)
	if err != nil {
		return nil, err
	}
	refs := make([]connector.Ref, len(all))
	for i, p := range all {
		refs[i] = p.Ref
	}
	return refs, nil
}

func (s *Source) patients(ctx context.Context) ([]*connector.Patient, error) {
	names, err := fs.Glob(s.fsys, connector.PatientType+"-*.json")
	if err != nil {
		return nil, fmt.Errorf("list patients: %w", err)
	}
	out := make([]*connector.Patient, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var p patient
		if _, err := readResource(s.fsys, name, &p); err != nil {
			return nil, fmt.Errorf("list patients: %w", err)
		}
		out = append(out, p.patient())
	}
	return out, nil
}

func (s *Source) readPatient(id string) (*patient, error) {
	name, err := fileName(connector.PatientType, id)
	if err != nil {
		return nil, err
	}
	var p patient
	if _, err := readResource(s.fsys, name, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Cursors are opaque to the engine, which only stores them and hands them
// back. This one is readable, for whoever debugs it: "<lastUpdated>|<id>".

func formatCursor(p position) string {
	return p.updated.UTC().Format(time.RFC3339Nano) + "|" + p.id
}

func parseCursor(c string) (position, error) {
	if c == "" {
		return position{}, nil
	}
	at, id, ok := strings.Cut(c, "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || !fhirID.MatchString(id) {
		return position{}, fmt.Errorf("list documents: %w: malformed cursor %q", connector.ErrInvalid, c)
	}
	return position{t, id}, nil
}
