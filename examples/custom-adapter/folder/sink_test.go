package folder_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/examples/custom-adapter/folder"
)

func openSink(t *testing.T, dir string) *folder.Sink {
	t.Helper()
	sink, err := folder.OpenSink(dir)
	require.NoError(t, err)
	t.Cleanup(func() { sink.Close() })
	return sink
}

// The conformance suite in one call; Count and HeldVersion let it prove
// that no write made a duplicate and no replayed key wrote an old version.
func TestSink(t *testing.T) {
	sink := openSink(t, t.TempDir())
	connectortest.TestSink(t, sink, connectortest.SinkOptions{Count: sink.Count, HeldVersion: sink.HeldVersion})
}

var (
	patientRef = connector.Ref{System: "files", Type: connector.PatientType, ID: "p1"}
	docRef     = connector.Ref{System: "files", Type: "DocumentReference", ID: "d1"}
)

func document(version, content string) connector.Document {
	d := connector.Document{Ref: docRef, Patient: patientRef, Type: connector.DocumentLabResult,
		Title: "Synthetic lab report", ContentType: "text/plain", Content: []byte(content), Version: version}
	d.Seal()
	return d
}

func key(ref connector.Ref, version string) string {
	return connector.IdempotencyKey("folder", ref, version, "", false)
}

// writePatient writes the synthetic patient the documents belong to.
func writePatient(t *testing.T, sink *folder.Sink) string {
	t.Helper()
	id, err := sink.UpsertPatient(t.Context(), connector.PatientWrite{Key: key(patientRef, "1"),
		Patient: connector.Patient{Ref: patientRef, Name: "Synthetic Patient", Version: "1"}})
	require.NoError(t, err)
	return id
}

func TestSinkWritesMetadataAndContent(t *testing.T) {
	dir := t.TempDir()
	sink := openSink(t, dir)
	pid := writePatient(t, sink)

	id, err := sink.PutDocument(t.Context(), connector.DocumentWrite{Key: key(docRef, "1"), PatientSinkID: pid, Document: document("1", "glucose 6.3 mmol/l")})
	require.NoError(t, err)

	content, err := os.ReadFile(filepath.Join(dir, "documents", id+".content"))
	require.NoError(t, err)
	assert.Equal(t, "glucose 6.3 mmol/l", string(content))

	var meta map[string]any
	data, err := os.ReadFile(filepath.Join(dir, "documents", id+".json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &meta))
	sum := sha256.Sum256(content)
	assert.Equal(t, hex.EncodeToString(sum[:]), meta["content_hash"], "the metadata names the hash of the content beside it")
	assert.Equal(t, pid, meta["patient_id"])
	assert.Equal(t, id+".content", meta["content_file"])
	assert.NotContains(t, meta, "content", "the content lives in its own file")

	docs, err := sink.Documents()
	require.NoError(t, err)
	require.Len(t, docs, 1)
	assert.Equal(t, "1", docs[0].Version)

	// Every write went through a temporary file and a rename.
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		assert.NotContains(t, p, ".tmp-", "a temporary file was left behind")
		return err
	})
	require.NoError(t, err)
}

// A repeated key writes nothing, even after a newer version and across a
// restart of the Sink: an old version never comes back.
func TestSinkRemembersKeys(t *testing.T) {
	dir := t.TempDir()
	sink := openSink(t, dir)
	pid := writePatient(t, sink)
	ctx := t.Context()

	first := connector.DocumentWrite{Key: key(docRef, "1"), PatientSinkID: pid, Document: document("1", "version one")}
	id, err := sink.PutDocument(ctx, first)
	require.NoError(t, err)
	// A write without SinkID for a ref the Sink holds updates it.
	again, err := sink.PutDocument(ctx, connector.DocumentWrite{Key: key(docRef, "2"), PatientSinkID: pid, Document: document("2", "version two")})
	require.NoError(t, err)
	assert.Equal(t, id, again)
	assert.Equal(t, int64(3), sink.Writes(), "patient, version 1, version 2")

	replayed, err := sink.PutDocument(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, id, replayed, "a repeated key returns the first result")
	assert.Equal(t, int64(3), sink.Writes(), "and writes nothing")
	assert.Equal(t, "2", sink.HeldVersion(docRef))

	require.NoError(t, sink.Close())
	reopened := openSink(t, dir)
	_, err = reopened.PutDocument(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, int64(0), reopened.Writes(), "keys survive a restart")
	assert.Equal(t, "2", reopened.HeldVersion(docRef))
	assert.Equal(t, 1, reopened.Count(docRef))
}

// A crash while appending a key leaves a torn line; opening the Sink
// skips it, and the retry that follows writes again.
func TestSinkSkipsATornKeyLine(t *testing.T) {
	dir := t.TempDir()
	sink := openSink(t, dir)
	pid := writePatient(t, sink)
	require.NoError(t, sink.Close())

	w := connector.DocumentWrite{Key: key(docRef, "1"), PatientSinkID: pid, Document: document("1", "version one")}
	f, err := os.OpenFile(filepath.Join(dir, "keys.log"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(w.Key[:10])
	require.NoError(t, err)
	require.NoError(t, f.Close())

	reopened := openSink(t, dir)
	_, err = reopened.PutDocument(t.Context(), w)
	require.NoError(t, err)
	assert.Equal(t, int64(1), reopened.Writes())
	assert.Equal(t, "1", reopened.HeldVersion(docRef))
}

func TestSinkRefusesIDsItDidNotIssue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sink")
	sink := openSink(t, dir)
	pid := writePatient(t, sink)
	ctx := t.Context()

	malformed := []string{"../../outside", "document-../../outside", "document-" + strings.Repeat("g", 32), "document-0"}
	for _, id := range append(malformed, "patient-"+strings.Repeat("0", 32)) {
		_, err := sink.PutDocument(ctx, connector.DocumentWrite{Key: key(docRef, "1"), SinkID: id, PatientSinkID: pid, Document: document("1", "x")})
		assert.ErrorIs(t, err, connector.ErrInvalid, "document sink id %q", id)
		err = sink.DeleteDocument(ctx, connector.DocumentDelete{Key: key(docRef, "2"), SinkID: id, Ref: docRef})
		assert.ErrorIs(t, err, connector.ErrInvalid, "delete sink id %q", id)
	}
	for _, id := range append(malformed, "document-"+strings.Repeat("0", 32)) {
		_, err := sink.UpsertPatient(ctx, connector.PatientWrite{Key: key(patientRef, "2"), SinkID: id, Patient: connector.Patient{Ref: patientRef, Version: "2"}})
		assert.ErrorIs(t, err, connector.ErrInvalid, "patient sink id %q", id)
		_, err = sink.PutDocument(ctx, connector.DocumentWrite{Key: key(docRef, "1"), PatientSinkID: id, Document: document("1", "x")})
		assert.ErrorIs(t, err, connector.ErrInvalid, "patient sink id %q of a document", id)
	}
	_, err := sink.PutDocument(ctx, connector.DocumentWrite{PatientSinkID: pid, Document: document("1", "x")})
	assert.ErrorIs(t, err, connector.ErrInvalid, "no idempotency key")

	entries, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "nothing was written beside the sink's folder")
	assert.Equal(t, 0, sink.Count(docRef))
}

func TestSinkNeedsThePatientFirst(t *testing.T) {
	sink := openSink(t, t.TempDir())
	_, err := sink.PutDocument(t.Context(), connector.DocumentWrite{Key: key(docRef, "1"),
		PatientSinkID: "patient-" + strings.Repeat("0", 32), Document: document("1", "x")})
	assert.ErrorIs(t, err, connector.ErrNotFound)
	assert.Equal(t, int64(0), sink.Writes())
}
