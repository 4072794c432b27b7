package connectortest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// SinkOptions tell TestSink what it may assume about the Sink.
type SinkOptions struct {
	// Source is Ref.System of the patients and documents the suite writes,
	// as if they came from a Source of that name. Default "connectortest".
	Source string
	// Count, when set, returns how many objects the Sink holds for ref as
	// their external reference: 1 after a write, 0 after a delete. With it
	// the suite checks that writes without a SinkID update instead of
	// creating duplicates; without it, it can only compare returned ids.
	// The in-memory Sink's Count method fits.
	Count func(ref connector.Ref) int
	// HeldVersion, when set, returns the Version of the patient or document
	// the Sink holds for ref, or "" if it holds none. With it the suite
	// checks that updates take effect and that replaying an old key does
	// not write its old version over a newer one. The in-memory Sink's
	// HeldVersion method fits.
	HeldVersion func(ref connector.Ref) string
	// Run goes in every ref id, so that runs against a Sink that keeps its
	// data stay apart. Default: random.
	Run string
	// Timeout bounds each call. Default 30s.
	Timeout time.Duration
	// Concurrency is how many patients the concurrency check writes at
	// once. Default 8.
	Concurrency int
}

// TestSink checks that sink keeps the connector.Sink contract, in subtests
// of t named after what they check:
//
//   - UpsertPatient returns an id; the same key and request returns the
//     same id; a write without SinkID for a patient the Sink holds updates
//     it (same id, no second object); a write with SinkID keeps the id;
//   - PutDocument does the same for documents, and replaying the first
//     write's key after later writes returns its result without error;
//   - DeleteDocument removes the document, and deleting it again (with the
//     same key or another) or deleting what never existed succeeds; a
//     later write creates the document anew;
//   - calls for different patients and documents run concurrently (run
//     with -race to catch data races) and get distinct ids.
//
// The suite writes synthetic patients and documents; against a real
// system, point it at a test account. Sinks whose transient errors the
// engine would retry should be tested with those faults off: the suite
// retries nothing.
func TestSink(t *testing.T, sink connector.Sink, opts SinkOptions) {
	t.Helper()
	testSink(t, sink, opts)
}

func (o SinkOptions) withDefaults() SinkOptions {
	if o.Source == "" {
		o.Source = "connectortest"
	}
	if o.Run == "" {
		var b [4]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		o.Run = "run-" + hex.EncodeToString(b[:])
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultConcurrency
	}
	return o
}

type sinkSuite struct {
	sink connector.Sink
	opts SinkOptions
}

func testSink(t testing.TB, sink connector.Sink, opts SinkOptions) {
	t.Helper()
	s := &sinkSuite{sink: sink, opts: opts.withDefaults()}
	run(t, "UpsertPatient", s.testUpsertPatient)
	run(t, "PutDocument", s.testPutDocument)
	run(t, "PutStreamedDocument", s.testPutStreamed)
	run(t, "DeleteDocument", s.testDeleteDocument)
	run(t, "Concurrent", s.testConcurrent)
}

// The suite's fixtures: synthetic records, keys as the engine makes them.

var fixtureTime = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func (s *sinkSuite) patient(name string) connector.Patient {
	return connector.Patient{
		Ref:       connector.Ref{System: s.opts.Source, Type: connector.PatientType, ID: s.opts.Run + "-" + name},
		Name:      "Synthetic " + name,
		Email:     s.opts.Run + "-" + name + "@example.invalid",
		Version:   "1",
		UpdatedAt: fixtureTime,
	}
}

func (s *sinkSuite) document(patient connector.Patient, name, version string) connector.Document {
	d := connector.Document{
		Ref:         connector.Ref{System: s.opts.Source, Type: "DocumentReference", ID: s.opts.Run + "-" + name},
		Patient:     patient.Ref,
		Type:        connector.DocumentLabResult,
		Title:       "Synthetic " + name,
		Date:        fixtureTime,
		Author:      "Synthetic Clinician",
		Source:      "connectortest",
		ContentType: "text/plain",
		Content:     []byte("synthetic content of " + name + " version " + version),
		Version:     version,
		UpdatedAt:   fixtureTime,
	}
	d.Seal()
	return d
}

func key(ref connector.Ref, version string, deleted bool) string {
	return connector.IdempotencyKey("connectortest", ref, version, "", deleted)
}

func (s *sinkSuite) upsert(t testing.TB, w connector.PatientWrite) (string, error) {
	ctx, cancel := callContext(t, s.opts.Timeout)
	defer cancel()
	return s.sink.UpsertPatient(ctx, w)
}

func (s *sinkSuite) put(t testing.TB, w connector.DocumentWrite) (string, error) {
	ctx, cancel := callContext(t, s.opts.Timeout)
	defer cancel()
	return s.sink.PutDocument(ctx, w)
}

func (s *sinkSuite) del(t testing.TB, d connector.DocumentDelete) error {
	ctx, cancel := callContext(t, s.opts.Timeout)
	defer cancel()
	return s.sink.DeleteDocument(ctx, d)
}

// mustUpsert writes a patient the rest of a check depends on.
func (s *sinkSuite) mustUpsert(t testing.TB, what string, w connector.PatientWrite) string {
	t.Helper()
	id, err := s.upsert(t, w)
	if err != nil {
		t.Fatalf("UpsertPatient (%s): %v", what, err)
	}
	if id == "" {
		t.Fatalf("UpsertPatient (%s) returned an empty id and no error: it must return the patient's id in the Sink", what)
	}
	return id
}

// mustPut writes a document the rest of a check depends on.
func (s *sinkSuite) mustPut(t testing.TB, what string, w connector.DocumentWrite) string {
	t.Helper()
	id, err := s.put(t, w)
	if err != nil {
		t.Fatalf("PutDocument (%s): %v", what, err)
	}
	if id == "" {
		t.Fatalf("PutDocument (%s) returned an empty id and no error: it must return the document's id in the Sink", what)
	}
	return id
}

// checkCount compares the Sink's object count for ref, when it can.
func (s *sinkSuite) checkCount(t testing.TB, ref connector.Ref, want int, after string) {
	t.Helper()
	if s.opts.Count == nil {
		return
	}
	if got := s.opts.Count(ref); got != want {
		t.Errorf("the Sink holds %d objects for %s after %s, want %d", got, ref.ID, after, want)
	}
}

// checkVersion compares the version the Sink holds for ref, when it can.
func (s *sinkSuite) checkVersion(t testing.TB, ref connector.Ref, want, after string) {
	t.Helper()
	if s.opts.HeldVersion == nil {
		return
	}
	if got := s.opts.HeldVersion(ref); got != want {
		t.Errorf("the Sink holds version %q of %s after %s, want %q", got, ref.ID, after, want)
	}
}

func (s *sinkSuite) testUpsertPatient(t testing.TB) {
	p := s.patient("upsert-patient")
	first := connector.PatientWrite{Key: key(p.Ref, p.Version, false), Patient: p}
	id := s.mustUpsert(t, "first write", first)
	s.checkCount(t, p.Ref, 1, "the first write")

	if again, err := s.upsert(t, first); err != nil || again != id {
		t.Errorf("UpsertPatient repeated with the same key and request returned (%q, %v), the first call %q: a repeated key must return the first call's result", again, err, id)
	}
	s.checkCount(t, p.Ref, 1, "a repeated write")

	edited := p
	edited.Name, edited.Version = p.Name+" edited", "2"
	if got, err := s.upsert(t, connector.PatientWrite{Key: key(p.Ref, "2", false), Patient: edited}); err != nil || got != id {
		t.Errorf("UpsertPatient without SinkID of a patient the Sink holds (as %q) returned (%q, %v): the Sink must find it by its Ref and update it, not create another", id, got, err)
	}
	s.checkCount(t, p.Ref, 1, "a write without SinkID of a held patient")

	edited.Version = "3"
	if got, err := s.upsert(t, connector.PatientWrite{Key: key(p.Ref, "3", false), SinkID: id, Patient: edited}); err != nil || got != id {
		t.Errorf("UpsertPatient with SinkID %q returned (%q, %v): an update must keep the patient's id", id, got, err)
	}
	s.checkCount(t, p.Ref, 1, "an update by SinkID")
	s.checkVersion(t, p.Ref, "3", "an update by SinkID")

	other := s.patient("upsert-patient-other")
	if got := s.mustUpsert(t, "another patient", connector.PatientWrite{Key: key(other.Ref, "1", false), Patient: other}); got == id {
		t.Errorf("UpsertPatient of two different patients returned the same id %q", id)
	}
}

func (s *sinkSuite) testPutDocument(t testing.TB) {
	p := s.patient("put-document-patient")
	pid := s.mustUpsert(t, "the document's patient", connector.PatientWrite{Key: key(p.Ref, "1", false), Patient: p})

	v1 := s.document(p, "put-document", "1")
	first := connector.DocumentWrite{Key: key(v1.Ref, "1", false), PatientSinkID: pid, Document: v1}
	id := s.mustPut(t, "first write", first)
	s.checkCount(t, v1.Ref, 1, "the first write")

	if again, err := s.put(t, first); err != nil || again != id {
		t.Errorf("PutDocument repeated with the same key and request returned (%q, %v), the first call %q: a repeated key must return the first call's result (a retry after a lost response must not write twice)", again, err, id)
	}
	s.checkCount(t, v1.Ref, 1, "a repeated write")

	v2 := s.document(p, "put-document", "2")
	if got, err := s.put(t, connector.DocumentWrite{Key: key(v2.Ref, "2", false), SinkID: id, PatientSinkID: pid, Document: v2}); err != nil || got != id {
		t.Errorf("PutDocument with SinkID %q (an update) returned (%q, %v): an update must keep the document's id", id, got, err)
	}
	s.checkCount(t, v1.Ref, 1, "an update by SinkID")
	s.checkVersion(t, v1.Ref, "2", "an update by SinkID")

	v3 := s.document(p, "put-document", "3")
	if got, err := s.put(t, connector.DocumentWrite{Key: key(v3.Ref, "3", false), PatientSinkID: pid, Document: v3}); err != nil || got != id {
		t.Errorf("PutDocument without SinkID of a document the Sink holds (as %q) returned (%q, %v): the Sink must find it by its key or Ref and update it, not create another", id, got, err)
	}
	s.checkCount(t, v1.Ref, 1, "a write without SinkID of a held document")
	s.checkVersion(t, v1.Ref, "3", "a write without SinkID of a held document")

	if got, err := s.put(t, first); err != nil || got != id {
		t.Errorf("PutDocument replaying the first write's key after later writes returned (%q, %v), want the first result %q", got, err, id)
	}
	s.checkCount(t, v1.Ref, 1, "a replayed first write")
	s.checkVersion(t, v1.Ref, "3", "replaying the key of version 1 (a repeated key must not write again)")

	other := s.document(p, "put-document-other", "1")
	if got := s.mustPut(t, "another document", connector.DocumentWrite{Key: key(other.Ref, "1", false), PatientSinkID: pid, Document: other}); got == id {
		t.Errorf("PutDocument of two different documents returned the same id %q", id)
	}
}

// testPutStreamed writes a document whose content is a Body, as the
// engine delivers content above its StreamAbove: the Sink must read it
// through Document.Open, to its end.
func (s *sinkSuite) testPutStreamed(t testing.TB) {
	p := s.patient("put-streamed-patient")
	pid := s.mustUpsert(t, "the document's patient", connector.PatientWrite{Key: key(p.Ref, "1", false), Patient: p})
	d := s.document(p, "put-streamed", "1")
	content := make([]byte, 5<<20+17)
	for i := range content {
		content[i] = byte(i * 7)
	}
	body := &countingBody{content: content}
	d.Content, d.Body, d.ContentType = nil, body, "application/octet-stream"
	sealed := connector.Document{Content: content}
	sealed.Seal()
	d.Size, d.ContentHash = sealed.Size, sealed.ContentHash
	s.mustPut(t, "a streamed document", connector.DocumentWrite{Key: key(d.Ref, "1", false), PatientSinkID: pid, Document: d})
	if body.finished.Load() == 0 {
		t.Errorf("PutDocument of a document whose content is a Body (%d bytes) did not read the Body to its end: a Sink must read content through Document.Open, which streams content held in Body", len(content))
	}
	s.checkCount(t, d.Ref, 1, "a streamed document")
}

// countingBody is a Body that counts the readings that reached its end.
type countingBody struct {
	content  []byte
	finished atomic.Int64
}

func (b *countingBody) Open(context.Context) (io.ReadCloser, error) {
	return &countingReader{b: b, r: bytes.NewReader(b.content)}, nil
}

type countingReader struct {
	b *countingBody
	r *bytes.Reader
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if errors.Is(err, io.EOF) {
		r.b.finished.Add(1)
	}
	return n, err
}

func (r *countingReader) Close() error { return nil }

func (s *sinkSuite) testDeleteDocument(t testing.TB) {
	p := s.patient("delete-document-patient")
	pid := s.mustUpsert(t, "the document's patient", connector.PatientWrite{Key: key(p.Ref, "1", false), Patient: p})
	d := s.document(p, "delete-document", "1")
	id := s.mustPut(t, "the document to delete", connector.DocumentWrite{Key: key(d.Ref, "1", false), PatientSinkID: pid, Document: d})

	first := connector.DocumentDelete{Key: key(d.Ref, "2", true), SinkID: id, PatientSinkID: pid, Ref: d.Ref}
	if err := s.del(t, first); err != nil {
		t.Fatalf("DeleteDocument of a held document: %v", err)
	}
	s.checkCount(t, d.Ref, 0, "DeleteDocument")
	if err := s.del(t, first); err != nil {
		t.Errorf("DeleteDocument repeated with the same key: %v; a repeated key must have the effect of one call", err)
	}
	again := first
	again.Key = key(d.Ref, "3", true)
	if err := s.del(t, again); err != nil {
		t.Errorf("DeleteDocument of a document already deleted (another key): %v; deleting what is already gone must succeed", err)
	}
	never := s.document(p, "delete-document-never-written", "1")
	if err := s.del(t, connector.DocumentDelete{Key: key(never.Ref, "1", true), PatientSinkID: pid, Ref: never.Ref}); err != nil {
		t.Errorf("DeleteDocument of a document the Sink never held, without SinkID: %v; deleting what is already gone must succeed", err)
	}
	s.checkCount(t, d.Ref, 0, "repeated deletes")

	v4 := s.document(p, "delete-document", "4")
	got, err := s.put(t, connector.DocumentWrite{Key: key(d.Ref, "4", false), PatientSinkID: pid, Document: v4})
	switch {
	case err != nil:
		t.Errorf("PutDocument without SinkID of a deleted document (it came back at the Source): %v", err)
	case got == "":
		t.Errorf("PutDocument without SinkID of a deleted document returned an empty id")
	}
	s.checkCount(t, d.Ref, 1, "writing a deleted document anew")
}

// testConcurrent writes one patient and one document per goroutine, all at
// once, and checks that each got its own ids.
func (s *sinkSuite) testConcurrent(t testing.TB) {
	type ids struct{ patient, document string }
	got := make([]ids, s.opts.Concurrency)
	var bad problems
	var wg sync.WaitGroup
	for i := range s.opts.Concurrency {
		wg.Go(func() {
			p := s.patient(fmt.Sprintf("concurrent-patient-%d", i))
			pid, err := s.upsert(t, connector.PatientWrite{Key: key(p.Ref, "1", false), Patient: p})
			if err != nil || pid == "" {
				bad.addf("UpsertPatient(%s) = (%q, %v)", p.Ref.ID, pid, err)
				return
			}
			d := s.document(p, fmt.Sprintf("concurrent-document-%d", i), "1")
			id, err := s.put(t, connector.DocumentWrite{Key: key(d.Ref, "1", false), PatientSinkID: pid, Document: d})
			if err != nil || id == "" {
				bad.addf("PutDocument(%s) version 1 = (%q, %v)", d.Ref.ID, id, err)
				return
			}
			d2 := s.document(p, fmt.Sprintf("concurrent-document-%d", i), "2")
			w2 := connector.DocumentWrite{Key: key(d.Ref, "2", false), SinkID: id, PatientSinkID: pid, Document: d2}
			for range 2 {
				if again, err := s.put(t, w2); err != nil || again != id {
					bad.addf("PutDocument(%s) version 2 with SinkID %q = (%q, %v)", d.Ref.ID, id, again, err)
				}
			}
			got[i] = ids{pid, id}
		})
	}
	wg.Wait()
	bad.report(t, "concurrent calls for different patients and documents")

	seen := make(map[string]int)
	for i, g := range got {
		if g.patient == "" {
			continue
		}
		for _, id := range []string{"patient " + g.patient, "document " + g.document} {
			if j, ok := seen[id]; ok {
				t.Errorf("concurrent writes of different records %d and %d both got %s: each needs its own id", j, i, id)
			}
			seen[id] = i
		}
		s.checkCount(t, s.document(connector.Patient{}, fmt.Sprintf("concurrent-document-%d", i), "1").Ref, 1, "concurrent writes")
		s.checkCount(t, s.patient(fmt.Sprintf("concurrent-patient-%d", i)).Ref, 1, "concurrent writes")
	}
}
