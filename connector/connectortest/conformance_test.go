package connectortest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
)

// filledSource returns a Source of three patients with five documents each
// over pages of two, one document updated and one removed, and the options
// that describe it.
func filledSource(t *testing.T, cfg SourceConfig) (*Source, SourceOptions) {
	t.Helper()
	if cfg.PageSize == 0 {
		cfg.PageSize = 2
	}
	src := NewSource(cfg)
	patients, err := src.Fill(3, 5)
	require.NoError(t, err)
	docs := src.Documents()
	_, err = src.UpdateDocument(docs[0].Ref.ID, func(d *connector.Document) { d.Content = []byte("amended") })
	require.NoError(t, err)
	require.NoError(t, src.RemoveDocument(docs[1].Ref.ID))
	opts := SourceOptions{Name: "php", MaxPages: 50}
	for _, p := range patients {
		opts.Patients = append(opts.Patients, connector.Ref{ID: p.Ref.ID})
	}
	return src, opts
}

func TestTestSource(t *testing.T) {
	t.Run("NamedRefs", func(t *testing.T) {
		src, opts := filledSource(t, SourceConfig{Name: "php"})
		TestSource(t, src, opts)
	})
	t.Run("UnnamedRefs", func(t *testing.T) {
		// A Source may leave Ref.System empty; the suite fills it in.
		src, opts := filledSource(t, SourceConfig{})
		TestSource(t, src, opts)
	})
	t.Run("OnePage", func(t *testing.T) {
		src, opts := filledSource(t, SourceConfig{Name: "php", PageSize: 100})
		TestSource(t, src, opts)
	})
	t.Run("Streamed", func(t *testing.T) {
		// Content comes as a Body, as a Source streams attachments.
		src, opts := filledSource(t, SourceConfig{Name: "php", StreamAbove: 8})
		TestSource(t, src, opts)
	})
}

func TestTestSink(t *testing.T) {
	sink := NewSink(SinkConfig{})
	TestSink(t, sink, SinkOptions{Count: sink.Count, HeldVersion: sink.HeldVersion, Run: "conformance"})
	require.NoError(t, sink.Check())
	assert.Zero(t, sink.Stats().Overlaps)

	t.Run("WithoutHooks", func(t *testing.T) {
		TestSink(t, NewSink(SinkConfig{}), SinkOptions{})
	})
}

// The suites must fail on implementations that break the contract: each
// case breaks one rule and names the subtest and message the suite must
// report.

func TestTestSourceFailsBrokenSources(t *testing.T) {
	cases := []struct {
		name  string
		wrap  func(*Source) connector.Source
		test  string // subtest path the failure is reported under
		want  string // part of the message
		pages int    // SourceOptions.MaxPages; default 50
	}{
		{
			name: "wrong content hash",
			wrap: func(s *Source) connector.Source {
				return fetchHook{s, func(d *connector.Document) { d.ContentHash = "0000" }}
			},
			test: "FetchDocument", want: "ContentHash is",
		},
		{
			name: "wrong size",
			wrap: func(s *Source) connector.Source {
				return fetchHook{s, func(d *connector.Document) { d.Size++ }}
			},
			test: "FetchDocument", want: "want len(Content)",
		},
		{
			name: "streamed content that breaks off",
			wrap: func(s *Source) connector.Source {
				return fetchHook{s, func(d *connector.Document) {
					d.Body = &stream{content: d.Content, fault: streamFault{after: 3, err: io.ErrUnexpectedEOF}}
					d.Content = nil
				}}
			},
			test: "FetchDocument", want: "reading Body",
		},
		{
			name: "streamed content of another size",
			wrap: func(s *Source) connector.Source {
				return fetchHook{s, func(d *connector.Document) {
					d.Body, d.Content = connector.Bytes(d.Content), nil
					d.Size++
				}}
			},
			test: "FetchDocument", want: "but Body reads",
		},
		{
			name: "fetched version differs from listed",
			wrap: func(s *Source) connector.Source {
				return fetchHook{s, func(d *connector.Document) { d.Version = "99" }}
			},
			test: "FetchDocument", want: "listing and fetch must agree",
		},
		{
			name: "invalid document type",
			wrap: func(s *Source) connector.Source {
				return fetchHook{s, func(d *connector.Document) { d.Type = "x-ray" }}
			},
			test: "FetchDocument", want: "Validate:",
		},
		{
			name: "document of another patient",
			wrap: func(s *Source) connector.Source {
				return fetchHook{s, func(d *connector.Document) { d.Patient.ID = "someone-else" }}
			},
			test: "FetchDocument", want: "was listed for patient",
		},
		{
			name: "paging never ends",
			wrap: func(s *Source) connector.Source { return endlessSource{s} },
			test: "ListDocuments", want: "still reports More after 20 pages", pages: 20,
		},
		{
			name: "cursor does not advance",
			wrap: func(s *Source) connector.Source { return stuckSource{s} },
			test: "ListDocuments", want: "would never end",
		},
		{
			name: "empty final cursor",
			wrap: func(s *Source) connector.Source {
				return listHook{s, func(p *connector.Page) {
					if !p.More {
						p.Cursor = ""
					}
				}}
			},
			test: "ListDocuments", want: "last page's Cursor is empty",
		},
		{
			name: "item without version",
			wrap: func(s *Source) connector.Source {
				return listHook{s, func(p *connector.Page) {
					for i := range p.Items {
						p.Items[i].Version = ""
					}
				}}
			},
			test: "ListDocuments", want: "has no Version",
		},
		{
			name: "item of another system",
			wrap: func(s *Source) connector.Source {
				return listHook{s, func(p *connector.Page) {
					for i := range p.Items {
						p.Items[i].Ref.System = "elsewhere"
					}
				}}
			},
			test: "ListDocuments", want: `names system "elsewhere"`,
		},
		{
			name: "cursor usable once",
			wrap: func(s *Source) connector.Source { return &onceCursorSource{Source: s, used: map[string]bool{}} },
			test: "Resume", want: "misses",
		},
		{
			name: "source changes under the suite",
			wrap: func(s *Source) connector.Source { return &changingSource{Source: s, done: map[string]bool{}} },
			test: "Incremental", want: "newer than the listed",
		},
		{
			name: "missing document is not ErrNotFound",
			wrap: func(s *Source) connector.Source { return plainNotFound{s} },
			test: "FetchMissing", want: "want an error wrapping connector.ErrNotFound",
		},
		{
			name: "missing patient found",
			wrap: func(s *Source) connector.Source { return anyPatient{s} },
			test: "FindPatient", want: "of a missing patient returned patient",
		},
		{
			name: "fails under concurrency",
			wrap: func(s *Source) connector.Source {
				s.SetFaults(Faults{Latency: 2 * time.Millisecond})
				return &exclusiveSource{Source: s}
			},
			test: "Concurrent", want: "concurrent calls disagree",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, opts := filledSource(t, SourceConfig{Name: "php"})
			if tc.pages > 0 {
				opts.MaxPages = tc.pages
			}
			r := record(t, "TestSource", func(tb testing.TB) { testSource(tb, tc.wrap(src), opts) })
			require.True(t, r.Failed(), "the suite passed a broken source")
			assert.True(t, r.Reported("TestSource/"+tc.test, tc.want), "want a failure in %s containing %q; got:\n%s", tc.test, tc.want, r.Report())
		})
	}
}

func TestTestSourceRefusesBadOptions(t *testing.T) {
	src, opts := filledSource(t, SourceConfig{Name: "php"})
	for name, o := range map[string]SourceOptions{
		"no name":       {Patients: opts.Patients},
		"no patients":   {Name: "php"},
		"patient no id": {Name: "php", Patients: []connector.Ref{{}}},
	} {
		t.Run(name, func(t *testing.T) {
			r := record(t, "TestSource", func(tb testing.TB) { testSource(tb, src, o) })
			assert.True(t, r.Reported("TestSource", "SourceOptions"), r.Report())
		})
	}
}

func TestTestSinkFailsBrokenSinks(t *testing.T) {
	cases := []struct {
		name string
		bugs bugs
		test string
		want string
	}{
		{"duplicate on empty SinkID", bugs{duplicateOnEmptySinkID: true}, "PutDocument", "not create another"},
		{"duplicate counted", bugs{duplicateOnEmptySinkID: true}, "PutDocument", "holds 2 objects"},
		{"forgets keys", bugs{forgetKeys: true}, "PutDocument", "a repeated key must not write again"},
		{"new id on update", bugs{newIDOnUpdate: true}, "PutDocument", "an update must keep the document's id"},
		{"ignores updates", bugs{ignoreUpdates: true}, "PutDocument", `version "1" of`},
		{"deleting gone fails", bugs{deleteGoneFails: true}, "DeleteDocument", "deleting what is already gone must succeed"},
		{"delete keeps document", bugs{deleteNoop: true}, "DeleteDocument", "holds 1 objects for"},
		{"one id for all", bugs{sameID: true}, "UpsertPatient", "two different patients returned the same id"},
		{"one id for all, concurrently", bugs{sameID: true}, "Concurrent", "each needs its own id"},
		{"empty id", bugs{emptyID: true}, "UpsertPatient", "returned an empty id"},
		{"fails under concurrency", bugs{exclusive: true}, "Concurrent", "concurrent calls for different"},
		{"reads Content only", bugs{contentOnly: true}, "PutStreamedDocument", "did not read the Body to its end"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := newBuggySink(tc.bugs)
			r := record(t, "TestSink", func(tb testing.TB) {
				testSink(tb, sink, SinkOptions{Count: sink.Count, HeldVersion: sink.HeldVersion, Concurrency: 4})
			})
			require.True(t, r.Failed(), "the suite passed a broken sink")
			assert.True(t, r.Reported("TestSink/"+tc.test, tc.want), "want a failure in %s containing %q; got:\n%s", tc.test, tc.want, r.Report())
		})
	}

	t.Run("correct buggySink passes", func(t *testing.T) {
		// The harness is sound: without bugs the same sink passes.
		sink := newBuggySink(bugs{})
		r := record(t, "TestSink", func(tb testing.TB) {
			testSink(tb, sink, SinkOptions{Count: sink.Count, HeldVersion: sink.HeldVersion, Concurrency: 4})
		})
		assert.False(t, r.Failed(), r.Report())
	})
}

// Broken sources, each wrapping a correct one.

type fetchHook struct {
	*Source
	edit func(*connector.Document)
}

func (s fetchHook) FetchDocument(ctx context.Context, ref connector.Ref) (*connector.Document, error) {
	d, err := s.Source.FetchDocument(ctx, ref)
	if err == nil {
		s.edit(d)
	}
	return d, err
}

type listHook struct {
	*Source
	edit func(*connector.Page)
}

func (s listHook) ListDocuments(ctx context.Context, patient connector.Ref, cursor string) (connector.Page, error) {
	p, err := s.Source.ListDocuments(ctx, patient, cursor)
	if err == nil {
		s.edit(&p)
	}
	return p, err
}

// endlessSource always has another page.
type endlessSource struct{ *Source }

func (s endlessSource) ListDocuments(ctx context.Context, patient connector.Ref, cursor string) (connector.Page, error) {
	return connector.Page{Cursor: cursor + "+", More: true}, nil
}

// stuckSource hands back the cursor it was given.
type stuckSource struct{ *Source }

func (s stuckSource) ListDocuments(ctx context.Context, patient connector.Ref, cursor string) (connector.Page, error) {
	p, err := s.Source.ListDocuments(ctx, patient, cursor)
	p.Cursor, p.More = cursor, true
	return p, err
}

// onceCursorSource forgets a cursor once used, like a server-side paging
// session: a second use lists nothing.
type onceCursorSource struct {
	*Source
	mu   sync.Mutex
	used map[string]bool
}

func (s *onceCursorSource) ListDocuments(ctx context.Context, patient connector.Ref, cursor string) (connector.Page, error) {
	s.mu.Lock()
	used := s.used[cursor]
	s.used[cursor] = cursor != ""
	s.mu.Unlock()
	if used {
		return connector.Page{Cursor: cursor}, nil
	}
	return s.Source.ListDocuments(ctx, patient, cursor)
}

// changingSource updates a document of each patient once its first full
// listing ends.
type changingSource struct {
	*Source
	mu   sync.Mutex
	done map[string]bool
}

func (s *changingSource) ListDocuments(ctx context.Context, patient connector.Ref, cursor string) (connector.Page, error) {
	p, err := s.Source.ListDocuments(ctx, patient, cursor)
	if err != nil || p.More {
		return p, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done[patient.ID] {
		s.done[patient.ID] = true
		for _, d := range s.Documents() {
			if d.Patient.ID == patient.ID && !d.Deleted {
				if _, err := s.UpdateDocument(d.Ref.ID, func(d *connector.Document) { d.Title += " (changed)" }); err != nil {
					return p, err
				}
				break
			}
		}
	}
	return p, nil
}

// plainNotFound answers a missing document with an unclassified error.
type plainNotFound struct{ *Source }

func (s plainNotFound) FetchDocument(ctx context.Context, ref connector.Ref) (*connector.Document, error) {
	d, err := s.Source.FetchDocument(ctx, ref)
	if errors.Is(err, connector.ErrNotFound) {
		return nil, errors.New("404")
	}
	return d, err
}

// anyPatient finds some patient whatever the query.
type anyPatient struct{ *Source }

func (s anyPatient) FindPatient(ctx context.Context, q connector.PatientQuery) (*connector.Patient, error) {
	p := s.Patients()[0]
	return &p, nil
}

// exclusiveSource fails calls that overlap another.
type exclusiveSource struct {
	*Source
	mu sync.Mutex
}

func (s *exclusiveSource) FetchDocument(ctx context.Context, ref connector.Ref) (*connector.Document, error) {
	if !s.mu.TryLock() {
		return nil, errors.New("busy")
	}
	defer s.mu.Unlock()
	return s.Source.FetchDocument(ctx, ref)
}

// buggySink is a small Sink whose bugs can be switched on one at a time.
type buggySink struct {
	bugs bugs
	excl sync.Mutex

	mu   sync.Mutex
	next int
	keys map[string]string
	objs map[string]*held // by sink id
}

type held struct {
	ref     connector.Ref
	version string
}

type bugs struct {
	duplicateOnEmptySinkID bool // a write without SinkID always creates
	forgetKeys             bool // a repeated key writes again
	newIDOnUpdate          bool // an update replaces the object under a new id
	ignoreUpdates          bool // a write for a held ref changes nothing
	deleteGoneFails        bool // deleting what is gone answers ErrNotFound
	deleteNoop             bool // delete succeeds but keeps the object
	sameID                 bool // every object gets id "1"
	emptyID                bool // returns no id
	exclusive              bool // overlapping calls fail
	contentOnly            bool // reads Content, never a Body
}

func newBuggySink(b bugs) *buggySink {
	return &buggySink{bugs: b, keys: map[string]string{}, objs: map[string]*held{}}
}

func (s *buggySink) UpsertPatient(ctx context.Context, w connector.PatientWrite) (string, error) {
	return s.write(w.Key, w.SinkID, w.Patient.Ref, w.Patient.Version)
}

func (s *buggySink) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	if !s.bugs.contentOnly {
		r, err := w.Document.Open(ctx)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(io.Discard, r)
		r.Close()
		if err != nil {
			return "", err
		}
	}
	return s.write(w.Key, w.SinkID, w.Document.Ref, w.Document.Version)
}

func (s *buggySink) write(key, sinkID string, ref connector.Ref, version string) (string, error) {
	if s.bugs.exclusive {
		if !s.excl.TryLock() {
			return "", errors.New("busy")
		}
		defer s.excl.Unlock()
		time.Sleep(time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.keys[key]; ok && !s.bugs.forgetKeys {
		return id, nil
	}
	id := sinkID
	if id == "" && !s.bugs.duplicateOnEmptySinkID {
		id = s.find(ref)
	}
	h := s.objs[id]
	switch {
	case h == nil:
		h = &held{ref: ref, version: version}
		id = s.newID()
	case s.bugs.ignoreUpdates:
	case s.bugs.newIDOnUpdate:
		delete(s.objs, id)
		id = s.newID()
		h.version = version
	default:
		h.version = version
	}
	s.objs[id] = h
	if s.bugs.emptyID {
		id = ""
	}
	s.keys[key] = id
	return id, nil
}

func (s *buggySink) newID() string {
	if s.bugs.sameID {
		return "1"
	}
	s.next++
	return fmt.Sprint(s.next)
}

func (s *buggySink) find(ref connector.Ref) string {
	for id, h := range s.objs {
		if h.ref == ref {
			return id
		}
	}
	return ""
}

func (s *buggySink) DeleteDocument(ctx context.Context, d connector.DocumentDelete) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := d.SinkID
	if s.objs[id] == nil {
		id = s.find(d.Ref)
	}
	if s.objs[id] == nil {
		if s.bugs.deleteGoneFails {
			return fmt.Errorf("delete %s: %w", d.Ref.ID, connector.ErrNotFound)
		}
		return nil
	}
	if !s.bugs.deleteNoop {
		delete(s.objs, id)
	}
	return nil
}

func (s *buggySink) Count(ref connector.Ref) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range s.objs {
		if h.ref == ref {
			n++
		}
	}
	return n
}

func (s *buggySink) HeldVersion(ref connector.Ref) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.objs[s.find(ref)]; h != nil {
		return h.version
	}
	return ""
}
