package fhir

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/provider"
)

// Reads of authors are bounded: an author's name is not worth failing or
// stalling a document over.
const (
	// maxAuthorReads is how many author resources one document may read.
	maxAuthorReads = 3
	// authorReadTimeout bounds all of one document's author reads.
	authorReadTimeout = 5 * time.Second
)

// names resolves the display names of who wrote a document (authors,
// results interpreters, performers, the custodian).
type names struct {
	s     *Source
	owner *provider.Base // holds the contained resources
	reads int
}

// authorNames joins the names of refs. Each is its display, else the name
// of the contained resource a "#id" reference names, else the name of the
// Practitioner, PractitionerRole or Organization read from the provider
// (at most maxAuthorReads reads within authorReadTimeout; a read that
// fails is logged and leaves that one out).
func (s *Source) authorNames(ctx context.Context, owner *provider.Base, refs []provider.Reference) string {
	ctx, cancel := context.WithTimeout(ctx, authorReadTimeout)
	defer cancel()
	n := &names{s: s, owner: owner}
	var out []string
	for _, r := range refs {
		if name := n.of(ctx, r, 0); name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return strings.Join(out, ", ")
}

// of returns the name of one reference; depth bounds a PractitionerRole
// naming its practitioner.
func (n *names) of(ctx context.Context, r provider.Reference, depth int) string {
	if r.Display != "" {
		return r.Display
	}
	if depth > 1 || r.Reference == "" {
		return ""
	}
	if res, ok := n.owner.ContainedResource(r.Reference); ok {
		return n.name(ctx, res, depth)
	}
	typ, id, ok := r.TypeID()
	if !ok || !n.s.onServer(r.Reference) {
		return ""
	}
	switch typ {
	case "Practitioner", "PractitionerRole", "Organization":
	default:
		return ""
	}
	if n.reads >= maxAuthorReads {
		return ""
	}
	n.reads++
	res, err := n.s.c.Read(ctx, typ, id)
	if err != nil {
		n.s.log.WarnContext(ctx, "fhir author not read; left out", "type", typ, "id", id, "error", err)
		return ""
	}
	return n.name(ctx, res, depth)
}

func (n *names) name(ctx context.Context, res provider.Resource, depth int) string {
	switch v := res.(type) {
	case *provider.Practitioner:
		return v.DisplayName()
	case *provider.Organization:
		return v.Name
	case *provider.PractitionerRole:
		if v.Practitioner != nil {
			if s := n.of(ctx, *v.Practitioner, depth+1); s != "" {
				return s
			}
		}
		if v.Organization != nil {
			return n.of(ctx, *v.Organization, depth+1)
		}
	}
	return ""
}

// onServer reports whether a literal reference names a resource of the
// provider's server: relative, or absolute under its base URL.
func (s *Source) onServer(ref string) bool {
	if !strings.Contains(ref, "://") {
		return true
	}
	return strings.HasPrefix(ref, s.c.BaseURL()+"/")
}
