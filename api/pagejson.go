package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// documentPage is ListDocuments' answer, encoded by hand from the
// practice's page: listing and searching a patient's documents is the
// API's busiest call, and encoding/json spent as much CPU on a page of 50
// as the store's query of it. It writes what encoding/json writes of
// DocumentPage as documentOut and countsOut fill it, without building it:
// TestDocumentPageJSON holds the two to the same bytes, and documentOut to
// setting every field of Document, so a field the spec adds fails the test
// until it is converted and encoded here too.
type documentPage struct {
	page practice.DocumentPage
	// base is the API's base path, which the documents' URLs begin with,
	// escaped as in a JSON string (server.jsonBase).
	base string
}

// jsonBase is base as it stands inside a JSON string.
func jsonBase(base string) string {
	q := appendString(nil, base)
	return string(q[1 : len(q)-1])
}

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
	c := p.page.Counts
	b = append(b, `{"counts":{"lab_result":`...)
	b = strconv.AppendInt(b, int64(c[connector.DocumentLabResult]), 10)
	b = append(b, `,"other":`...)
	b = strconv.AppendInt(b, int64(c[connector.DocumentOther]), 10)
	b = append(b, `,"physical_assessment":`...)
	b = strconv.AppendInt(b, int64(c[connector.DocumentPhysicalAssessment]), 10)
	b = append(b, `,"progress_note":`...)
	b = strconv.AppendInt(b, int64(c[connector.DocumentProgressNote]), 10)
	b = append(b, `},"items":[`...)
	for i := range p.page.Items {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = p.appendDocument(b, &p.page.Items[i]); err != nil {
			return nil, err
		}
	}
	b = append(b, ']')
	if p.page.Next != "" {
		b = appendString(append(b, `,"next_cursor":`...), p.page.Next)
	}
	return append(b, "}\n"...), nil
}

// appendDocument appends documentOut(d)'s JSON object, its fields in
// encoding/json's order (Document's) with its omissions.
func (p documentPage) appendDocument(b []byte, d *practice.Document) ([]byte, error) {
	b = append(b, '{')
	if d.Author != "" {
		b = appendString(append(b, `"author":`...), d.Author)
		b = append(b, ',')
	}
	b = appendString(append(b, `"content_hash":`...), d.ContentHash)
	b = appendString(append(b, `,"content_type":`...), d.ContentType)
	b = p.appendURL(append(b, `,"content_url":`...), d.ID, "/content")
	var err error
	if !d.Date.IsZero() {
		if b, err = appendTime(append(b, `,"date":`...), d.Date); err != nil {
			return nil, err
		}
	}
	b = strconv.AppendInt(append(b, `,"id":`...), d.ID, 10)
	b = strconv.AppendInt(append(b, `,"patient_id":`...), d.PatientID, 10)
	b = strconv.AppendInt(append(b, `,"size":`...), d.Size, 10)
	b = appendString(append(b, `,"source":`...), d.Source)
	b = appendString(append(b, `,"title":`...), d.Title)
	b = appendString(append(b, `,"type":`...), string(d.Type))
	if !d.UpdatedAt.IsZero() {
		if b, err = appendTime(append(b, `,"updated_at":`...), d.UpdatedAt); err != nil {
			return nil, err
		}
	}
	b = strconv.AppendBool(append(b, `,"uploaded":`...), d.Uploaded())
	if d.UploadedBy != 0 {
		b = strconv.AppendInt(append(b, `,"uploaded_by":`...), d.UploadedBy, 10)
	}
	b = p.appendURL(append(b, `,"url":`...), d.ID, "")
	if d.Version != "" {
		b = appendString(append(b, `,"version":`...), d.Version)
	}
	return append(b, '}'), nil
}

// appendURL appends, quoted, the URL of document id and its suffix, as
// s.url writes it.
func (p documentPage) appendURL(b []byte, id int64, suffix string) []byte {
	b = append(append(b, '"'), p.base...)
	b = strconv.AppendInt(append(b, "/documents/"...), id, 10)
	return append(append(b, suffix...), '"')
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

// jsonPlain marks the ASCII bytes appendString copies as they are. One
// lookup a byte replaces six comparisons, which were a third of a page's
// encoding.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		t[c] = !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return t
}()

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
			if jsonPlain[c] {
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
