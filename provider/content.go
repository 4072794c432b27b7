package provider

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Content is an attachment's bytes and media type.
type Content struct {
	Data        []byte
	ContentType string
}

// Content returns an attachment's content: its inline data, or what its
// URL serves. The URL may be relative to the base URL or absolute under
// it, or on a configured ContentOrigins entry (fetched without the
// token); any other URL, and a redirect to one, fails with ErrOrigin and
// is never requested, so a document cannot make the client reach into
// another network or another service of the EHR's host. A Binary read answered in its
// JSON form is unwrapped. Content larger than MaxContentBytes fails with
// ErrTooLarge, and a content whose SHA-1 differs from the attachment's
// hash fails with ErrHashMismatch.
func (c *Client) Content(ctx context.Context, a Attachment) (*Content, error) {
	cs, err := c.OpenContent(ctx, a)
	if err != nil {
		return nil, err
	}
	defer cs.Close()
	data, err := io.ReadAll(cs)
	if err != nil {
		return nil, err
	}
	return &Content{Data: data, ContentType: cs.ContentType}, nil
}

// ContentStream is an attachment's content as it is read.
type ContentStream struct {
	// ReadCloser reads the content. It checks what Content checks as it
	// reads: a read past MaxContentBytes fails with ErrTooLarge, and the
	// read that reaches the end of content whose SHA-1 differs from the
	// attachment's hash fails with ErrHashMismatch instead of io.EOF.
	io.ReadCloser
	ContentType string
}

// OpenContent is Content read as a stream: it sends the request and
// returns once the server answers, with the body unread. A URL's content
// is read from the response as the caller reads it; inline data and a
// Binary answered in its JSON form are decoded first. The caller closes it.
func (c *Client) OpenContent(ctx context.Context, a Attachment) (*ContentStream, error) {
	want := c.attachmentHash(ctx, a.Hash)
	var (
		body io.ReadCloser
		ct   string
	)
	switch {
	case a.Data != "":
		data, err := decodeBase64(a.Data, c.cfg.MaxContentBytes)
		if err != nil {
			return nil, fmt.Errorf("attachment data: %w", err)
		}
		body, ct = io.NopCloser(bytes.NewReader(data)), a.ContentType
	case a.URL != "":
		if a.Size > c.cfg.MaxContentBytes {
			return nil, fmt.Errorf("attachment: %w: states %d bytes, limit %d", ErrTooLarge, a.Size, c.cfg.MaxContentBytes)
		}
		u, err := c.resolve(a.URL)
		if err != nil {
			return nil, fmt.Errorf("attachment url: %w", err)
		}
		accept := a.ContentType
		if accept == "" {
			accept = "*/*"
		}
		// A Binary endpoint answers its raw content for the attachment's
		// own type, and its JSON form for FHIR JSON: accept both.
		accept += ", " + fhirJSON + ";q=0.5"
		hr, err := c.open(ctx, request{method: http.MethodGet, url: u, accept: accept})
		if err != nil {
			return nil, fmt.Errorf("attachment: %w", err)
		}
		if body, ct, err = c.unwrapBinary(hr, a.ContentType); err != nil {
			hr.Body.Close()
			return nil, fmt.Errorf("attachment: %w", err)
		}
	default:
		return nil, ErrNoContent
	}
	if ct == "" {
		ct = a.ContentType
	}
	return &ContentStream{ReadCloser: &checked{r: body, limit: c.cfg.MaxContentBytes, want: want, stated: a.Hash, h: sha1.New()},
		ContentType: ct}, nil
}

// unwrapBinary returns the content of a Binary read and its media type:
// the body itself, read as it comes, or, when the server answered with the
// Binary resource in FHIR JSON, its decoded data.
func (c *Client) unwrapBinary(hr *http.Response, want string) (io.ReadCloser, string, error) {
	mt, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	wantMT, _, _ := mime.ParseMediaType(want)
	isFHIRJSON := mt == fhirJSON || (mt == "application/json" && wantMT != "application/json")
	if isFHIRJSON && wantMT != fhirJSON {
		defer hr.Body.Close()
		data, err := readLimited(hr.Body, c.cfg.MaxContentBytes*4/3+4096)
		if err != nil {
			return nil, "", err
		}
		if bin, err := DecodeAs[Binary](data); err == nil {
			data, err := decodeBase64(bin.Data, c.cfg.MaxContentBytes)
			if err != nil {
				return nil, "", fmt.Errorf("binary data: %w", err)
			}
			return io.NopCloser(bytes.NewReader(data)), bin.ContentType, nil
		} else if mt == fhirJSON {
			return nil, "", fmt.Errorf("binary: %w", err)
		}
		return io.NopCloser(bytes.NewReader(data)), mt, nil
	}
	if mt == "" {
		mt = want
	}
	return hr.Body, mt, nil
}

// attachmentHash decodes a base64 SHA-1 attachment hash; nil when there
// is none. A hash that is not a SHA-1 at all cannot be checked; it is
// logged and let through, as FHIR's leniency asks.
func (c *Client) attachmentHash(ctx context.Context, hash string) []byte {
	if hash == "" {
		return nil
	}
	want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(hash))
	if err != nil || len(want) != sha1.Size {
		c.log.WarnContext(ctx, "attachment hash is not a base64 sha-1; not checked")
		return nil
	}
	return want
}

// checked reads content within limit bytes, hashing it to compare with
// want at its end.
type checked struct {
	r      io.ReadCloser
	limit  int64
	n      int64
	want   []byte
	stated string // the hash as the attachment states it
	h      hash.Hash
}

func (c *checked) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	if c.n > c.limit {
		return n, fmt.Errorf("attachment: %w: more than %d bytes", ErrTooLarge, c.limit)
	}
	if errors.Is(err, io.EOF) && c.want != nil {
		if got := c.h.Sum(nil); !bytes.Equal(got, c.want) {
			return n, fmt.Errorf("%w: sha-1 %s, attachment states %s", ErrHashMismatch,
				base64.StdEncoding.EncodeToString(got), c.stated)
		}
	}
	return n, err
}

func (c *checked) Close() error { return c.r.Close() }

// decodeBase64 decodes standard base64, tolerating line breaks, spaces
// and missing padding, within limit decoded bytes.
func decodeBase64(s string, limit int64) ([]byte, error) {
	if int64(base64.StdEncoding.DecodedLen(len(s))) > limit+3 {
		// Whitespace makes this an over-estimate; check it precisely.
		s = stripSpace(s)
		if int64(base64.StdEncoding.DecodedLen(len(s))) > limit+3 {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
		}
	}
	s = strings.TrimRight(stripSpace(s), "=")
	data, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		// Some servers send base64url.
		if d2, err2 := base64.RawURLEncoding.DecodeString(s); err2 == nil {
			return d2, nil
		}
		return nil, fmt.Errorf("base64: %w", err)
	}
	return data, nil
}

func stripSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}
