package connector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// breaking is a Body that reads content, then fails with err (if set).
type breaking struct {
	content []byte
	err     error
	closed  bool
}

func (b *breaking) Open(context.Context) (io.ReadCloser, error) {
	r := io.Reader(bytes.NewReader(b.content))
	if b.err != nil {
		r = io.MultiReader(r, iotest.ErrReader(b.err))
	}
	return io.NopCloser(r), nil
}

func (b *breaking) Close() error { b.closed = true; return nil }

func TestSeal(t *testing.T) {
	spool := t.TempDir()
	e := &Engine{cfg: Config{StreamAbove: 1 << 10, SpoolDir: spool}, log: discard()}
	ctx := context.Background()
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	spoolFiles := func() []os.DirEntry {
		entries, err := os.ReadDir(spool)
		require.NoError(t, err)
		return entries
	}

	large := bytes.Repeat([]byte("0123456789"), 300)
	cases := []struct {
		name     string
		doc      Document
		streamed bool
	}{
		{"held, small", Document{Content: []byte("short")}, false},
		{"held, large", Document{Content: large}, true},
		{"streamed, small after all", Document{Body: &breaking{content: []byte("short")}}, false},
		{"streamed, large", Document{Body: &breaking{content: large}}, true},
		{"streamed, the threshold exactly", Document{Body: &breaking{content: large[:1<<10]}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.doc
			want := d.Content
			if b, ok := d.Body.(*breaking); ok {
				want = b.content
			}
			release, err := e.seal(ctx, &d)
			require.NoError(t, err)
			assert.Equal(t, int64(len(want)), d.Size)
			assert.Equal(t, sum(want), d.ContentHash, "the hash of the whole content")
			assert.Equal(t, tc.streamed, d.Streamed())
			if b, ok := tc.doc.Body.(*breaking); ok {
				assert.True(t, b.closed, "the Source's Body is closed once read")
			}
			r, err := d.Open(ctx)
			require.NoError(t, err)
			got, err := io.ReadAll(r)
			r.Close()
			require.NoError(t, err)
			assert.Equal(t, want, got)
			if _, ok := d.Body.(spooled); ok {
				entries := spoolFiles()
				require.Len(t, entries, 1)
				info, err := entries[0].Info()
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "a spool file is the process's alone")
			}
			release()
			assert.Empty(t, spoolFiles(), "released, the spool is gone")
		})
	}

	// A body that fails (a size or hash check of the Source) leaves
	// nothing behind, past the threshold or before it.
	for _, n := range []int{10, len(large)} {
		d := Document{Body: &breaking{content: large[:n], err: errors.New("hash mismatch")}}
		_, err := e.seal(ctx, &d)
		assert.ErrorContains(t, err, "hash mismatch")
		assert.Empty(t, spoolFiles())
	}
}
