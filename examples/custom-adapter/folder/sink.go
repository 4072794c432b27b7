package folder

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Sink is a connector.Sink that writes patients and documents into a
// folder; see the package documentation for its layout. It is safe for
// concurrent use. Close it when done.
type Sink struct {
	root *os.Root

	mu sync.Mutex
	// keys maps each idempotency key already applied to its result.
	keys    map[string]string
	keyFile *os.File

	writes atomic.Int64
}

var _ connector.Sink = (*Sink)(nil)

const (
	keysFile     = "keys.log"
	patientsDir  = "patients"
	documentsDir = "documents"
)

// OpenSink opens the folder dir as a Sink, creating it if needed, and
// reads back the idempotency keys applied before.
func OpenSink(dir string) (*Sink, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open sink: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open sink: %w", err)
	}
	s := &Sink{root: root, keys: map[string]string{}}
	if err := s.open(); err != nil {
		root.Close()
		return nil, fmt.Errorf("open sink %s: %w", dir, err)
	}
	return s, nil
}

func (s *Sink) open() error {
	for _, d := range []string{patientsDir, documentsDir} {
		if err := s.root.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	f, err := s.root.OpenFile(keysFile, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// A line cut short by a crash has no result: its write was done but
		// not remembered, and a retry simply does it again, harmlessly.
		if key, id, ok := strings.Cut(sc.Text(), " "); ok && id != "" {
			s.keys[key] = id
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return err
	}
	s.keyFile = f
	return nil
}

// Close releases the folder.
func (s *Sink) Close() error {
	return errors.Join(s.keyFile.Close(), s.root.Close())
}

// Writes counts the calls that wrote or removed something since the Sink
// was opened; calls answered from a remembered key are not counted.
func (s *Sink) Writes() int64 { return s.writes.Load() }

// UpsertPatient implements connector.Sink.
func (s *Sink) UpsertPatient(ctx context.Context, w connector.PatientWrite) (string, error) {
	ref := w.Patient.Ref
	if err := checkWrite(w.Key, ref); err != nil {
		return "", fmt.Errorf("upsert patient: %w", err)
	}
	id, err := s.sinkID(patientPrefix, w.SinkID, ref)
	if err != nil {
		return "", fmt.Errorf("upsert patient %s: %w", ref, err)
	}
	if first, ok := s.applied(w.Key); ok {
		return first, nil
	}
	data, err := json.MarshalIndent(Patient{ID: id, Patient: w.Patient}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("upsert patient %s: %w", ref, err)
	}
	if _, err := s.writeFile(path.Join(patientsDir, id+".json"), bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("upsert patient %s: %w", ref, err)
	}
	return id, s.remember(w.Key, id)
}

// PutDocument implements connector.Sink. The patient must have been
// written first: an unknown PatientSinkID is connector.ErrNotFound.
func (s *Sink) PutDocument(ctx context.Context, w connector.DocumentWrite) (string, error) {
	ref := w.Document.Ref
	if err := checkWrite(w.Key, ref); err != nil {
		return "", fmt.Errorf("put document: %w", err)
	}
	if err := w.Document.Validate(); err != nil {
		return "", fmt.Errorf("put document: %w", err)
	}
	id, err := s.sinkID(documentPrefix, w.SinkID, ref)
	if err != nil {
		return "", fmt.Errorf("put document %s: %w", ref, err)
	}
	if !sinkIDForm.MatchString(w.PatientSinkID) || !strings.HasPrefix(w.PatientSinkID, patientPrefix) {
		return "", fmt.Errorf("put document %s: %w: patient sink id %q is not one this sink issued", ref, connector.ErrInvalid, w.PatientSinkID)
	}
	if first, ok := s.applied(w.Key); ok {
		return first, nil
	}
	if _, err := s.root.Stat(path.Join(patientsDir, w.PatientSinkID+".json")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = connector.ErrNotFound
		}
		return "", fmt.Errorf("put document %s: patient %s: %w", ref, w.PatientSinkID, err)
	}
	// Content first, metadata last: the metadata file is what makes the
	// document exist, and it names the hash of the content beside it.
	// The content is read through Open, which streams a large one (a
	// Body) instead of holding it; the hash recorded is that of the bytes
	// written.
	doc := w.Document
	content, err := doc.Open(ctx)
	if err != nil {
		return "", fmt.Errorf("put document %s: %w", ref, err)
	}
	h := sha256.New()
	n, err := s.writeFile(path.Join(documentsDir, id+".content"), io.TeeReader(content, h))
	content.Close()
	if err != nil {
		return "", fmt.Errorf("put document %s: %w", ref, err)
	}
	doc.Content, doc.Body, doc.Raw = nil, nil, nil
	doc.Size, doc.ContentHash = n, hex.EncodeToString(h.Sum(nil))
	data, err := json.MarshalIndent(Document{ID: id, PatientID: w.PatientSinkID, ContentFile: id + ".content", Document: doc}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("put document %s: %w", ref, err)
	}
	if _, err := s.writeFile(path.Join(documentsDir, id+".json"), bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("put document %s: %w", ref, err)
	}
	return id, s.remember(w.Key, id)
}

// DeleteDocument implements connector.Sink. Deleting what is not there
// succeeds.
func (s *Sink) DeleteDocument(ctx context.Context, d connector.DocumentDelete) error {
	if err := checkWrite(d.Key, d.Ref); err != nil {
		return fmt.Errorf("delete document: %w", err)
	}
	id, err := s.sinkID(documentPrefix, d.SinkID, d.Ref)
	if err != nil {
		return fmt.Errorf("delete document %s: %w", d.Ref, err)
	}
	// The key matters for deletes too: replayed after the document came
	// back, an old delete must not remove the new one.
	if _, ok := s.applied(d.Key); ok {
		return nil
	}
	for _, name := range []string{id + ".json", id + ".content"} {
		if err := s.root.Remove(path.Join(documentsDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete document %s: %w", d.Ref, err)
		}
	}
	return s.remember(d.Key, id)
}

// Patient is a patient as the Sink holds it.
type Patient struct {
	ID string `json:"id"`
	connector.Patient
}

// Document is a document's metadata as the Sink holds it; its content is
// the file ContentFile beside it.
type Document struct {
	ID          string `json:"id"`
	PatientID   string `json:"patient_id"`
	ContentFile string `json:"content_file"`
	connector.Document
}

// Documents returns the documents the Sink holds, ordered by id.
func (s *Sink) Documents() ([]Document, error) {
	names, err := fs.Glob(s.root.FS(), documentsDir+"/*.json")
	if err != nil {
		return nil, err
	}
	out := make([]Document, 0, len(names))
	for _, name := range names {
		var d Document
		if err := s.readJSON(name, &d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Document) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Count returns how many objects the Sink holds for ref: 1 or 0. It fits
// connectortest.SinkOptions.Count.
func (s *Sink) Count(ref connector.Ref) int {
	if _, err := s.root.Stat(s.file(ref)); err != nil {
		return 0
	}
	return 1
}

// HeldVersion returns the version the Sink holds of ref, or "". It fits
// connectortest.SinkOptions.HeldVersion.
func (s *Sink) HeldVersion(ref connector.Ref) string {
	var held struct {
		Version string `json:"version"`
	}
	if err := s.readJSON(s.file(ref), &held); err != nil {
		return ""
	}
	return held.Version
}

func (s *Sink) file(ref connector.Ref) string {
	if ref.Type == connector.PatientType {
		return path.Join(patientsDir, derivedID(patientPrefix, ref)+".json")
	}
	return path.Join(documentsDir, derivedID(documentPrefix, ref)+".json")
}

func (s *Sink) readJSON(name string, v any) error {
	data, err := s.root.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Sink ids. Deriving the id from the Ref makes the Ref the external
// reference the contract asks for: a write without a SinkID finds what
// the Sink holds for its Ref by name. A platform that assigns its own ids
// searches by an external-reference field instead.
const (
	patientPrefix  = "patient-"
	documentPrefix = "document-"
)

var sinkIDForm = regexp.MustCompile(`^(patient|document)-[0-9a-f]{32}$`)

func derivedID(prefix string, ref connector.Ref) string {
	sum := sha256.Sum256([]byte(ref.String()))
	return prefix + hex.EncodeToString(sum[:16])
}

// sinkID returns the id to write: the caller's SinkID when it gave one,
// refused unless it has the form this Sink issues (it becomes a file
// name), else the id derived from ref.
func (s *Sink) sinkID(prefix, given string, ref connector.Ref) (string, error) {
	if given == "" {
		return derivedID(prefix, ref), nil
	}
	if !sinkIDForm.MatchString(given) || !strings.HasPrefix(given, prefix) {
		return "", fmt.Errorf("%w: sink id %q is not one this sink issued", connector.ErrInvalid, given)
	}
	return given, nil
}

func checkWrite(key string, ref connector.Ref) error {
	if key == "" {
		return fmt.Errorf("%s: %w: no idempotency key", ref, connector.ErrInvalid)
	}
	if strings.ContainsAny(key, " \n") {
		return fmt.Errorf("%s: %w: idempotency key %q holds a space or newline", ref, connector.ErrInvalid, key)
	}
	return ref.Validate()
}

// applied returns the result of the first call with key, if it was
// applied. Calls for one document are never concurrent (the engine leases
// each document), so no second call with the key can be in flight.
func (s *Sink) applied(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.keys[key]
	return id, ok
}

// remember records key as applied, durably, after its write. A crash
// between the write and this leaves the key unknown: the retry writes the
// same bytes again, which changes nothing.
func (s *Sink) remember(key, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := fmt.Fprintf(s.keyFile, "%s %s\n", key, id); err != nil {
		return fmt.Errorf("remember key: %w", err)
	}
	if err := s.keyFile.Sync(); err != nil {
		return fmt.Errorf("remember key: %w", err)
	}
	s.keys[key] = id
	s.writes.Add(1)
	return nil
}

// writeFile replaces name with data atomically: it writes a temporary file
// beside it, syncs it and renames it over name, then syncs the directory
// so that the rename survives a power cut.
func (s *Sink) writeFile(name string, data io.Reader) (n int64, err error) {
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := name + ".tmp-" + hex.EncodeToString(suffix[:])
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			s.root.Remove(tmp)
		}
	}()
	n, err = io.Copy(f, data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	if err := s.root.Rename(tmp, name); err != nil {
		return 0, err
	}
	dir, err := s.root.Open(path.Dir(name))
	if err != nil {
		return 0, err
	}
	defer dir.Close()
	return n, dir.Sync()
}
