package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Content a document brings as a connector.Body (the engine's streamed
// content, above connector.Config.StreamAbove) is kept in parts of
// chunkSize bytes in content_chunks, written in the transaction that
// saves the document, so a crash leaves either all of them or none. The
// row's content column stays NULL. Both databases take the same SQL, and a
// chunk is an ordinary row of the document's transaction: no SQLite blob
// handle (which database/sql cannot reach, and which needs the size
// reserved before the first byte) and no PostgreSQL large object (whose
// lifetime is apart from the row's: an orphan stays until lo_unlink).
// Marking a document deleted drops its chunks.
//
// Reading gives a Body again: each chunk is read in a short read-only
// transaction of its own, so a delivery streams the content without
// holding a transaction, or the content, while it sends it.
const chunkSize = 1 << 20

// chunkedColumn reports, with documentColumns, whether a document's
// content is kept in chunks.
const chunkedColumn = `EXISTS (SELECT 1 FROM content_chunks c WHERE c.document_id = d.id)`

// saveContent makes content_chunks hold d's content when it is a Body,
// and nothing otherwise (content in the row, or a deleted document's).
// old is the content hash the document's chunks hold, "" if none. A Body
// whose bytes are not d.Size bytes hashing to d.ContentHash is refused, and
// the caller's transaction with it.
func (t *tx) saveContent(ctx context.Context, id int64, d *connector.Document, old string) error {
	if d.Body != nil && !d.Deleted && old != "" && old == d.ContentHash {
		return nil // the same content, kept already
	}
	if old != "" {
		if _, err := t.q.Exec(ctx, `DELETE FROM content_chunks WHERE document_id = $1`, id); err != nil {
			return fmt.Errorf("drop content of document %d: %w", id, err)
		}
	}
	if d.Body == nil || d.Deleted {
		return nil
	}
	r, err := d.Body.Open(ctx)
	if err != nil {
		return fmt.Errorf("content of document %s: %w", d.Ref, err)
	}
	defer r.Close()
	h := sha256.New()
	buf := make([]byte, chunkSize)
	var n int64
	for seq := 0; ; seq++ {
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			h.Write(buf[:k])
			n += int64(k)
			if _, err := t.q.Exec(ctx, `INSERT INTO content_chunks (document_id, seq, data) VALUES ($1, $2, $3)`,
				id, seq, buf[:k]); err != nil {
				return fmt.Errorf("keep content of document %s: %w", d.Ref, err)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read content of document %s: %w", d.Ref, err)
		}
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != d.Size || sum != d.ContentHash {
		return fmt.Errorf("%w: content of document %s is %d bytes with sha-256 %s, sealed as %d bytes with %s",
			connector.ErrInvalid, d.Ref, n, sum, d.Size, d.ContentHash)
	}
	return nil
}

// chunks is the Body of content kept in content_chunks, or of a kept
// version's in document_version_chunks.
type chunks struct {
	read func(ctx context.Context, fn func(Querier) error) error
	id   int64
	// version is the number of a kept version of the document; 0 for the
	// current one.
	version int
	hash    string
	size    int64
}

// Open returns a reader of the chunks, which fails if the document's
// content changes while it reads.
func (c chunks) Open(ctx context.Context) (io.ReadCloser, error) { return c.reader(ctx), nil }

func (c chunks) reader(ctx context.Context) *chunkReader {
	return &chunkReader{c: c, ctx: ctx, h: sha256.New()}
}

// chunkReader reads chunks one at a time; it implements io.Seeker too, for
// a download's ranges. Read from the start to the end, it checks the
// content's hash.
type chunkReader struct {
	c   chunks
	ctx context.Context
	pos int64
	// buf holds the chunk that holds the byte at pos, from its start.
	buf    []byte
	bufSeq int64
	// h hashes what was read in order from the start; nil after a seek.
	h hash.Hash
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.pos >= r.c.size {
		if r.h != nil {
			if sum := hex.EncodeToString(r.h.Sum(nil)); sum != r.c.hash {
				return 0, fmt.Errorf("content of document %d reads as sha-256 %s, kept as %s", r.c.id, sum, r.c.hash)
			}
			r.h = nil
		}
		return 0, io.EOF
	}
	seq := r.pos / chunkSize
	if r.buf == nil || r.bufSeq != seq {
		if err := r.load(seq); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf[r.pos-seq*chunkSize:])
	if n == 0 {
		return 0, fmt.Errorf("content of document %d ends at %d bytes, kept as %d", r.c.id, r.pos, r.c.size)
	}
	if r.h != nil {
		r.h.Write(p[:n])
	}
	r.pos += int64(n)
	return n, nil
}

// load reads chunk seq of the content the reader began with.
func (r *chunkReader) load(seq int64) error {
	err := r.c.read(r.ctx, func(q Querier) error {
		if r.c.version != 0 { // a kept version's parts never change
			return q.QueryRow(r.ctx, `SELECT c.data FROM document_version_chunks c
				WHERE c.document_id = $1 AND c.version_seq = $2 AND c.seq = $3`, r.c.id, r.c.version, seq).Scan(&r.buf)
		}
		return q.QueryRow(r.ctx, `SELECT c.data FROM content_chunks c JOIN healthcare_documents d ON d.id = c.document_id
			WHERE c.document_id = $1 AND c.seq = $2 AND d.content_hash = $3`, r.c.id, seq, r.c.hash).Scan(&r.buf)
	})
	if errors.Is(err, ErrNoRows) {
		return fmt.Errorf("content of document %d changed or was removed while read", r.c.id)
	}
	if err != nil {
		r.buf = nil
		return fmt.Errorf("content of document %d: %w", r.c.id, err)
	}
	r.bufSeq = seq
	return nil
}

func (r *chunkReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.c.size
	}
	if offset < 0 {
		return 0, fmt.Errorf("content of document %d: seek to %d", r.c.id, offset)
	}
	if offset != r.pos {
		r.h = nil // no longer read in order
	}
	r.pos = offset
	return offset, nil
}

func (r *chunkReader) Close() error { r.buf = nil; return nil }

// ContentParts returns how many parts the content of the document ref
// names is kept in: 0 when its content is held in its row, or it has
// none (a deleted document's parts are dropped).
func (s *Store[TTx]) ContentParts(ctx context.Context, ref connector.Ref) (int, error) {
	var n int
	err := s.inReadTx(ctx, func(t *tx) error {
		return t.q.QueryRow(ctx, `SELECT count(*) FROM content_chunks c JOIN healthcare_documents d ON d.id = c.document_id
			WHERE d.source_system = $1 AND d.source_type = $2 AND d.source_id = $3`, ref.System, ref.Type, ref.ID).Scan(&n)
	})
	return n, err
}
