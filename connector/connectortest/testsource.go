package connectortest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// SourceOptions tell TestSource what it may assume about the Source.
type SourceOptions struct {
	// Name is the name the Source is registered under: the suite puts it in
	// Ref.System of the refs it passes, and accepts it (or empty) in those
	// the Source returns. Required.
	Name string
	// Patients are patients known to exist at the Source, each with at
	// least one document; only Ref.ID is needed. Required: at least one.
	Patients []connector.Ref
	// MissingDocument is a document ref that does not exist at the Source.
	// Default: an id no Source issues, with the Type of a listed document.
	MissingDocument connector.Ref
	// MissingPatientID is a patient id that does not exist at the Source.
	// Default: an id no Source issues.
	MissingPatientID string
	// MaxPages bounds one listing: a listing still reporting More after
	// MaxPages pages fails. Default 1000.
	MaxPages int
	// Timeout bounds each call. Default 30s.
	Timeout time.Duration
	// Concurrency is how many goroutines fetch at once in the concurrency
	// check. Default 8.
	Concurrency int
}

const missingID = "connectortest-missing-0c3f9e6a"

// TestSource checks that src keeps the connector.Source contract, in
// subtests of t named after the contract they check:
//
//   - ListDocuments pages each patient's documents to the end (More false)
//     within MaxPages, with a cursor that advances;
//   - listing from the first page's cursor resumes the listing, and listing
//     from the final cursor returns nothing new (items of versions already
//     listed are allowed: a Source may overlap);
//   - every listed document fetches with the listed Ref and Version, a
//     valid Document of the patient, and Size and ContentHash that match
//     its Content; a document listed as deleted does not fetch;
//   - fetching a missing document and finding a missing patient answer
//     connector.ErrNotFound; FindPatient finds each patient by ID;
//   - concurrent listings and fetches return what sequential ones did (run
//     with -race to catch data races).
//
// The Source must not change while the suite runs, and the suite changes
// nothing in it. Sources whose transient errors the engine would retry
// should be tested with those faults off: the suite retries nothing.
func TestSource(t *testing.T, src connector.Source, opts SourceOptions) {
	t.Helper()
	testSource(t, src, opts)
}

func (o SourceOptions) withDefaults() (SourceOptions, error) {
	if o.Name == "" {
		return o, errors.New("SourceOptions.Name is required: the name the Source is registered under")
	}
	if len(o.Patients) == 0 {
		return o, errors.New("SourceOptions.Patients is required: at least one patient with a document")
	}
	for i, p := range o.Patients {
		if p.ID == "" {
			return o, fmt.Errorf("SourceOptions.Patients[%d] has no ID", i)
		}
		p.System = o.Name
		if p.Type == "" {
			p.Type = connector.PatientType
		}
		o.Patients[i] = p
	}
	if o.MissingPatientID == "" {
		o.MissingPatientID = missingID
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 1000
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultConcurrency
	}
	return o, nil
}

// listing is one patient's documents as the suite listed them.
type listing struct {
	patient connector.Ref
	pages   []connector.Page
	// latest is the newest listed item per ref, refs in listing order.
	latest map[connector.Ref]connector.Item
	order  []connector.Ref
	// final is the cursor of the last page.
	final string
}

type sourceSuite struct {
	src  connector.Source
	opts SourceOptions

	mu       sync.Mutex
	listings []*listing
	// fetched holds each listed live document as sequentially fetched.
	fetched map[connector.Ref]*connector.Document
}

func testSource(t testing.TB, src connector.Source, opts SourceOptions) {
	t.Helper()
	opts.Patients = append([]connector.Ref(nil), opts.Patients...)
	opts, err := opts.withDefaults()
	if err != nil {
		t.Fatalf("connectortest: %v", err)
	}
	s := &sourceSuite{src: src, opts: opts, fetched: make(map[connector.Ref]*connector.Document)}
	run(t, "ListDocuments", s.testList)
	run(t, "Resume", s.testResume)
	run(t, "Incremental", s.testIncremental)
	run(t, "FetchDocument", s.testFetch)
	run(t, "FetchMissing", s.testFetchMissing)
	run(t, "FindPatient", s.testFindPatient)
	run(t, "Concurrent", s.testConcurrent)
}

func (s *sourceSuite) testList(t testing.TB) {
	for _, p := range s.opts.Patients {
		run(t, p.ID, func(t testing.TB) {
			l, ok := s.list(t, p, "")
			if !ok {
				return
			}
			live := 0
			for _, it := range l.latest {
				if !it.Deleted {
					live++
				}
			}
			if live == 0 {
				t.Errorf("ListDocuments(patient %s) listed no live document; SourceOptions.Patients promises at least one per patient", p.ID)
			}
			if len(l.order) > 0 && l.final == "" {
				t.Errorf("ListDocuments(patient %s): the last page's Cursor is empty; it must be the cursor that lists only what changes next (the empty cursor lists everything again)", p.ID)
			}
			s.mu.Lock()
			s.listings = append(s.listings, l)
			s.mu.Unlock()
		})
	}
}

// list pages the patient's documents from cursor to the end, reporting
// every broken rule; ok is false if the listing could not be completed.
func (s *sourceSuite) list(t testing.TB, patient connector.Ref, cursor string) (l *listing, ok bool) {
	t.Helper()
	l = &listing{patient: patient, latest: make(map[connector.Ref]connector.Item)}
	for n := 1; ; n++ {
		if n > s.opts.MaxPages {
			t.Errorf("ListDocuments(patient %s) still reports More after %d pages: a listing must end with More false (raise SourceOptions.MaxPages if the patient really has more pages)", patient.ID, s.opts.MaxPages)
			return l, false
		}
		ctx, cancel := callContext(t, s.opts.Timeout)
		page, err := s.src.ListDocuments(ctx, patient, cursor)
		cancel()
		if err != nil {
			t.Errorf("ListDocuments(patient %s, cursor %q) page %d: %v", patient.ID, cursor, n, err)
			return l, false
		}
		l.pages = append(l.pages, page)
		for i, it := range page.Items {
			it, err := s.normalItem(it)
			if err != nil {
				t.Errorf("ListDocuments(patient %s) page %d item %d: %v", patient.ID, n, i, err)
				continue
			}
			prev, seen := l.latest[it.Ref]
			if !seen {
				l.order = append(l.order, it.Ref)
			}
			if !seen || connector.CompareRevisions(it.Revision(), prev.Revision(), connector.HasSequentialVersions(s.src)) != connector.Older {
				l.latest[it.Ref] = it
			}
		}
		if !page.More {
			l.final = page.Cursor
			return l, true
		}
		if page.Cursor == cursor {
			t.Errorf("ListDocuments(patient %s, cursor %q) page %d reports More but returns the cursor it was given: the listing would never end", patient.ID, cursor, n)
			return l, false
		}
		cursor = page.Cursor
	}
}

// normalItem checks a listed item and fills in its System as the engine
// does.
func (s *sourceSuite) normalItem(it connector.Item) (connector.Item, error) {
	switch {
	case it.Ref.System != "" && it.Ref.System != s.opts.Name:
		return it, fmt.Errorf("ref %s names system %q: leave Ref.System empty or set it to the Source's name %q", it.Ref, it.Ref.System, s.opts.Name)
	case it.Ref.Type == "" || it.Ref.ID == "":
		return it, fmt.Errorf("ref %s has no type or id", it.Ref)
	case it.Ref.Type == connector.PatientType:
		return it, fmt.Errorf("ref %s has type %q, which names patients, not documents", it.Ref, connector.PatientType)
	case it.Version == "":
		return it, fmt.Errorf("ref %s has no Version: the engine tells changes apart by version", it.Ref)
	}
	it.Ref.System = s.opts.Name
	return it, nil
}

func (s *sourceSuite) testResume(t testing.TB) {
	for _, l := range s.completeListings(t) {
		if len(l.pages) < 2 {
			t.Logf("patient %s: one page only; resumption is covered by Incremental", l.patient.ID)
			continue
		}
		run(t, l.patient.ID, func(t testing.TB) {
			first := l.pages[0]
			rest, ok := s.list(t, l.patient, first.Cursor)
			if !ok {
				return
			}
			got := make(map[connector.Ref]bool)
			for _, it := range first.Items {
				got[connector.Ref{System: s.opts.Name, Type: it.Ref.Type, ID: it.Ref.ID}] = true
			}
			for ref := range rest.latest {
				got[ref] = true
			}
			var lost []string
			for _, ref := range l.order {
				if !got[ref] {
					lost = append(lost, ref.ID)
				}
			}
			if len(lost) > 0 {
				t.Errorf("ListDocuments(patient %s) resumed from the first page's cursor misses %d documents of the full listing (%v): a cursor must resume where its page ended", l.patient.ID, len(lost), head(lost))
			}
		})
	}
}

func (s *sourceSuite) testIncremental(t testing.TB) {
	for _, l := range s.completeListings(t) {
		run(t, l.patient.ID, func(t testing.TB) {
			next, ok := s.list(t, l.patient, l.final)
			if !ok {
				return
			}
			for _, ref := range next.order {
				it := next.latest[ref]
				seen, ok := l.latest[ref]
				switch {
				case !ok:
					t.Errorf("ListDocuments(patient %s) from the final cursor lists %s, which the full listing did not: either the full listing lost it or the Source changed during the suite (it must not)", l.patient.ID, ref.ID)
				case connector.CompareRevisions(it.Revision(), seen.Revision(), connector.HasSequentialVersions(s.src)) == connector.Newer:
					t.Errorf("ListDocuments(patient %s) from the final cursor lists %s version %s, newer than the listed %s: the Source changed during the suite (it must not) or the full listing returned a stale version", l.patient.ID, ref.ID, it.Version, seen.Version)
				}
			}
		})
	}
}

func (s *sourceSuite) testFetch(t testing.TB) {
	for _, l := range s.completeListings(t) {
		run(t, l.patient.ID, func(t testing.TB) {
			for _, ref := range l.order {
				s.checkFetch(t, l.patient, l.latest[ref])
			}
		})
	}
}

// checkFetch fetches one listed item and checks the document.
func (s *sourceSuite) checkFetch(t testing.TB, patient connector.Ref, it connector.Item) {
	t.Helper()
	ctx, cancel := callContext(t, s.opts.Timeout)
	doc, err := s.src.FetchDocument(ctx, it.Ref)
	cancel()
	if it.Deleted {
		if err == nil && doc != nil && !doc.Deleted {
			t.Errorf("FetchDocument(%s) returns a live document, but the listing says it is deleted: answer connector.ErrNotFound or a document marked Deleted", it.Ref.ID)
		}
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			t.Errorf("FetchDocument(%s) of a document listed as deleted: want an error wrapping connector.ErrNotFound, got %v", it.Ref.ID, err)
		}
		return
	}
	if err != nil {
		t.Errorf("FetchDocument(%s) of a listed document: %v", it.Ref.ID, err)
		return
	}
	if doc == nil {
		t.Errorf("FetchDocument(%s) returned neither a document nor an error", it.Ref.ID)
		return
	}
	if problems := s.checkDocument(patient, it, doc); len(problems) > 0 {
		for _, p := range problems {
			t.Errorf("FetchDocument(%s): %s", it.Ref.ID, p)
		}
		return
	}
	s.mu.Lock()
	s.fetched[it.Ref] = doc
	s.mu.Unlock()
}

// checkDocument lists what is wrong with doc, fetched for a listed item.
// It fills in empty systems as the engine does.
func (s *sourceSuite) checkDocument(patient connector.Ref, it connector.Item, doc *connector.Document) []string {
	var out []string
	d := *doc
	if d.Ref.System == "" {
		d.Ref.System = s.opts.Name
	}
	if d.Patient.System == "" {
		d.Patient.System = s.opts.Name
	}
	if d.Patient.Type == "" {
		d.Patient.Type = connector.PatientType
	}
	if d.Ref != it.Ref {
		out = append(out, fmt.Sprintf("Ref is %s, want the listed %s", d.Ref, it.Ref))
	}
	if d.Version != it.Version {
		out = append(out, fmt.Sprintf("Version is %q, want the listed %q: listing and fetch must agree on versions", d.Version, it.Version))
	}
	if d.Deleted {
		out = append(out, "Deleted is set on a document listed as live")
	}
	if d.Patient.ID != patient.ID {
		out = append(out, fmt.Sprintf("Patient.ID is %q, but the document was listed for patient %q", d.Patient.ID, patient.ID))
	}
	if err := d.Validate(); err != nil {
		out = append(out, fmt.Sprintf("Validate: %v", err))
	}
	if d.Body != nil {
		// Streamed: the engine seals it as it reads it, and a Size or
		// ContentHash the Source states must then agree.
		return append(out, s.checkBody(&d)...)
	}
	if d.Size != int64(len(d.Content)) {
		out = append(out, fmt.Sprintf("Size is %d, want len(Content) = %d", d.Size, len(d.Content)))
	}
	sum := sha256.Sum256(d.Content)
	if want := hex.EncodeToString(sum[:]); d.ContentHash != want {
		out = append(out, fmt.Sprintf("ContentHash is %q, want the hex SHA-256 of Content %q (see Document.Seal)", d.ContentHash, want))
	}
	return out
}

// checkBody reads a streamed content to its end, twice: a Body is opened
// again for another reading.
func (s *sourceSuite) checkBody(d *connector.Document) []string {
	var out []string
	if len(d.Content) > 0 {
		out = append(out, "both Content and Body are set: a streamed content comes in Body alone")
	}
	var first string
	for i := range 2 {
		h := sha256.New()
		r, err := d.Body.Open(context.Background())
		if err != nil {
			return append(out, fmt.Sprintf("Body.Open (reading %d): %v", i+1, err))
		}
		n, err := io.Copy(h, r)
		r.Close()
		if err != nil {
			return append(out, fmt.Sprintf("reading Body (reading %d): %v", i+1, err))
		}
		sum := hex.EncodeToString(h.Sum(nil))
		switch {
		case i == 0:
			first = sum
		case sum != first:
			out = append(out, "Body reads other bytes when opened again")
		}
		if d.Size != 0 && d.Size != n {
			out = append(out, fmt.Sprintf("Size is %d, but Body reads %d bytes", d.Size, n))
		}
		if d.ContentHash != "" && d.ContentHash != sum {
			out = append(out, fmt.Sprintf("ContentHash is %q, but Body hashes to %q", d.ContentHash, sum))
		}
	}
	return out
}

func (s *sourceSuite) testFetchMissing(t testing.TB) {
	ref := s.opts.MissingDocument
	if ref.ID == "" {
		ref = connector.Ref{Type: "DocumentReference", ID: missingID}
		for _, l := range s.listings {
			if len(l.order) > 0 {
				ref.Type = l.order[0].Type
				break
			}
		}
	}
	ref.System = s.opts.Name
	ctx, cancel := callContext(t, s.opts.Timeout)
	defer cancel()
	doc, err := s.src.FetchDocument(ctx, ref)
	switch {
	case err == nil && doc != nil && doc.Deleted:
		// A tombstone says as much as ErrNotFound.
	case err == nil:
		t.Errorf("FetchDocument(%s) of a missing document returned no error: want an error wrapping connector.ErrNotFound", ref)
	case !errors.Is(err, connector.ErrNotFound):
		t.Errorf("FetchDocument(%s) of a missing document: want an error wrapping connector.ErrNotFound (the engine takes it as deleted), got %v", ref, err)
	}
}

func (s *sourceSuite) testFindPatient(t testing.TB) {
	for _, p := range s.opts.Patients {
		ctx, cancel := callContext(t, s.opts.Timeout)
		got, err := s.src.FindPatient(ctx, connector.PatientQuery{ID: p.ID})
		cancel()
		switch {
		case err != nil:
			t.Errorf("FindPatient(ID %s) of a known patient: %v", p.ID, err)
		case got == nil:
			t.Errorf("FindPatient(ID %s) returned neither a patient nor an error", p.ID)
		case got.Ref.ID != p.ID:
			t.Errorf("FindPatient(ID %s) returned patient %q", p.ID, got.Ref.ID)
		case got.Ref.System != "" && got.Ref.System != s.opts.Name:
			t.Errorf("FindPatient(ID %s) returned a ref of system %q: leave it empty or set the Source's name %q", p.ID, got.Ref.System, s.opts.Name)
		}
	}
	ctx, cancel := callContext(t, s.opts.Timeout)
	defer cancel()
	got, err := s.src.FindPatient(ctx, connector.PatientQuery{ID: s.opts.MissingPatientID})
	switch {
	case err == nil:
		id := ""
		if got != nil {
			id = got.Ref.ID
		}
		t.Errorf("FindPatient(ID %s) of a missing patient returned patient %q: want an error wrapping connector.ErrNotFound", s.opts.MissingPatientID, id)
	case !errors.Is(err, connector.ErrNotFound):
		t.Errorf("FindPatient(ID %s) of a missing patient: want an error wrapping connector.ErrNotFound, got %v", s.opts.MissingPatientID, err)
	}
}

// testConcurrent fetches every document from several goroutines at once,
// in different orders, while the first pages are listed again, and
// compares with the sequential results.
func (s *sourceSuite) testConcurrent(t testing.TB) {
	s.mu.Lock()
	type fetched struct {
		ref connector.Ref
		doc *connector.Document
	}
	var all []fetched
	for _, l := range s.listings {
		for _, ref := range l.order {
			if d, ok := s.fetched[ref]; ok {
				all = append(all, fetched{ref, d})
			}
		}
	}
	listings := s.listings
	s.mu.Unlock()
	if len(all) == 0 {
		t.Skip("no document fetched; see FetchDocument")
	}
	var bad problems
	var wg sync.WaitGroup
	for w := range s.opts.Concurrency {
		wg.Go(func() {
			for i := range all {
				f := all[(i+w*len(all)/s.opts.Concurrency)%len(all)]
				ctx, cancel := callContext(t, s.opts.Timeout)
				doc, err := s.src.FetchDocument(ctx, f.ref)
				cancel()
				switch {
				case err != nil:
					bad.addf("FetchDocument(%s): %v", f.ref.ID, err)
				case doc == nil:
					bad.addf("FetchDocument(%s) returned neither a document nor an error", f.ref.ID)
				case doc.Version != f.doc.Version || doc.ContentHash != f.doc.ContentHash:
					bad.addf("FetchDocument(%s) returned version %q hash %q, but %q hash %q when fetched alone", f.ref.ID, doc.Version, doc.ContentHash, f.doc.Version, f.doc.ContentHash)
				}
			}
		})
	}
	for _, l := range listings {
		wg.Go(func() {
			ctx, cancel := callContext(t, s.opts.Timeout)
			page, err := s.src.ListDocuments(ctx, l.patient, "")
			cancel()
			switch {
			case err != nil:
				bad.addf("ListDocuments(patient %s): %v", l.patient.ID, err)
			case len(page.Items) != len(l.pages[0].Items):
				bad.addf("ListDocuments(patient %s) first page has %d items, but %d when listed alone", l.patient.ID, len(page.Items), len(l.pages[0].Items))
			}
		})
	}
	wg.Wait()
	bad.report(t, "concurrent calls disagree with sequential ones")
}

// completeListings returns the listings that reached their end, skipping
// t when there is none.
func (s *sourceSuite) completeListings(t testing.TB) []*listing {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listings) == 0 {
		t.Skip("no complete listing; see ListDocuments")
	}
	return s.listings
}

func head(ids []string) []string {
	if len(ids) > 5 {
		return append(ids[:5:5], "...")
	}
	return ids
}
