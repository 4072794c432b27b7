package carepatron_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
)

// An upload whose file is opened rather than held streams it, opening it
// again for each attempt, and the platform gets every byte.
func TestUploadStreamsTheFile(t *testing.T) {
	ctx := context.Background()
	c, fake, _ := serve(t, carepatrontest.Config{Seed: 5, Faults: carepatrontest.Faults{ErrorRate: 0.3}})
	ct, err := c.CreateContact(ctx, "contact-1", carepatron.ContactInput{FirstName: "Synthetic", LastName: "Patient"})
	require.NoError(t, err)
	content := make([]byte, 3<<20+5)
	for i := range content {
		content[i] = byte(i / 1021)
	}
	sum := sha256.Sum256(content)
	var opened atomic.Int64
	for i, key := range []string{"upload-1", "upload-2", "upload-3"} {
		f := labResult("php/DocumentReference/streamed-" + key)
		f.Content, f.ContentType, f.Size, f.Sha256 = nil, "application/pdf", int64(len(content)), hex.EncodeToString(sum[:])
		f.Open = func() (io.ReadCloser, error) {
			opened.Add(1)
			return io.NopCloser(bytes.NewReader(content)), nil
		}
		doc, err := c.UploadDocument(ctx, ct.Id, key, f)
		require.NoError(t, err, "upload %d, opened %d times", i, opened.Load())
		assert.Equal(t, hex.EncodeToString(sum[:]), doc.Sha256)
		got, _, err := c.DownloadDocument(ctx, ct.Id, doc.Id)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(content, got), "upload %d arrived whole", i)
	}
	assert.Greater(t, opened.Load(), int64(3), "a failed attempt opens the file again")
	checkValid(t, fake)

	// A file shorter than its stated size is never sent as if whole.
	f := labResult("php/DocumentReference/short")
	f.Content, f.Size = nil, int64(len(content))
	f.Open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content[:10])), nil }
	_, err = c.UploadDocument(ctx, ct.Id, "short", f)
	assert.Error(t, err)
}
