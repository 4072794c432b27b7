package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrPaging: a search's pages do not add up to its total, or do not end.
// The search is failed rather than cut short: a truncated listing would
// silently miss documents.
var ErrPaging = errors.New("fhir search paging failed")

// Paging is the progress of a search followed page by page. SearchAll
// keeps one between pages; a caller that pages itself across calls (a
// listing cursor) stores its fields and restores them to resume.
//
// FHIR servers page in three ways, and Next handles each: with next links
// (Bundle.link relation next), by _offset without any link (the Bundle
// says the total, the client asks for _offset=n), and with a page size of
// their own whatever _count asks for.
type Paging struct {
	// Received counts the match entries of the pages so far.
	Received int
	// Sig is a digest of the last page's match entries: a page that
	// repeats it (a server that ignores _offset) made no progress.
	Sig string
}

// Step says how a search continues after a page.
type Step struct {
	// Link is the next page's link, to follow unchanged (Client.Page).
	Link string
	// Offset, when Link is empty and Done false, is the _offset to search
	// again with: the number of matches received, not a multiple of
	// _count, as a server may send fewer than asked.
	Offset int
	// Done: the search is complete.
	Done bool
	// Looped: the page's next link was followed before; the search ended
	// there (or went on by _offset when the total says more).
	Looped bool
}

// Next records page b and says how the search continues:
//
//   - b has entries and a next link not followed before (visit records a
//     link and reports whether it was followed before): follow it;
//   - else, b.total says more matches than received: search again with
//     _offset=Received;
//   - else the search is done; without a total, a page without a next
//     link is the last.
//
// A page that adds nothing while the total says more (no match entries,
// or the very entries of the previous page) fails with ErrPaging.
func (p *Paging) Next(b *Bundle, visit func(link string) (repeated bool)) (Step, error) {
	matches, sig := matchDigest(b)
	progress := matches > 0 && sig != p.Sig
	if progress {
		p.Received += matches
	}
	p.Sig = sig
	var looped bool
	if link := b.NextLink(); link != "" && len(b.Entry) > 0 {
		if !visit(link) {
			return Step{Link: link}, nil
		}
		looped = true
	}
	if b.Total == nil || int64(p.Received) >= *b.Total {
		return Step{Done: true, Looped: looped}, nil
	}
	if !progress {
		return Step{}, fmt.Errorf("%w: the server says %d matches, a page after %d added none", ErrPaging, *b.Total, p.Received)
	}
	return Step{Offset: p.Received, Looped: looped}, nil
}

// matchDigest counts b's match entries and digests their identities.
func matchDigest(b *Bundle) (int, string) {
	h := sha256.New()
	n := 0
	for _, e := range b.Entry {
		if !e.IsMatch() || len(e.Resource) == 0 {
			continue
		}
		n++
		id := e.FullURL
		if id == "" {
			if r, err := e.Decode(); err == nil {
				id = r.base().Ref()
			}
		}
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	if n == 0 {
		return 0, ""
	}
	return n, hex.EncodeToString(h.Sum(nil)[:8])
}
