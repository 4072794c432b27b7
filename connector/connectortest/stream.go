package connectortest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing/iotest"
)

// stream is the Body of content the Source streams
// (SourceConfig.StreamAbove): a reader of the bytes fetched, which fails
// as a fault says.
type stream struct {
	content []byte
	fault   streamFault
}

// streamFault breaks a streamed content after some bytes.
type streamFault struct {
	after int64
	err   error
}

func (s *stream) Open(ctx context.Context) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := io.Reader(bytes.NewReader(s.content))
	if s.fault.err != nil {
		r = io.MultiReader(io.LimitReader(r, s.fault.after), iotest.ErrReader(s.fault.err))
	}
	return io.NopCloser(r), nil
}

// FailStream makes the streamed content of document id, as fetched from
// now on, fail with err after its first after bytes: a connection that
// drops mid-body (a transient err), or a body that proves other than the
// Source stated (a size or hash mismatch, connector.ErrPermanent). A nil
// err mends it. It applies to content the Source streams
// (SourceConfig.StreamAbove).
func (s *Source) FailStream(id string, after int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.streamFaults, id)
		return
	}
	s.streamFaults[id] = streamFault{after: after, err: fmt.Errorf("streamed content of %s: %w", id, err)}
}
