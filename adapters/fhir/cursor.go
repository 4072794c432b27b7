package fhir

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// cursor is the listing state the engine keeps for a patient. It is
// opaque to the engine: base64url JSON behind a version prefix.
//
// A listing pass searches DocumentReference (phase 0), then
// DiagnosticReport (phase 1), each page by page; when both are done the
// watermark moves to the largest meta.lastUpdated seen in the pass, never
// to the clock, so a resource stamped behind the server's clock or
// committed late is still found next time (the next pass starts Overlap
// before the watermark).
type cursor struct {
	// Since is the watermark the current pass searches from (RFC 3339);
	// empty means everything.
	Since string `json:"s,omitempty"`
	// Max is the largest lastUpdated seen so far in the current pass.
	Max string `json:"m,omitempty"`
	// Phase is 0 while listing DocumentReference, 1 DiagnosticReport.
	Phase int `json:"p,omitempty"`
	// Next is the next page's link within the phase.
	Next string `json:"n,omitempty"`
	// Visited are short hashes of the links followed in the phase, to stop
	// on a server whose next links loop.
	Visited []string `json:"v,omitempty"`
	// Seen maps "type/id/version" to lastUpdated for what was listed
	// within Overlap of the watermark: the overlap will list them again,
	// and they are not repeated.
	Seen map[string]string `json:"e,omitempty"`
}

const cursorPrefix = "fhir1."

// maxSeen bounds the dedupe set a cursor carries; past it the oldest are
// dropped (at worst an item is listed twice, which the kernel allows).
const maxSeen = 512

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	raw, ok := strings.CutPrefix(s, cursorPrefix)
	if !ok {
		return c, fmt.Errorf("%w: fhir cursor has an unknown format", connector.ErrInvalid)
	}
	data, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return c, fmt.Errorf("%w: fhir cursor: %w", connector.ErrInvalid, err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%w: fhir cursor: %w", connector.ErrInvalid, err)
	}
	if c.Phase < 0 || c.Phase > 1 {
		return c, fmt.Errorf("%w: fhir cursor phase %d", connector.ErrInvalid, c.Phase)
	}
	return c, nil
}

func (c cursor) encode() string {
	data, _ := json.Marshal(c)
	return cursorPrefix + base64.RawURLEncoding.EncodeToString(data)
}

func (c cursor) since() (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, c.Since)
	return t, err == nil
}

// observe records an item's lastUpdated into the pass's maximum and the
// dedupe set.
func (c *cursor) observe(key string, updated time.Time) {
	if updated.IsZero() {
		return
	}
	if m, err := time.Parse(time.RFC3339Nano, c.Max); err != nil || updated.After(m) {
		c.Max = updated.UTC().Format(time.RFC3339Nano)
	}
	if c.Seen == nil {
		c.Seen = map[string]string{}
	}
	c.Seen[key] = updated.UTC().Format(time.RFC3339Nano)
}

// prune drops dedupe entries older than horizon, and the oldest beyond
// maxSeen.
func (c *cursor) prune(horizon time.Time) {
	type kv struct {
		k string
		t time.Time
	}
	var keep []kv
	for k, v := range c.Seen {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil || t.Before(horizon) {
			continue
		}
		keep = append(keep, kv{k, t})
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].t.After(keep[j].t) })
	if len(keep) > maxSeen {
		keep = keep[:maxSeen]
	}
	c.Seen = nil
	for _, e := range keep {
		if c.Seen == nil {
			c.Seen = map[string]string{}
		}
		c.Seen[e.k] = e.t.Format(time.RFC3339Nano)
	}
}

// visit records a followed link and reports whether it was followed
// before in this phase.
func (c *cursor) visit(link string) (repeated bool) {
	sum := sha256.Sum256([]byte(link))
	h := hex.EncodeToString(sum[:8])
	for _, v := range c.Visited {
		if v == h {
			return true
		}
	}
	c.Visited = append(c.Visited, h)
	return false
}

func itemKey(typ, id, version string) string { return typ + "/" + id + "/" + version }
