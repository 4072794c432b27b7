package fhir

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	// Offset, without Next, is the _offset of the phase's next page, for
	// a server that pages without next links (provider.Paging).
	Offset int `json:"o,omitempty"`
	// Received and Sig are the phase's provider.Paging.
	Received int    `json:"r,omitempty"`
	Sig      string `json:"q,omitempty"`
	// Pages counts the pages the phase followed, bounded by
	// Config.MaxPages.
	Pages int `json:"g,omitempty"`
	// Visited are short hashes of the last links followed in the phase, to
	// stop on a server whose next links loop; a longer loop ends at the
	// page bound.
	Visited []string `json:"v,omitempty"`
	// Seen maps a short hash of "type/id/version" to lastUpdated (Unix
	// seconds) for what was listed within Overlap of the watermark: the
	// overlap will list them again, and they are not repeated.
	Seen map[string]int64 `json:"h,omitempty"`
}

const cursorPrefix = "fhir1."

// maxSeen bounds the dedupe set a cursor carries; past it the oldest are
// dropped (at worst an item is listed twice, which the kernel allows).
const maxSeen = 128

// maxVisited is how many followed links a cursor remembers.
const maxVisited = 16

// maxCursorBytes bounds an encoded cursor. With the bounds above a cursor
// stays well under it unless a server's next link is kilobytes long.
const maxCursorBytes = 8 << 10

// errCursorTooLarge: the cursor would exceed maxCursorBytes.
var errCursorTooLarge = errors.New("fhir cursor too large")

// decodeCursor decodes a cursor. One over maxCursorBytes (written by an
// earlier version, whose cursors grew with every page) fails with
// errCursorTooLarge; the caller restarts the listing.
func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	if len(s) > maxCursorBytes {
		return c, fmt.Errorf("%w: %d bytes, limit %d", errCursorTooLarge, len(s), maxCursorBytes)
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

// encode encodes the cursor; one over maxCursorBytes fails with
// errCursorTooLarge.
func (c cursor) encode() (string, error) {
	data, _ := json.Marshal(c)
	s := cursorPrefix + base64.RawURLEncoding.EncodeToString(data)
	if len(s) > maxCursorBytes {
		return "", fmt.Errorf("%w: %d bytes, limit %d", errCursorTooLarge, len(s), maxCursorBytes)
	}
	return s, nil
}

// endPhase clears the paging state of a finished phase.
func (c *cursor) endPhase() {
	c.Next, c.Offset, c.Received, c.Sig, c.Pages, c.Visited = "", 0, 0, "", 0, nil
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
		c.Seen = map[string]int64{}
	}
	c.Seen[seenKey(key)] = updated.Unix()
}

// prune drops dedupe entries older than horizon, and the oldest beyond
// maxSeen.
func (c *cursor) prune(horizon time.Time) {
	type kv struct {
		k string
		t int64
	}
	var keep []kv
	for k, t := range c.Seen {
		if t < horizon.Unix() {
			continue
		}
		keep = append(keep, kv{k, t})
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].t > keep[j].t || (keep[i].t == keep[j].t && keep[i].k < keep[j].k) })
	if len(keep) > maxSeen {
		keep = keep[:maxSeen]
	}
	c.Seen = nil
	for _, e := range keep {
		if c.Seen == nil {
			c.Seen = map[string]int64{}
		}
		c.Seen[e.k] = e.t
	}
}

// visit records a followed link and reports whether it is one of the last
// maxVisited followed in this phase.
func (c *cursor) visit(link string) (repeated bool) {
	h := shortHash(link)
	for _, v := range c.Visited {
		if v == h {
			return true
		}
	}
	c.Visited = append(c.Visited, h)
	if len(c.Visited) > maxVisited {
		c.Visited = c.Visited[len(c.Visited)-maxVisited:]
	}
	return false
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

func seenKey(key string) string { return shortHash(key) }

func itemKey(typ, id, version string) string { return typ + "/" + id + "/" + version }
