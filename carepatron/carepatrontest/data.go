package carepatrontest

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// data is the workspace's contents. Ids are sequential, so sorting by id
// lists oldest first and a cursor is the last id of a page.
type data struct {
	next      int
	contacts  map[string]*Contact
	documents map[string]*storedDocument
	// byContact lists each contact's document ids, oldest first.
	byContact map[string][]string
	jobs      map[string]*ExportJob
}

type storedDocument struct {
	Document
	content []byte
}

func newData() data {
	return data{
		contacts:  make(map[string]*Contact),
		documents: make(map[string]*storedDocument),
		byContact: make(map[string][]string),
		jobs:      make(map[string]*ExportJob),
	}
}

func (d *data) newID(prefix string) string {
	d.next++
	return fmt.Sprintf("%s_%08d", prefix, d.next)
}

// contactByReference returns the id of the contact holding ref, or "".
func (d *data) contactByReference(ref string) string {
	if ref == "" {
		return ""
	}
	for id, c := range d.contacts {
		if c.ExternalReference == ref {
			return id
		}
	}
	return ""
}

// documentByReference returns the id of the contact's document holding
// ref, or "".
func (d *data) documentByReference(contactID, ref string) string {
	if ref == "" {
		return ""
	}
	for _, id := range d.byContact[contactID] {
		if d.documents[id].ExternalReference == ref {
			return id
		}
	}
	return ""
}

func (d *data) removeDocument(id string) {
	doc := d.documents[id]
	delete(d.documents, id)
	ids := d.byContact[doc.ContactId]
	if i := slices.Index(ids, id); i >= 0 {
		d.byContact[doc.ContactId] = slices.Delete(ids, i, i+1)
	}
}

const (
	defaultLimit = 50
	maxLimit     = 100
)

// page returns the items of ids (sorted) after cursor, at most limit, and
// the cursor of the next page ("" on the last).
func page(ids []string, cursor string, limit int) ([]string, string, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	slices.Sort(ids)
	start := 0
	if cursor != "" {
		after, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return nil, "", badRequest("cursor: not a cursor this API issued")
		}
		start, _ = slices.BinarySearch(ids, string(after))
		if start < len(ids) && ids[start] == string(after) {
			start++
		}
	}
	end := min(start+limit, len(ids))
	out := ids[start:end]
	next := ""
	if end < len(ids) {
		next = base64.RawURLEncoding.EncodeToString([]byte(out[len(out)-1]))
	}
	return out, next, nil
}

// matchEmail compares emails as the search does: exactly, ignoring case.
func matchEmail(a, b string) bool { return strings.EqualFold(a, b) }
