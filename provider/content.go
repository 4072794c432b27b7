package provider

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
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
	var out *Content
	switch {
	case a.Data != "":
		data, err := decodeBase64(a.Data, c.cfg.MaxContentBytes)
		if err != nil {
			return nil, fmt.Errorf("attachment data: %w", err)
		}
		out = &Content{Data: data, ContentType: a.ContentType}
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
		resp, err := c.do(ctx, request{method: http.MethodGet, url: u, accept: accept, limit: c.cfg.MaxContentBytes*4/3 + 4096})
		if err != nil {
			return nil, fmt.Errorf("attachment: %w", err)
		}
		out, err = c.unwrapBinary(resp, a.ContentType)
		if err != nil {
			return nil, fmt.Errorf("attachment: %w", err)
		}
	default:
		return nil, ErrNoContent
	}
	if int64(len(out.Data)) > c.cfg.MaxContentBytes {
		return nil, fmt.Errorf("attachment: %w: %d bytes, limit %d", ErrTooLarge, len(out.Data), c.cfg.MaxContentBytes)
	}
	if err := c.checkHash(ctx, a.Hash, out.Data); err != nil {
		return nil, err
	}
	if out.ContentType == "" {
		out.ContentType = a.ContentType
	}
	return out, nil
}

// unwrapBinary returns the content of a Binary read: the body itself, or,
// when the server answered with the Binary resource in FHIR JSON, its
// decoded data.
func (c *Client) unwrapBinary(resp *response, want string) (*Content, error) {
	ct := resp.header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	wantMT, _, _ := mime.ParseMediaType(want)
	isFHIRJSON := mt == fhirJSON || (mt == "application/json" && wantMT != "application/json")
	if isFHIRJSON && wantMT != fhirJSON {
		if bin, err := DecodeAs[Binary](resp.body); err == nil {
			data, err := decodeBase64(bin.Data, c.cfg.MaxContentBytes)
			if err != nil {
				return nil, fmt.Errorf("binary data: %w", err)
			}
			return &Content{Data: data, ContentType: bin.ContentType}, nil
		} else if mt == fhirJSON {
			return nil, fmt.Errorf("binary: %w", err)
		}
	}
	if mt == "" {
		mt = want
	}
	return &Content{Data: resp.body, ContentType: mt}, nil
}

// checkHash compares data with a base64 SHA-1 attachment hash. A hash
// that is not a SHA-1 at all cannot be checked; it is logged and let
// through, as FHIR's leniency asks.
func (c *Client) checkHash(ctx context.Context, hash string, data []byte) error {
	if hash == "" {
		return nil
	}
	want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(hash))
	if err != nil || len(want) != sha1.Size {
		c.log.WarnContext(ctx, "attachment hash is not a base64 sha-1; not checked")
		return nil
	}
	got := sha1.Sum(data)
	if !bytes.Equal(got[:], want) {
		return fmt.Errorf("%w: sha-1 %s, attachment states %s", ErrHashMismatch,
			base64.StdEncoding.EncodeToString(got[:]), hash)
	}
	return nil
}

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
