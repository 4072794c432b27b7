package mockphp

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const fhirJSON = "application/fhir+json; charset=utf-8"

// writeOutcome answers an error as an OperationOutcome with one issue.
// code is from the FHIR issue-type value set (not-found, invalid, conflict…).
func writeOutcome(w http.ResponseWriter, status int, code, diagnostics string) {
	severity := "error"
	if status < 400 {
		severity = "information"
	}
	body, _ := encodeResource(object{
		"resourceType": "OperationOutcome",
		"issue": list(object{
			"severity":    severity,
			"code":        code,
			"diagnostics": diagnostics,
		}),
	})
	w.Header().Set("Content-Type", fhirJSON)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeResource answers one stored version with its validators.
func writeResource(w http.ResponseWriter, status int, v version, body []byte) {
	h := w.Header()
	h.Set("Content-Type", fhirJSON)
	h.Set("ETag", etag(v.tag))
	h.Set("Last-Modified", v.lastUpdated.UTC().Format(http.TimeFormat))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func etag(tag string) string { return `W/"` + tag + `"` }

// parseETag reads W/"3", "3" or 3 (or a UUID in their place) and returns
// the versionId; it returns "" for an empty header.
func parseETag(h string) (string, error) {
	if h == "" {
		return "", nil
	}
	v := strings.TrimPrefix(strings.TrimSpace(h), "W/")
	v = strings.Trim(v, `"`)
	if v == "" || strings.ContainsAny(v, "\" ,") {
		return "", fmt.Errorf("bad entity tag %q", h)
	}
	return v, nil
}

// bundleWriter assembles a Bundle from already encoded resources, so a
// search answer costs one copy of each resource and no re-encoding.
type bundleWriter struct {
	buf     bytes.Buffer
	entries int
}

func newBundle(typ string, total int, withTotal bool, now time.Time, links ...[2]string) *bundleWriter {
	b := &bundleWriter{}
	b.buf.WriteString(`{"resourceType":"Bundle","id":"`)
	b.buf.WriteString(newUUID())
	b.buf.WriteString(`","meta":{"lastUpdated":"`)
	b.buf.WriteString(formatInstant(now))
	b.buf.WriteString(`"},"type":"`)
	b.buf.WriteString(typ)
	b.buf.WriteByte('"')
	if withTotal {
		b.buf.WriteString(`,"total":`)
		b.buf.WriteString(strconv.Itoa(total))
	}
	if len(links) > 0 {
		b.buf.WriteString(`,"link":[`)
		for i, l := range links {
			if i > 0 {
				b.buf.WriteByte(',')
			}
			rel, _ := marshal(l[0])
			u, _ := marshal(l[1])
			b.buf.WriteString(`{"relation":`)
			b.buf.Write(rel)
			b.buf.WriteString(`,"url":`)
			b.buf.Write(u)
			b.buf.WriteByte('}')
		}
		b.buf.WriteByte(']')
	}
	b.buf.WriteString(`,"entry":[`)
	return b
}

// add appends an entry; resource may be nil (a deleted version in a
// history), extra is the rest of the entry as JSON members without braces.
func (b *bundleWriter) add(fullURL string, resource []byte, extra string) {
	if b.entries > 0 {
		b.buf.WriteByte(',')
	}
	b.entries++
	u, _ := marshal(fullURL)
	b.buf.WriteString(`{"fullUrl":`)
	b.buf.Write(u)
	if resource != nil {
		b.buf.WriteString(`,"resource":`)
		b.buf.Write(resource)
	}
	if extra != "" {
		b.buf.WriteByte(',')
		b.buf.WriteString(extra)
	}
	b.buf.WriteByte('}')
}

func (b *bundleWriter) bytes() []byte {
	out := b.buf.Bytes()
	if b.entries == 0 {
		// drop the empty entry array: FHIR JSON has no empty arrays
		out = bytes.TrimSuffix(out, []byte(`,"entry":[`))
		return append(out, '}')
	}
	return append(out, ']', '}')
}

// newUUID returns a random version 4 UUID.
func newUUID() string { return uuidFrom(rand.Reader) }

func uuidFrom(r io.Reader) string {
	var b [16]byte
	_, _ = io.ReadFull(r, b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
