package mockphp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// object is a FHIR resource (or a part of one) as decoded JSON. The server
// keeps resources as generic JSON rather than typed structs so that whatever
// a client writes (unknown elements, extensions) is stored and served back
// verbatim, as a real FHIR server does.
type object = map[string]any

// instantLayout is how the server writes FHIR instants: UTC, millisecond
// precision, always three fractional digits so values sort as strings.
const instantLayout = "2006-01-02T15:04:05.000Z07:00"

func formatInstant(t time.Time) string { return t.UTC().Format(instantLayout) }

// encodeResource renders r as compact JSON with resourceType, id and meta
// first and every other member in sorted order, so the same resource always
// encodes to the same bytes.
func encodeResource(r object) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	write := func(k string, v any) error {
		b, err := marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", k, err)
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		kb, _ := marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(b)
		return nil
	}
	lead := []string{"resourceType", "id", "meta"}
	for _, k := range lead {
		if v, ok := r[k]; ok {
			if err := write(k, v); err != nil {
				return nil, err
			}
		}
	}
	keys := make([]string, 0, len(r))
	for k := range r {
		if k != "resourceType" && k != "id" && k != "meta" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := write(k, r[k]); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping, so URLs keep their "&".
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodeResource parses a FHIR JSON resource, keeping numbers exact.
func decodeResource(b []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var r object
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode resource: %w", err)
	}
	if r == nil {
		return nil, fmt.Errorf("decode resource: not a json object")
	}
	return r, nil
}

// --- small builders used by the generator ---

func coding(system, code, display string) object {
	c := object{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	return c
}

func concept(text string, codings ...object) object {
	cc := object{}
	if len(codings) > 0 {
		cs := make([]any, len(codings))
		for i, c := range codings {
			cs[i] = c
		}
		cc["coding"] = cs
	}
	if text != "" {
		cc["text"] = text
	}
	return cc
}

func reference(ref, display string) object {
	r := object{"reference": ref}
	if display != "" {
		r["display"] = display
	}
	return r
}

func list(v ...any) []any { return v }

// --- readers used by the indexer ---

func str(o object, key string) string {
	s, _ := o[key].(string)
	return s
}

func obj(o object, key string) object {
	m, _ := o[key].(object)
	return m
}

func arr(o object, key string) []any {
	a, _ := o[key].([]any)
	return a
}

// refTarget reduces a reference ("Patient/1", an absolute URL, or one with
// _history) to "Type/id".
func refTarget(ref string) string {
	ref = strings.TrimSuffix(ref, "/")
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return ref
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

// codings returns the system|code tokens of a CodeableConcept.
func codings(cc object) []token {
	var out []token
	for _, c := range arr(cc, "coding") {
		if m, ok := c.(object); ok {
			out = append(out, token{system: str(m, "system"), value: str(m, "code")})
		}
	}
	return out
}
