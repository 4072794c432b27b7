package api

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// documentPage is ListDocuments' answer, encoded by hand: listing and
// searching a patient's documents is the API's busiest call, and
// encoding/json spent as much CPU on a page of 50 as the store's query of
// it. TestDocumentPageJSON holds the bytes to encoding/json's, field by
// field, so a field the spec adds to Document fails the test until it is
// encoded here too.
type documentPage DocumentPage

func (p documentPage) VisitListDocumentsResponse(w http.ResponseWriter) error { return p.write(w) }

func (p documentPage) VisitSearchDocumentsResponse(w http.ResponseWriter) error { return p.write(w) }

func (p documentPage) write(w http.ResponseWriter) error {
	buf := pageBuffers.Get().(*[]byte)
	defer pageBuffers.Put(buf)
	b, err := p.appendJSON((*buf)[:0])
	if err != nil {
		return err
	}
	if cap(b) <= maxPooledPage {
		*buf = b
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

// pageBuffers keeps the buffers pages are encoded into, up to
// maxPooledPage each, so that a busy list does not make a page's worth of
// garbage a request.
var pageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

const maxPooledPage = 256 << 10

// appendJSON appends p as json.Encoder.Encode writes it, newline and all.
func (p documentPage) appendJSON(b []byte) ([]byte, error) {
	c := p.Counts
	b = append(b, `{"counts":{"lab_result":`...)
	b = strconv.AppendInt(b, int64(c.LabResult), 10)
	b = append(b, `,"other":`...)
	b = strconv.AppendInt(b, int64(c.Other), 10)
	b = append(b, `,"physical_assessment":`...)
	b = strconv.AppendInt(b, int64(c.PhysicalAssessment), 10)
	b = append(b, `,"progress_note":`...)
	b = strconv.AppendInt(b, int64(c.ProgressNote), 10)
	b = append(b, `},"items":`...)
	if p.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range p.Items {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendDocument(b, &p.Items[i]); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	if p.NextCursor != "" {
		b = appendString(append(b, `,"next_cursor":`...), p.NextCursor)
	}
	return append(b, "}\n"...), nil
}

// appendDocument appends d's JSON object, its fields in encoding/json's
// order (the struct's) with its omissions.
func appendDocument(b []byte, d *Document) ([]byte, error) {
	b = append(b, '{')
	if d.Author != "" {
		b = appendString(append(b, `"author":`...), d.Author)
		b = append(b, ',')
	}
	b = appendString(append(b, `"content_hash":`...), d.ContentHash)
	b = appendString(append(b, `,"content_type":`...), d.ContentType)
	b = appendString(append(b, `,"content_url":`...), d.ContentUrl)
	var err error
	if !d.Date.IsZero() {
		if b, err = appendTime(append(b, `,"date":`...), d.Date); err != nil {
			return nil, err
		}
	}
	b = strconv.AppendInt(append(b, `,"id":`...), d.Id, 10)
	b = strconv.AppendInt(append(b, `,"patient_id":`...), d.PatientId, 10)
	b = strconv.AppendInt(append(b, `,"size":`...), d.Size, 10)
	b = appendString(append(b, `,"source":`...), d.Source)
	b = appendString(append(b, `,"title":`...), d.Title)
	b = appendString(append(b, `,"type":`...), string(d.Type))
	if !d.UpdatedAt.IsZero() {
		if b, err = appendTime(append(b, `,"updated_at":`...), d.UpdatedAt); err != nil {
			return nil, err
		}
	}
	b = strconv.AppendBool(append(b, `,"uploaded":`...), d.Uploaded)
	if d.UploadedBy != 0 {
		b = strconv.AppendInt(append(b, `,"uploaded_by":`...), d.UploadedBy, 10)
	}
	b = appendString(append(b, `,"url":`...), d.Url)
	if d.Version != "" {
		b = appendString(append(b, `,"version":`...), d.Version)
	}
	return append(b, '}'), nil
}

// appendTime appends t as time.Time's MarshalJSON does, refusing the
// years it refuses.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("encode document page: year %d outside of [0,9999]", y)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendString appends s as a JSON string as encoding/json does: HTML's
// <, > and & escaped, U+2028 and U+2029 escaped, invalid UTF-8 replaced
// by U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), "\ufffd"...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
