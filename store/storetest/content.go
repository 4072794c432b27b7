package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/practice"
)

// Content above the engine's StreamAbove is streamed: spooled from the
// Source, kept by the store in parts, read back as a stream by deliveries.

// partCounter is a store that tells how many parts a document's content
// is kept in; both of this module's stores are.
type partCounter interface {
	ContentParts(ctx context.Context, ref connector.Ref) (int, error)
}

// streamAbove is the engine's threshold in these tests; the store keeps
// streamed content in parts of 1 MiB.
const streamAbove = 1 << 20

// pattern returns n bytes that differ with seed, and from one MiB to the
// next, so that parts kept out of order or twice do not read the same.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i/4093) ^ byte(i) ^ seed
	}
	return b
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// streamHarness starts a harness whose Source streams content above 64
// KiB and whose engine streams above streamAbove, spooling into a
// directory of the test's.
func streamHarness(t *testing.T, open Opener) (*harness, partCounter, string) {
	t.Helper()
	spool := t.TempDir()
	h := startWith(t, open, connectortest.SourceConfig{StreamAbove: 64 << 10}, func(cfg *connector.Config) {
		cfg.StreamAbove, cfg.SpoolDir = streamAbove, spool
	})
	pc, ok := h.store.(partCounter)
	require.True(t, ok, "the store does not count content parts")
	return h, pc, spool
}

func (h *harness) parts(t *testing.T, pc partCounter, id string) int {
	t.Helper()
	n, err := pc.ContentParts(context.Background(), h.src.DocumentRef(id))
	require.NoError(t, err)
	return n
}

// assertSpoolEmpty checks that no spool file outlived its batch.
func assertSpoolEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "spool files left behind")
}

func testStreamed(t *testing.T, open Opener) {
	ctx := context.Background()
	h, pc, spool := streamHarness(t, open)
	patients, err := h.src.Fill(1, 0)
	require.NoError(t, err)
	sizes := map[string]int{"small": 100, "held": 200 << 10, "large": 3<<20 + 13, "exact": 2 << 20}
	ids := map[string]string{}
	for name, n := range sizes {
		d, err := h.src.AddDocument(connector.Document{Patient: patients[0].Ref, Title: name, ContentType: "application/pdf",
			Content: pattern(n, byte(len(name)))})
		require.NoError(t, err)
		ids[name] = d.Ref.ID
	}
	h.enroll(t, patients)
	h.assertSynced(t)
	for name, n := range sizes {
		got, ok := h.sink.Document(h.src.DocumentRef(ids[name]))
		require.True(t, ok, name)
		assert.Equal(t, sha(pattern(n, byte(len(name)))), got.Document.ContentHash, "%s: the hash is the SHA-256 of the whole content", name)
		assert.Equal(t, int64(n), got.Document.Size, name)
		want := 0
		if n > streamAbove {
			want = (n + streamAbove - 1) / streamAbove
		}
		assert.Equal(t, want, h.parts(t, pc, ids[name]), "%s: parts of %d bytes", name, n)
	}
	var local connector.StoredDocument
	require.NoError(t, h.store.Update(ctx, func(tx connector.Tx) (err error) {
		local, err = tx.Document(ctx, h.src.DocumentRef(ids["large"]))
		return err
	}))
	assert.Empty(t, local.Content, "streamed content is not held in the row")
	require.NotNil(t, local.Body, "the store reads streamed content back as a Body")
	r, err := local.Open(ctx)
	require.NoError(t, err)
	back, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(pattern(sizes["large"], 5), back), "the store reads back what it kept")

	// A download reads it after its transaction, and seeks (a range).
	ps, ok := h.store.(interface {
		Read(ctx context.Context, fn func(practice.Tx) error) error
	})
	require.True(t, ok, "the store is a practice store")
	var rs io.ReadSeeker
	require.NoError(t, ps.Read(ctx, func(tx practice.Tx) (err error) {
		rs, err = tx.DocumentContent(ctx, local.ID)
		return err
	}))
	_, err = rs.Seek(2<<20-3, io.SeekStart)
	require.NoError(t, err)
	part := make([]byte, 10)
	_, err = io.ReadFull(rs, part)
	require.NoError(t, err)
	assert.Equal(t, pattern(sizes["large"], 5)[2<<20-3:2<<20+7], part, "a range across two parts")
	_, err = rs.Seek(0, io.SeekStart)
	require.NoError(t, err)
	back, err = io.ReadAll(rs)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(pattern(sizes["large"], 5), back), "a download reads it whole")

	// An update replaces the parts: fewer of them, other bytes.
	large := ids["large"]
	_, err = h.src.UpdateDocument(large, func(d *connector.Document) { d.Content = pattern(1<<20+1, 99) })
	require.NoError(t, err)
	_, err = h.engine.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionManualSync, false)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	assert.Equal(t, 2, h.parts(t, pc, large), "the update's 1 MiB + 1 byte in two parts, the old ones gone")

	// A document that grows past the threshold is kept in parts; one
	// that shrinks below it in its row.
	_, err = h.src.UpdateDocument(ids["held"], func(d *connector.Document) { d.Content = pattern(streamAbove+1, 7) })
	require.NoError(t, err)
	_, err = h.src.UpdateDocument(ids["exact"], func(d *connector.Document) { d.Content = []byte("short now") })
	require.NoError(t, err)
	_, err = h.engine.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionManualSync, false)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	assert.Equal(t, 2, h.parts(t, pc, ids["held"]))
	assert.Zero(t, h.parts(t, pc, ids["exact"]))

	// Deleting drops the parts.
	require.NoError(t, h.src.RemoveDocument(large))
	_, err = h.engine.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionManualSync, false)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	assert.Zero(t, h.parts(t, pc, large), "a deleted document keeps no parts")
	assertSpoolEmpty(t, spool)
}

func testStreamRefused(t *testing.T, open Opener) {
	ctx := context.Background()
	h, pc, spool := streamHarness(t, open)
	patients, err := h.src.Fill(1, 0)
	require.NoError(t, err)
	d, err := h.src.AddDocument(connector.Document{Patient: patients[0].Ref, Title: "scan", Content: pattern(3<<20, 1)})
	require.NoError(t, err)
	h.enroll(t, patients)
	kept := sha(pattern(3<<20, 1))

	// The next version's body proves other than the Source states (as a
	// FHIR attachment's size or hash check fails): refused for good, and
	// nothing of it kept; the version before stays, whole.
	_, err = h.src.UpdateDocument(d.Ref.ID, func(d *connector.Document) { d.Content = pattern(5<<20, 2) })
	require.NoError(t, err)
	h.src.FailStream(d.Ref.ID, 2<<20, fmt.Errorf("%w: attachment size mismatch", connector.ErrPermanent))
	_, err = h.engine.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionManualSync, false)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, nil)
	dead, err := h.store.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Len(t, dead, 1, "the refused pull is a dead letter")
	got, ok := h.sink.Document(h.src.DocumentRef(d.Ref.ID))
	require.True(t, ok)
	assert.Equal(t, kept, got.Document.ContentHash, "the sink keeps the version before")
	assert.Equal(t, 3, h.parts(t, pc, d.Ref.ID), "the version before stays in its three parts")
	var local connector.StoredDocument
	require.NoError(t, h.store.Update(ctx, func(tx connector.Tx) (err error) {
		local, err = tx.Document(ctx, h.src.DocumentRef(d.Ref.ID))
		return err
	}))
	assert.Equal(t, kept, local.ContentHash)
	assertSpoolEmpty(t, spool)

	// A body that breaks off mid-way (a dropped connection) is retried
	// and, once whole, kept.
	h.src.FailStream(d.Ref.ID, 1<<20, errors.New("connection reset by peer"))
	before := h.src.Calls().Fetch
	// In full: the listing's cursor went past the refused version.
	_, err = h.engine.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionManualSync, true)
	require.NoError(t, err)
	for deadline := time.Now().Add(30 * time.Second); h.src.Calls().Fetch < before+2; time.Sleep(10 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the broken body was not fetched again")
	}
	assert.Equal(t, kept, localHash(t, h, d.Ref.ID), "a body that broke off keeps nothing")
	h.src.FailStream(d.Ref.ID, 0, nil)
	WaitIdle(t, h.store, 30*time.Second, h.synced)
	h.assertSynced(t)
	assert.Equal(t, 5, h.parts(t, pc, d.Ref.ID))
	assertSpoolEmpty(t, spool)
}

func localHash(t *testing.T, h *harness, id string) string {
	t.Helper()
	ctx := context.Background()
	var local connector.StoredDocument
	require.NoError(t, h.store.Update(ctx, func(tx connector.Tx) (err error) {
		local, err = tx.Document(ctx, h.src.DocumentRef(id))
		return err
	}))
	return local.ContentHash
}

// testStreamAborted breaks the store's own write of streamed content
// mid-way, as a crash does: the transaction keeps nothing of it, neither a
// new document nor a part of another version's content.
func testStreamAborted(t *testing.T, open Opener) {
	ctx := context.Background()
	h, pc, _ := streamHarness(t, open)
	patients, err := h.src.Fill(1, 1)
	require.NoError(t, err)
	h.enroll(t, patients)
	var patientID int64
	require.NoError(t, h.store.Update(ctx, func(tx connector.Tx) error {
		p, err := tx.Patient(ctx, patients[0].Ref)
		patientID = p.ID
		return err
	}))
	ref := connector.Ref{System: "php", Type: "DocumentReference", ID: "aborted"}
	doc := func(content []byte, breakAfter int64) connector.StoredDocument {
		d := connector.StoredDocument{PatientID: patientID, Document: connector.Document{Ref: ref, Patient: patients[0].Ref,
			Type: connector.DocumentOther, Title: "aborted", Version: "1", Body: connector.Bytes(content)}}
		d.Seal()
		if breakAfter > 0 {
			d.Body = brokenBody{content: content, after: breakAfter}
		}
		d.Fingerprint = d.Document.Fingerprint()
		return d
	}
	save := func(d connector.StoredDocument) error {
		return h.store.Update(ctx, func(tx connector.Tx) error {
			_, err := tx.SaveDocument(ctx, d)
			return err
		})
	}
	notFound := func() {
		t.Helper()
		err := h.store.Update(ctx, func(tx connector.Tx) error {
			_, err := tx.Document(ctx, ref)
			return err
		})
		assert.ErrorIs(t, err, connector.ErrNotFound, "a document whose content broke off is not kept")
		n, err := pc.ContentParts(ctx, ref)
		require.NoError(t, err)
		assert.Zero(t, n)
	}

	assert.Error(t, save(doc(pattern(3<<20, 3), 2<<20+5)), "a body that breaks off fails the save")
	notFound()
	// Content that reads other than its seal says is refused too.
	bad := doc(pattern(2<<20, 4), 0)
	bad.Size++
	assert.ErrorIs(t, save(bad), connector.ErrInvalid)
	notFound()

	require.NoError(t, save(doc(pattern(2<<20+1, 5), 0)))
	require.Error(t, save(doc(pattern(4<<20, 6), 3<<20)), "an update whose body breaks off")
	var local connector.StoredDocument
	require.NoError(t, h.store.Update(ctx, func(tx connector.Tx) (err error) {
		local, err = tx.Document(ctx, ref)
		return err
	}))
	assert.Equal(t, sha(pattern(2<<20+1, 5)), local.ContentHash, "the version before stays")
	r, err := local.Open(ctx)
	require.NoError(t, err)
	back, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(pattern(2<<20+1, 5), back), "the version before reads whole")
	n, err := pc.ContentParts(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the version before in its three parts, none of the broken one")
}

// brokenBody reads its content up to after bytes, then fails.
type brokenBody struct {
	content []byte
	after   int64
}

func (b brokenBody) Open(context.Context) (io.ReadCloser, error) {
	return io.NopCloser(io.MultiReader(io.LimitReader(bytes.NewReader(b.content), b.after),
		iotest.ErrReader(errors.New("the process died mid-stream")))), nil
}
