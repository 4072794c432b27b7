package fhir_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// fetchWhole fetches a document as the engine does: a content that comes
// as a Body (an attachment's URL) is read to its end within the fetch's
// context and held, and the document sealed. A failure to read it is the
// fetch's.
func fetchWhole(t *testing.T, src connector.Source, ref connector.Ref) (*connector.Document, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	d, err := src.FetchDocument(ctx, ref)
	if err != nil || d.Body == nil {
		return d, err
	}
	r, err := d.Body.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	content, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if c, ok := d.Body.(io.Closer); ok {
		c.Close()
	}
	d.Content, d.Body = content, nil
	d.Seal()
	return d, nil
}

// An attachment a URL serves comes as a Body: the response the fetch
// opened is its first reading, and another reading requests it again.
// Its SHA-1 is checked as it is read, at the end.
func TestAttachmentStreams(t *testing.T) {
	e := newExampleServer(t)
	content := make([]byte, 5<<20+3)
	for i := range content {
		content[i] = byte(i / 977)
	}
	sum := sha1.Sum(content)
	e.binaries["b1"] = content
	e.resource(`{"resourceType":"DocumentReference","id":"x","status":"current","subject":{"reference":"Patient/p1"},
		"content":[{"attachment":{"contentType":"application/pdf","url":"Binary/b1","hash":"` + base64.StdEncoding.EncodeToString(sum[:]) + `"}}]}`)
	src := exampleSource(t, e)
	d, err := src.FetchDocument(t.Context(), connector.Ref{Type: "DocumentReference", ID: "x"})
	require.NoError(t, err)
	require.NotNil(t, d.Body, "a URL's content is streamed")
	assert.Empty(t, d.Content)
	for i := range 2 {
		r, err := d.Body.Open(t.Context())
		require.NoError(t, err)
		got, err := io.ReadAll(r)
		r.Close()
		require.NoError(t, err, "reading %d", i+1)
		assert.True(t, bytes.Equal(content, got), "reading %d", i+1)
	}

	// Bytes other than the hash states fail the reading at its end.
	e.binaries["b1"] = append(bytes.Clone(content[:len(content)-1]), 'x')
	d, err = src.FetchDocument(t.Context(), connector.Ref{Type: "DocumentReference", ID: "x"})
	require.NoError(t, err)
	r, err := d.Body.Open(t.Context())
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, r)
	r.Close()
	assert.ErrorIs(t, err, connector.ErrPermanent)
	assert.ErrorIs(t, err, provider.ErrHashMismatch)
}
