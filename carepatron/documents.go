package carepatron

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// File is a document's file and what Carepatron shows of it.
type File struct {
	Metadata DocumentMetadata
	// Name is the file name shown; default "document".
	Name string
	// ContentType is the file's media type; default
	// "application/octet-stream".
	ContentType string
	// Content is the file's bytes, unless Open is set.
	Content []byte
	// Open, when set, reads the file instead of Content: the upload
	// streams it, and a retried attempt opens it again. Size is then its
	// length in bytes.
	Open func() (io.ReadCloser, error)
	Size int64
	// Sha256 is the hex SHA-256 of the file, when known; else it is
	// computed from Content.
	Sha256 string
}

// Hash returns the hex SHA-256 of the file.
func (f File) Hash() string {
	if f.Sha256 != "" || f.Open != nil {
		return f.Sha256
	}
	sum := sha256.Sum256(f.Content)
	return hex.EncodeToString(sum[:])
}

// DocumentQuery narrows Documents. Empty fields do not narrow.
type DocumentQuery struct {
	ExternalReference string
	// Cursor is the NextCursor of the previous page.
	Cursor string
	// Limit is the page size, 1 to 100; 0 takes the server's default.
	Limit int
}

// Documents returns one page of the contact's documents matching q.
// Modeled route: not yet published by Carepatron.
func (c *Client) Documents(ctx context.Context, contactID string, q DocumentQuery) (*DocumentPage, error) {
	resp, err := c.api.ListContactDocuments(ctx, contactID, &ListContactDocumentsParams{
		ExternalReference: opt(q.ExternalReference), Cursor: opt(q.Cursor), Limit: opt(q.Limit),
	})
	if err != nil {
		return nil, fmt.Errorf("carepatron listContactDocuments: %w", err)
	}
	return decode[DocumentPage]("listContactDocuments", resp, http.StatusOK)
}

// UploadDocument stores f on the contact's record. The idempotency key makes
// the call safe to repeat: the same key with the same file and metadata
// answers the document stored first. A document of the contact holding
// f.Metadata.ExternalReference already is an *Error with status 409 and
// code "duplicate_external_reference" naming it in Problem.ExistingId.
// Modeled route: not yet published by Carepatron.
func (c *Client) UploadDocument(ctx context.Context, contactID, idempotencyKey string, f File) (*Document, error) {
	if idempotencyKey == "" {
		return nil, fmt.Errorf("carepatron uploadContactDocument: no idempotency key")
	}
	form, err := multipartFile(idempotencyKey, f)
	if err != nil {
		return nil, fmt.Errorf("carepatron uploadContactDocument: %w", err)
	}
	resp, err := c.api.UploadContactDocumentWithBody(ctx, contactID,
		&UploadContactDocumentParams{IdempotencyKey: idempotencyKey}, form.contentType, nil, form.body)
	if err != nil {
		return nil, fmt.Errorf("carepatron uploadContactDocument: %w", err)
	}
	return decode[Document]("uploadContactDocument", resp, http.StatusCreated)
}

// Document returns the metadata of a document.
// Modeled route: not yet published by Carepatron.
func (c *Client) Document(ctx context.Context, contactID, documentID string) (*Document, error) {
	resp, err := c.api.GetContactDocument(ctx, contactID, documentID)
	if err != nil {
		return nil, fmt.Errorf("carepatron getContactDocument: %w", err)
	}
	return decode[Document]("getContactDocument", resp, http.StatusOK)
}

// UpdateDocument replaces a document's metadata and keeps its file. A
// non-empty idempotency key makes a repeat answer the first update without
// writing again. Modeled route: not yet published by Carepatron.
func (c *Client) UpdateDocument(ctx context.Context, contactID, documentID, idempotencyKey string, m DocumentMetadata) (*Document, error) {
	resp, err := c.api.UpdateContactDocument(ctx, contactID, documentID,
		&UpdateContactDocumentParams{IdempotencyKey: opt(idempotencyKey)}, m)
	if err != nil {
		return nil, fmt.Errorf("carepatron updateContactDocument: %w", err)
	}
	return decode[Document]("updateContactDocument", resp, http.StatusOK)
}

// ReplaceDocument replaces a document's metadata and file in one call. A
// non-empty idempotency key makes a repeat answer the first replacement
// without writing again. Modeled route: not yet published by Carepatron.
func (c *Client) ReplaceDocument(ctx context.Context, contactID, documentID, idempotencyKey string, f File) (*Document, error) {
	form, err := multipartFile(documentID+"\x00"+idempotencyKey, f)
	if err != nil {
		return nil, fmt.Errorf("carepatron updateContactDocument: %w", err)
	}
	resp, err := c.api.UpdateContactDocumentWithBody(ctx, contactID, documentID,
		&UpdateContactDocumentParams{IdempotencyKey: opt(idempotencyKey)}, form.contentType, nil, form.body)
	if err != nil {
		return nil, fmt.Errorf("carepatron updateContactDocument: %w", err)
	}
	return decode[Document]("updateContactDocument", resp, http.StatusOK)
}

// DownloadDocument returns a document's file and its media type.
// Modeled route: not yet published by Carepatron.
func (c *Client) DownloadDocument(ctx context.Context, contactID, documentID string) (content []byte, contentType string, err error) {
	resp, err := c.api.DownloadContactDocument(ctx, contactID, documentID)
	if err != nil {
		return nil, "", fmt.Errorf("carepatron downloadContactDocument: %w", err)
	}
	if err := check("downloadContactDocument", resp, http.StatusOK); err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	content, err = io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("carepatron downloadContactDocument: %w", err)
	}
	return content, resp.Header.Get("Content-Type"), nil
}

// DeleteDocument deletes a document. One already gone is an *Error with
// status 404 (IsNotFound).
// Modeled route: not yet published by Carepatron.
func (c *Client) DeleteDocument(ctx context.Context, contactID, documentID string) error {
	resp, err := c.api.DeleteContactDocument(ctx, contactID, documentID)
	if err != nil {
		return fmt.Errorf("carepatron deleteContactDocument: %w", err)
	}
	if err := check("deleteContactDocument", resp, http.StatusNoContent); err != nil {
		return err
	}
	return resp.Body.Close()
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")

// form is an upload form: the multipart framing around the file, which is
// read (or streamed) as the request is sent.
type form struct {
	contentType string
	// head is the metadata part and the file part's header; tail closes
	// the form.
	head, tail []byte
	f          File
}

// multipartFile encodes f as the upload form. The boundary derives from
// seed, so a request built again for a retry is the same bytes.
func multipartFile(seed string, f File) (*form, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	sum := sha256.Sum256([]byte(seed))
	if err := w.SetBoundary("cp-" + hex.EncodeToString(sum[:20])); err != nil {
		return nil, err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="metadata"`)
	h.Set("Content-Type", "application/json")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(part).Encode(f.Metadata); err != nil {
		return nil, err
	}
	name, ct := f.Name, f.ContentType
	if name == "" {
		name = "document"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(name)))
	h.Set("Content-Type", ct)
	if _, err = w.CreatePart(h); err != nil {
		return nil, err
	}
	head := bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := w.Close(); err != nil {
		return nil, err
	}
	if f.Open == nil {
		f.Size = int64(len(f.Content))
	}
	return &form{contentType: w.FormDataContentType(), head: head, tail: buf.Bytes(), f: f}, nil
}

// body makes the request send the form, the file read as it goes (see
// doer.Do): its length is known, and each attempt reads it again.
func (fm *form) body(_ context.Context, req *http.Request) error {
	req.ContentLength = int64(len(fm.head)) + fm.f.Size + int64(len(fm.tail))
	req.GetBody = func() (io.ReadCloser, error) { return fm.reader(), nil }
	req.Body = fm.reader()
	return nil
}

// reader reads the form once; it opens the file when it is first read,
// and closes it at its end.
func (fm *form) reader() io.ReadCloser {
	if fm.f.Open == nil {
		return io.NopCloser(io.MultiReader(bytes.NewReader(fm.head), bytes.NewReader(fm.f.Content), bytes.NewReader(fm.tail)))
	}
	return &fileReader{fm: fm}
}

// fileReader is a form whose file is opened on first read.
type fileReader struct {
	fm   *form
	file io.ReadCloser
	r    io.Reader
	err  error
}

func (r *fileReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.r == nil {
		f, err := r.fm.f.Open()
		if err != nil {
			r.err = fmt.Errorf("open the file to upload: %w", err)
			return 0, r.err
		}
		r.file = f
		r.r = io.MultiReader(bytes.NewReader(r.fm.head), &sized{r: f, left: r.fm.f.Size}, bytes.NewReader(r.fm.tail))
	}
	n, err := r.r.Read(p)
	if err != nil {
		r.err = err
		r.Close()
	}
	return n, err
}

// sized reads a file to its end, which must come after exactly left
// bytes: the request's length counts them.
type sized struct {
	r    io.Reader
	left int64
}

func (s *sized) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.left -= int64(n)
	switch {
	case s.left < 0:
		return n, errors.New("the file to upload is longer than its size")
	case errors.Is(err, io.EOF) && s.left > 0:
		return n, fmt.Errorf("the file to upload ends %d bytes short of its size", s.left)
	}
	return n, err
}

func (r *fileReader) Close() error {
	if r.file == nil {
		return nil
	}
	err := r.file.Close()
	r.file = nil
	return err
}
