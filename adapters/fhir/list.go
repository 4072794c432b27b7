package fhir

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// ListDocuments lists one page of the patient's DocumentReferences, then
// of their DiagnosticReports, changed since cursor (with the configured
// overlap). Pages follow the server's next links unchanged; without a next
// link while the Bundle's total says more, the next page is searched with
// _offset (provider.Paging). A phase ends at a page without a next link
// when the total says nothing more, an empty page or a repeated link. A
// phase that follows more than Config.MaxPages pages, pages that add
// nothing while the total says more, or a cursor that would exceed a few
// KiB fail the listing, logged, rather than loop or truncate it.
//
// Items are deduplicated by (type, id, meta.versionId) within a pass and
// against the overlap of the previous pass. A DiagnosticReport whose every
// presentedForm URL is also a DocumentReference attachment URL (US Core
// exposes one scanned report both ways) is not listed: the
// DocumentReference delivers it.
func (s *Source) ListDocuments(ctx context.Context, patient connector.Ref, cur string) (connector.Page, error) {
	return s.list(ctx, patient, cur, documentListing)
}

// search is one phase of a listing: a search of a resource type by
// patient, with more parameters.
type search struct {
	typ    string
	params url.Values
}

// listing is the searches of a listing's two phases (cursor.Phase).
type listing [2]search

// documentListing lists documents: DocumentReferences, then
// DiagnosticReports.
var documentListing = listing{{typ: typeDocumentReference}, {typ: typeDiagnosticReport}}

// list runs a listing's searches one page a call (see ListDocuments).
func (s *Source) list(ctx context.Context, patient connector.Ref, cur string, l listing) (connector.Page, error) {
	if patient.ID == "" {
		return connector.Page{}, fmt.Errorf("%w: list: patient ref has no id", connector.ErrInvalid)
	}
	c, err := decodeCursor(cur)
	if errors.Is(err, errCursorTooLarge) {
		// Only an earlier version wrote such cursors: listing again from
		// the beginning costs requests, and the engine ignores versions it
		// already has.
		s.log.ErrorContext(ctx, "fhir listing cursor too large; listing the patient again from the beginning",
			"patient", patient.ID, "bytes", len(cur), "error", err)
		c, err = cursor{}, nil
	}
	if err != nil {
		return connector.Page{}, err
	}
	phase := l[c.Phase]
	typ := phase.typ
	var b *provider.Bundle
	if c.Next != "" {
		b, err = s.c.Page(ctx, c.Next)
	} else {
		q := s.searchParams(patient.ID, c)
		for k, v := range phase.params {
			q[k] = v
		}
		if c.Offset > 0 {
			q.Set("_offset", strconv.Itoa(c.Offset))
		}
		b, err = s.c.Search(ctx, typ, q)
	}
	if err != nil {
		return connector.Page{}, classify(fmt.Errorf("list %s: %w", typ, err))
	}

	items, err := s.pageItems(ctx, patient.ID, typ, b, &c)
	if err != nil {
		return connector.Page{}, classify(fmt.Errorf("list %s: %w", typ, err))
	}
	if len(c.Seen) > maxSeen {
		if m, err := time.Parse(time.RFC3339Nano, c.Max); err == nil {
			// No entry older than this survives the pass's final prune.
			c.prune(m.Add(-s.cfg.Overlap))
		}
	}

	paging := provider.Paging{Received: c.Received, Sig: c.Sig}
	step, err := paging.Next(b, c.visit)
	if err != nil {
		s.log.ErrorContext(ctx, "fhir listing pages do not add up; failing the listing",
			"type", typ, "patient", patient.ID, "pages", c.Pages+1, "received", paging.Received)
		return connector.Page{}, fmt.Errorf("list %s: %w", typ, err)
	}
	if step.Looped {
		s.log.WarnContext(ctx, "fhir search repeats a next link", "type", typ, "patient", patient.ID, "done", step.Done)
	}
	if !step.Done {
		c.Pages++
		if c.Pages >= s.cfg.MaxPages {
			s.log.ErrorContext(ctx, "fhir listing page limit reached; failing the listing",
				"type", typ, "patient", patient.ID, "pages", c.Pages)
			return connector.Page{}, fmt.Errorf("%w: list %s: more than %d pages in one listing (Config.MaxPages); the server's paging does not end",
				connector.ErrPermanent, typ, s.cfg.MaxPages)
		}
		c.Next, c.Offset = step.Link, step.Offset
		c.Received, c.Sig = paging.Received, paging.Sig
		return s.page(ctx, patient, typ, items, c, true)
	}
	// The phase is done.
	c.endPhase()
	if c.Phase == 0 {
		c.Phase = 1
		return s.page(ctx, patient, typ, items, c, true)
	}
	c.Phase = 0
	if c.Max != "" {
		if m, err := time.Parse(time.RFC3339Nano, c.Max); err == nil {
			if since, ok := c.since(); !ok || m.After(since) {
				c.Since = c.Max
			}
		}
	}
	c.Max = ""
	if since, ok := c.since(); ok {
		c.prune(since.Add(-s.cfg.Overlap))
	}
	return s.page(ctx, patient, typ, items, c, false)
}

// page returns a listing page with c encoded; a cursor over its bound
// fails the listing, logged.
func (s *Source) page(ctx context.Context, patient connector.Ref, typ string, items []connector.Item, c cursor, more bool) (connector.Page, error) {
	enc, err := c.encode()
	if err != nil {
		s.log.ErrorContext(ctx, "fhir listing cursor too large; failing the listing",
			"type", typ, "patient", patient.ID, "next_link_bytes", len(c.Next), "error", err)
		return connector.Page{}, fmt.Errorf("%w: list %s: %w", connector.ErrPermanent, typ, err)
	}
	return connector.Page{Items: items, Cursor: enc, More: more}, nil
}

func (s *Source) searchParams(patientID string, c cursor) url.Values {
	q := url.Values{"patient": {patientParam(patientID)}}
	if since, ok := c.since(); ok {
		q.Set("_lastUpdated", "gt"+since.Add(-s.cfg.Overlap).UTC().Format(time.RFC3339Nano))
	}
	return q
}

// pageItems turns a page's matches into items, skipping repeats and
// DiagnosticReports that duplicate a DocumentReference: by a shared
// presentedForm URL, or named in its context.related.
func (s *Source) pageItems(ctx context.Context, patientID, typ string, b *provider.Bundle, c *cursor) ([]connector.Item, error) {
	rs, errs := b.Matches()
	for _, err := range errs {
		// One undecodable entry must not hide the rest of the page; it is
		// found again by a later pass if the server fixes it.
		s.log.WarnContext(ctx, "fhir search entry skipped", "type", typ, "error", err)
	}
	prev := c.Seen
	prevSeen := func(key string) bool { _, ok := prev[seenKey(key)]; return ok }
	var dups map[string]bool
	if typ == typeDiagnosticReport {
		var err error
		if dups, err = s.presentedDuplicates(ctx, patientID, rs); err != nil {
			return nil, err
		}
		related, err := s.relatedDuplicates(ctx, patientID, rs)
		if err != nil {
			return nil, err
		}
		for id, dup := range related {
			if dups == nil {
				dups = map[string]bool{}
			}
			dups[id] = dups[id] || dup
		}
	}
	items := []connector.Item{}
	for _, r := range rs {
		var (
			id, version, status string
			updated             time.Time
		)
		switch v := r.(type) {
		case *provider.DocumentReference:
			id, version, status, updated = v.ID, v.Meta.VersionID, v.Status, firstTime(v.Meta.LastUpdated)
		case *provider.Observation:
			// An observation entered in error is kept, out of every
			// series, not deleted: its status tells.
			id, version, updated = v.ID, v.Meta.VersionID, firstTime(v.Meta.LastUpdated)
		case *provider.DiagnosticReport:
			id, version, status, updated = v.ID, v.Meta.VersionID, v.Status, firstTime(v.Meta.LastUpdated)
			if v.Subject == nil || v.Subject.Reference == "" {
				s.listed.put(v.ID, patientID)
			}
			if dups[v.ID] {
				c.observe(itemKey(typ, id, version), updated)
				continue
			}
		default:
			continue // an OperationOutcome or include in match mode
		}
		if id == "" {
			continue
		}
		key := itemKey(typ, id, version)
		if version != "" && prevSeen(key) {
			continue
		}
		c.observe(key, updated)
		at := updated
		if at.IsZero() {
			// The cursor's watermark moves only by the server's own
			// lastUpdated; the item still gets a time.
			at = s.updatedAt(baseOf(r), b)
		}
		items = append(items, connector.Item{
			Ref:       connector.Ref{Type: typ, ID: id},
			Version:   version,
			UpdatedAt: at,
			Deleted:   deleted(status),
		})
	}
	return items, nil
}

// baseOf returns the Base of a document resource.
func baseOf(r provider.Resource) *provider.Base {
	switch v := r.(type) {
	case *provider.DocumentReference:
		return &v.Base
	case *provider.DiagnosticReport:
		return &v.Base
	case *provider.Observation:
		return &v.Base
	}
	return &provider.Base{}
}
