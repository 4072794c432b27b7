package practice

import (
	"encoding/base64"
	"encoding/json"
)

// Listing limits.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// cursor is where a listing resumes: an offset, or a keyset bound.
type cursor struct {
	Offset int   `json:"o,omitempty"`
	ID     int64 `json:"i,omitempty"`
}

func (c cursor) String() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseCursor reads a cursor this service gave; "" is the first page.
func parseCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 128 || json.Unmarshal(b, &c) != nil || c.Offset < 0 || c.ID < 0 {
		return cursor{}, invalid("cursor", "is not a cursor this service gave: pass next_cursor from the page before, or none for the first page")
	}
	return c, nil
}

// limitOf checks a page size; zero is DefaultLimit.
func limitOf(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 0 || n > MaxLimit:
		return 0, invalid("limit", "must be between 1 and %d", MaxLimit)
	}
	return n, nil
}

// offsetPage reads the paging of an offset listing: the store is asked for
// one row more than the page, to know whether another page follows.
func offsetPage(cur string, n int) (Page, error) {
	c, err := parseCursor(cur)
	if err != nil {
		return Page{}, err
	}
	limit, err := limitOf(n)
	if err != nil {
		return Page{}, err
	}
	return Page{Limit: limit + 1, Offset: c.Offset}, nil
}

// pageOf trims the extra row an offset listing asked for and returns the
// page with the cursor of the next one.
func pageOf[T any](items []T, p Page) List[T] {
	if len(items) < p.Limit {
		return List[T]{Items: items}
	}
	return List[T]{Items: items[:p.Limit-1], Next: cursor{Offset: p.Offset + p.Limit - 1}.String()}
}

// keysetPage is like pageOf for listings by descending (or ascending) id.
func keysetPage[T any](items []T, limit int, id func(T) int64) List[T] {
	if len(items) <= limit {
		return List[T]{Items: items}
	}
	items = items[:limit]
	return List[T]{Items: items, Next: cursor{ID: id(items[limit-1])}.String()}
}
