package provider

import (
	"encoding/json"
	"fmt"
)

// Bundle types this library reads.
const (
	BundleSearchset = "searchset"
	BundleHistory   = "history"
	// BundleSubscriptionNotification is the R4B/R5 notification bundle type;
	// the R4 Backport uses "history".
	BundleSubscriptionNotification = "subscription-notification"
)

// Bundle is a FHIR Bundle: a search result page, a history, a
// notification. Entry resources stay raw JSON until asked for.
type Bundle struct {
	Base
	Type      string        `json:"type,omitempty"`
	Timestamp Instant       `json:"timestamp,omitempty"`
	Total     *int64        `json:"total,omitempty"`
	Link      []BundleLink  `json:"link,omitempty"`
	Entry     []BundleEntry `json:"entry,omitempty"`
}

// BundleLink is a link of a Bundle; relation "next" pages a search.
type BundleLink struct {
	Relation string `json:"relation,omitempty"`
	URL      string `json:"url,omitempty"`
}

// BundleEntry is one entry of a Bundle.
type BundleEntry struct {
	FullURL string `json:"fullUrl,omitempty"`
	// Resource is the entry's resource as sent: decode it with Decode or
	// the entry's Decode method.
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *EntrySearch    `json:"search,omitempty"`
	Request  *EntryRequest   `json:"request,omitempty"`
	Response *EntryResponse  `json:"response,omitempty"`
}

// EntrySearch says why a search returned an entry.
type EntrySearch struct {
	// Mode is match, include or outcome.
	Mode  string   `json:"mode,omitempty"`
	Score *float64 `json:"score,omitempty"`
}

// EntryRequest is the request a history or transaction entry records.
type EntryRequest struct {
	Method string `json:"method,omitempty"`
	URL    string `json:"url,omitempty"`
}

// EntryResponse is the outcome a history or transaction entry records.
type EntryResponse struct {
	Status       string  `json:"status,omitempty"`
	Location     string  `json:"location,omitempty"`
	Etag         string  `json:"etag,omitempty"`
	LastModified Instant `json:"lastModified,omitempty"`
}

// Decode decodes the entry's resource; an entry without one fails with
// ErrNotFHIR.
func (e BundleEntry) Decode() (Resource, error) {
	if len(e.Resource) == 0 || string(e.Resource) == "null" {
		return nil, fmt.Errorf("%w: bundle entry has no resource", ErrNotFHIR)
	}
	return Decode(e.Resource)
}

// IsDelete reports whether a history entry records a deletion: its request
// method is DELETE.
func (e BundleEntry) IsDelete() bool { return e.Request != nil && e.Request.Method == "DELETE" }

// IsMatch reports whether a search returned the entry as a match, rather
// than as an included resource or an OperationOutcome about the search.
func (e BundleEntry) IsMatch() bool {
	return e.Search == nil || e.Search.Mode == "" || e.Search.Mode == "match"
}

// NextLink returns the URL of the next page, or "".
func (b *Bundle) NextLink() string {
	for _, l := range b.Link {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

// Matches decodes the entries a search returned as matches. Entries whose
// resource does not decode are skipped and returned in errs, so one bad
// entry never hides the others.
func (b *Bundle) Matches() (rs []Resource, errs []error) {
	for i, e := range b.Entry {
		if !e.IsMatch() {
			continue
		}
		r, err := e.Decode()
		if err != nil {
			errs = append(errs, fmt.Errorf("bundle entry %d: %w", i, err))
			continue
		}
		rs = append(rs, r)
	}
	return rs, errs
}

// DecodeBundle decodes a Bundle of one of the given types (any type when
// none is given). An OperationOutcome fails with an *OutcomeError inside
// ErrUnexpectedType; a Bundle of another type fails with
// ErrUnexpectedType.
func DecodeBundle(data []byte, types ...string) (*Bundle, error) {
	b, err := DecodeAs[Bundle](data)
	if err != nil {
		return nil, err
	}
	if len(types) == 0 {
		return b, nil
	}
	for _, t := range types {
		if b.Type == t {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: bundle of type %q, want %q", ErrUnexpectedType, b.Type, types)
}
