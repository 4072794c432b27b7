package connector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// Body is content that is read rather than held. A Source returns one for
// content it streams (an attachment fetched from its URL); a store returns
// one for content it keeps in parts; a Sink reads either through
// Document.Open, as it reads content held in Document.Content.
//
// Content above Config.StreamAbove travels as a Body all the way: the
// engine spools what a Source streams to a temporary file while hashing it,
// the store keeps it in parts in the transaction that keeps the document,
// and a delivery reads it back from the store as it sends it. No step holds
// it whole.
type Body interface {
	// Open returns a reader of the whole content from its start; it may be
	// called again for another reading (a retried upload). A Source's
	// reader fails at the end, instead of returning io.EOF, when the
	// content is not what the Source stated (its size, its hash): the
	// engine then keeps nothing of it.
	//
	// The engine reads a Source's Body once, within the FetchDocument
	// call's timeout, before the call's context ends: a Body may read the
	// response FetchDocument opened. A Body that holds such a response
	// also implements io.Closer, and the engine closes it once it has
	// read it, or when it does not read it.
	Open(ctx context.Context) (io.ReadCloser, error)
}

// Open returns a reader of the document's content: its Body, or Content.
func (d *Document) Open(ctx context.Context) (io.ReadCloser, error) {
	if d.Body != nil {
		return d.Body.Open(ctx)
	}
	return io.NopCloser(bytes.NewReader(d.Content)), nil
}

// Streamed reports whether the content is a Body rather than held.
func (d *Document) Streamed() bool { return d.Body != nil }

// Bytes is a Body over content held in memory, for a Source or a test
// that has the bytes but streams them.
type Bytes []byte

// Open returns a reader of b.
func (b Bytes) Open(context.Context) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(b)), nil
}

// DefaultStreamAbove is the default of Config.StreamAbove.
const DefaultStreamAbove = 4 << 20

// spooled is content the engine spooled to a temporary file: a Body that
// reads the file, until Remove.
type spooled struct{ path string }

func (s spooled) Open(context.Context) (io.ReadCloser, error) { return os.Open(s.path) }

// Remove deletes the spool file.
func (s spooled) Remove() error { return os.Remove(s.path) }

// seal sets the document's Size and ContentHash from its content, and
// decides how the content travels on: content of at most StreamAbove bytes
// is held in Content; larger content is a Body. Content a Source streams
// is read once, hashed as it is read, and spooled to a temporary file
// (mode 0600) when it proves larger than StreamAbove; release removes the
// file. A read that fails, a Source's size or hash check among them,
// leaves nothing behind.
func (e *Engine) seal(ctx context.Context, d *Document) (release func(), err error) {
	release = func() {}
	limit := e.cfg.StreamAbove
	if d.Body == nil {
		e.sealHeld(d)
		return release, nil
	}
	if c, ok := d.Body.(io.Closer); ok {
		// A Body holding what it reads first (a response the fetch
		// opened) lets go of it once read, or if never read.
		defer c.Close()
	}
	r, err := d.Body.Open(ctx)
	if err != nil {
		return release, fmt.Errorf("open content: %w", err)
	}
	defer r.Close()
	h := sha256.New()
	head, err := io.ReadAll(io.LimitReader(io.TeeReader(r, h), limit+1))
	if err != nil {
		return release, fmt.Errorf("read content: %w", err)
	}
	if int64(len(head)) <= limit {
		// Small after all: held like content the Source returned.
		d.Body, d.Content = nil, head
		d.Seal()
		return release, nil
	}
	f, err := os.CreateTemp(e.cfg.SpoolDir, "hr-content-*")
	if err != nil {
		return release, fmt.Errorf("spool content: %w", err)
	}
	remove := func() {
		if err := os.Remove(f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			e.log.WarnContext(ctx, "removing a content spool file", "ref", d.Ref.String(), "err", err)
		}
	}
	n, err := f.Write(head)
	head = nil
	if err == nil {
		var rest int64
		rest, err = io.Copy(f, io.TeeReader(r, h))
		n += int(rest)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		remove()
		return func() {}, fmt.Errorf("spool content: %w", err)
	}
	d.Body, d.Content = spooled{f.Name()}, nil
	d.Size, d.ContentHash = int64(n), hex.EncodeToString(h.Sum(nil))
	return remove, nil
}

// sealHeld seals content held in Content. Above StreamAbove it becomes a
// Body of those bytes: held already, but kept and delivered in parts like
// any large content, so that no later step copies it whole.
func (e *Engine) sealHeld(d *Document) {
	d.Seal()
	if d.Body == nil && d.Size > e.cfg.StreamAbove {
		d.Body, d.Content = Bytes(d.Content), nil
	}
}

// heldBytes is what a document holds in memory: its content, unless it is a
// Body read from elsewhere, and its raw form.
func heldBytes(d *Document) int {
	n := len(d.Content) + len(d.Raw)
	if b, ok := d.Body.(Bytes); ok {
		n += len(b)
	}
	return n
}
