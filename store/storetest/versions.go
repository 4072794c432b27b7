package storetest

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// testVersions keeps every version of a document the pull replaces, with
// its content (held in its row or in parts), and nothing for a re-sync
// of the same version.
func testVersions(t *testing.T, open Opener) {
	ctx := context.Background()
	h, _, _ := streamHarness(t, open)
	ps, ok := h.store.(interface {
		Read(ctx context.Context, fn func(practice.Tx) error) error
	})
	require.True(t, ok, "the store is a practice store")
	patients, err := h.src.Fill(1, 0)
	require.NoError(t, err)
	note, err := h.src.AddDocument(connector.Document{Patient: patients[0].Ref, Title: "Note", ContentType: "text/plain",
		Content: []byte("weight 82 kg\n")})
	require.NoError(t, err)
	scan, err := h.src.AddDocument(connector.Document{Patient: patients[0].Ref, Title: "Scan", ContentType: "application/pdf",
		Content: pattern(2<<20+5, 1)})
	require.NoError(t, err)
	h.enroll(t, patients)
	h.assertSynced(t)
	sync := func() {
		t.Helper()
		_, err := h.engine.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionManualSync, false)
		require.NoError(t, err)
		WaitIdle(t, h.store, 30*time.Second, h.synced)
		h.assertSynced(t)
	}
	localID := func(id string) int64 {
		var d connector.StoredDocument
		require.NoError(t, h.store.Update(ctx, func(tx connector.Tx) (err error) {
			d, err = tx.Document(ctx, h.src.DocumentRef(id))
			return err
		}))
		return d.ID
	}
	versions := func(id int64) []practice.DocumentVersion {
		t.Helper()
		var vs []practice.DocumentVersion
		require.NoError(t, ps.Read(ctx, func(tx practice.Tx) (err error) {
			vs, err = tx.DocumentVersions(ctx, id)
			return err
		}))
		return vs
	}
	content := func(id int64, n int) ([]byte, practice.DocumentVersion) {
		t.Helper()
		var (
			r io.ReadSeeker
			v practice.DocumentVersion
		)
		require.NoError(t, ps.Read(ctx, func(tx practice.Tx) (err error) {
			r, v, err = tx.DocumentVersionContent(ctx, id, n)
			return err
		}))
		b, err := io.ReadAll(r) // after the read, as a download reads
		require.NoError(t, err)
		return b, v
	}
	noteID, scanID := localID(note.Ref.ID), localID(scan.Ref.ID)

	vs := versions(noteID)
	require.Len(t, vs, 1, "a new document has one version, its current one")
	assert.True(t, vs[0].Current)
	assert.Equal(t, 1, vs[0].Number)

	_, err = h.src.UpdateDocument(note.Ref.ID, func(d *connector.Document) {
		d.Content, d.Title = []byte("weight 80 kg\n"), "Note (amended)"
	})
	require.NoError(t, err)
	sync()
	sync() // the same version again keeps nothing
	vs = versions(noteID)
	require.Len(t, vs, 2, "the amended note replaced one version")
	assert.Equal(t, []int{1, 2}, []int{vs[0].Number, vs[1].Number})
	assert.False(t, vs[0].Current)
	assert.True(t, vs[1].Current)
	assert.Equal(t, "Note", vs[0].Title)
	assert.Equal(t, "Note (amended)", vs[1].Title)
	assert.Equal(t, sha([]byte("weight 82 kg\n")), vs[0].ContentHash)
	assert.NotEqual(t, vs[0].Version, vs[1].Version, "each keeps the source's version")
	old, v := content(noteID, 1)
	assert.Equal(t, "weight 82 kg\n", string(old))
	assert.Equal(t, "Note", v.Title)
	cur, v := content(noteID, 2)
	assert.Equal(t, "weight 80 kg\n", string(cur))
	assert.True(t, v.Current)

	// Content kept in parts is kept in parts for the version it was, and
	// reads back whole, with ranges.
	_, err = h.src.UpdateDocument(scan.Ref.ID, func(d *connector.Document) { d.Content = pattern(3<<20, 2) })
	require.NoError(t, err)
	sync()
	require.Len(t, versions(scanID), 2)
	old, _ = content(scanID, 1)
	assert.True(t, bytes.Equal(pattern(2<<20+5, 1), old), "the replaced version's parts read back")
	cur, _ = content(scanID, 2)
	assert.True(t, bytes.Equal(pattern(3<<20, 2), cur), "the current version's parts read back")
	var rs io.ReadSeeker
	require.NoError(t, ps.Read(ctx, func(tx practice.Tx) (err error) {
		rs, _, err = tx.DocumentVersionContent(ctx, scanID, 1)
		return err
	}))
	_, err = rs.Seek(1<<20-2, io.SeekStart)
	require.NoError(t, err)
	part := make([]byte, 4)
	_, err = io.ReadFull(rs, part)
	require.NoError(t, err)
	assert.Equal(t, pattern(2<<20+5, 1)[1<<20-2:1<<20+2], part, "a range across two parts of a kept version")

	// A deletion is a version too: the last content stays readable.
	require.NoError(t, h.src.RemoveDocument(note.Ref.ID))
	sync()
	vs = versions(noteID)
	require.Len(t, vs, 3)
	assert.True(t, vs[2].Deleted && vs[2].Current)
	cur, _ = content(noteID, 2)
	assert.Equal(t, "weight 80 kg\n", string(cur), "the version before the deletion keeps its content")

	require.NoError(t, ps.Read(ctx, func(tx practice.Tx) error {
		for _, n := range []int{0, 4} {
			_, _, err := tx.DocumentVersionContent(ctx, noteID, n)
			assert.ErrorIs(t, err, practice.ErrNotFound, "version %d", n)
		}
		_, err := tx.DocumentVersions(ctx, scanID+noteID+100)
		assert.ErrorIs(t, err, practice.ErrNotFound, "no such document")
		return nil
	}))
}
