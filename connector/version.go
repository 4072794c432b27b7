package connector

import (
	"strings"
	"time"
)

// The version contract.
//
// A Source's version ids are opaque, as FHIR says of meta.versionId: two
// ids of one resource are equal or different, and nothing in them tells
// which is newer (many servers issue random UUIDs). The order of two
// revisions comes from the time the Source last changed the resource (FHIR
// meta.lastUpdated), which every Item, Document and Patient should carry as
// UpdatedAt, and only for a Source that implements SequentialVersions from
// numeric ids. Two revisions that nothing orders are Unordered: the engine
// then trusts what it fetched last, since a fetch reads the Source's current
// state.
//
// So no update is ever dropped because of how its id sorts, and a stale
// copy (fetched before a newer one was kept) is never written over a newer
// one when the Source reports update times.

// Revision is one state of a resource at its Source, as far as the engine
// orders states.
type Revision struct {
	// Version is the Source's opaque version id; empty when unknown.
	Version string
	// UpdatedAt is when the Source last changed the resource; zero when
	// unknown.
	UpdatedAt time.Time
}

// Revision returns the document's revision.
func (d *Document) Revision() Revision { return Revision{d.Version, d.UpdatedAt} }

// Revision returns the patient's revision.
func (p *Patient) Revision() Revision { return Revision{p.Version, p.UpdatedAt} }

// Revision returns the listed item's revision.
func (it Item) Revision() Revision { return Revision{it.Version, it.UpdatedAt} }

// Order says how one revision relates to another.
type Order int

// The orders CompareRevisions returns.
const (
	// Older: the revision precedes the other.
	Older Order = iota - 1
	// Same: the revisions are one.
	Same
	// Newer: the revision follows the other.
	Newer
	// Unordered: nothing tells which comes first, or whether they differ.
	Unordered
)

func (o Order) String() string {
	switch o {
	case Older:
		return "older"
	case Same:
		return "same"
	case Newer:
		return "newer"
	}
	return "unordered"
}

// CompareRevisions orders revision a against b. Update times decide when
// both are known and differ; then equal version ids are Same; then, with
// sequential (the Source implements SequentialVersions), decimal version
// ids compare as numbers of any length. Anything else is Unordered, even
// equal update times with different or unknown ids: a change within one
// tick of the Source's clock is still a change.
func CompareRevisions(a, b Revision, sequential bool) Order {
	if !a.UpdatedAt.IsZero() && !b.UpdatedAt.IsZero() && !a.UpdatedAt.Equal(b.UpdatedAt) {
		if a.UpdatedAt.Before(b.UpdatedAt) {
			return Older
		}
		return Newer
	}
	if a.Version == "" || b.Version == "" {
		return Unordered
	}
	if a.Version == b.Version {
		return Same
	}
	if sequential && digits(a.Version) && digits(b.Version) {
		x, y := strings.TrimLeft(a.Version, "0"), strings.TrimLeft(b.Version, "0")
		c := len(x) - len(y)
		if c == 0 {
			c = strings.Compare(x, y)
		}
		switch {
		case c < 0:
			return Older
		case c > 0:
			return Newer
		}
		return Same
	}
	return Unordered
}

// HasSequentialVersions reports whether src says its version ids grow
// (it implements SequentialVersions and returns true).
func HasSequentialVersions(src Source) bool {
	s, ok := src.(SequentialVersions)
	return ok && s.SequentialVersions()
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
