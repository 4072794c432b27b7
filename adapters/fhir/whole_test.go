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

// A DocumentReference and its Binary can be updated between the fetch's
// read of the one and its request of the other: the bytes then match
// neither the hash read nor, once the resource is read again, a hash it
// still states. That is a change, not a corruption: the reading fails
// retryably, and the next fetch reads the new version. A mismatch whose
// resource cannot be read again is retried too; one whose resource still
// states the hash read fails permanently (TestAttachmentStreams).
func TestAttachmentChangedWhileRead(t *testing.T) {
	e := newExampleServer(t)
	version := func(v string, content []byte) string {
		sum := sha1.Sum(content)
		return `{"resourceType":"DocumentReference","id":"x","meta":{"versionId":"` + v + `"},"status":"current",
			"subject":{"reference":"Patient/p1"},
			"content":[{"attachment":{"contentType":"text/plain","url":"Binary/b1","hash":"` + base64.StdEncoding.EncodeToString(sum[:]) + `"}}]}`
	}
	first, amended := []byte("the first note"), []byte("the note, amended")
	ref := connector.Ref{Type: "DocumentReference", ID: "x"}
	src := exampleSource(t, e)
	read := func(d *connector.Document) error {
		r, err := d.Body.Open(t.Context())
		require.NoError(t, err)
		defer r.Close()
		_, err = io.Copy(io.Discard, r)
		return err
	}

	// Version 1 read, the Binary already at version 2's bytes, the
	// resource at version 2 by the time the reading ends.
	e.resource(version("1", first))
	e.binaries["b1"] = amended
	d, err := src.FetchDocument(t.Context(), ref)
	require.NoError(t, err)
	assert.Equal(t, "1", d.Version)
	e.resource(version("2", amended))
	err = read(d)
	require.ErrorIs(t, err, provider.ErrHashMismatch)
	assert.NotErrorIs(t, err, connector.ErrPermanent, "a change is retried")
	assert.Contains(t, err.Error(), "changed while its attachment was read")

	d, err = fetchWhole(t, src, ref)
	require.NoError(t, err)
	assert.Equal(t, "2", d.Version)
	assert.Equal(t, amended, d.Content)

	// The resource gone when the mismatch is found: not known to be a
	// corruption, so retried.
	e.binaries["b1"] = first
	d, err = src.FetchDocument(t.Context(), ref)
	require.NoError(t, err)
	e.mu.Lock()
	delete(e.resources, "DocumentReference/x")
	e.mu.Unlock()
	err = read(d)
	require.ErrorIs(t, err, provider.ErrHashMismatch)
	assert.NotErrorIs(t, err, connector.ErrPermanent, "a mismatch not told from a change is retried")
	assert.Contains(t, err.Error(), "could not be read again")
}
