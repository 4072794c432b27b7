package mockphp

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The resource types the server serves. Anything else answers 404.
var resourceTypes = []string{
	"Patient", "DocumentReference", "DiagnosticReport", "Observation", "Binary", "Task", "Subscription",
}

func knownType(t string) bool { return slices.Contains(resourceTypes, t) }

// Errors of the store; the HTTP layer maps each to its status.
var (
	errNotFound  = errors.New("resource not found")
	errConflict  = errors.New("version conflict")
	errMalformed = errors.New("malformed resource")
)

type token struct{ system, value string }

// version is one stored version of a resource.
type version struct {
	n           int    // ordinal from 1: the version's place in record.versions
	tag         string // meta.versionId: n in decimal, or a UUID (UUIDVersions)
	lastUpdated time.Time
	deleted     bool
	body        []byte // encoded resource including id and meta; nil when deleted
}

// record is a resource with its history and the values search uses.
type record struct {
	typ, id     string
	seq         int64 // creation order; the default sort
	versions    []version
	lastUpdated time.Time
	deleted     bool
	body        []byte

	// index values, extracted from the current version
	patient     string // "Patient/id" of the compartment the resource is in
	identifiers []token
	emails      []string
	names       []string // lower-cased name parts (Patient)
	types       []token  // DocumentReference.type, Task.code, DiagnosticReport/Observation.code
	categories  []token
	status      string
	date        time.Time // DocumentReference.date, DiagnosticReport/Observation.effectiveDateTime
	related     []string  // "Type/id" of DocumentReference.context.related
	results     []string  // "Type/id" of DiagnosticReport.result
	locations   []string  // DocumentReference.content.attachment.url, as written
}

func (r *record) version() int { return r.versions[len(r.versions)-1].n }

// tag is the current version's meta.versionId.
func (r *record) tag() string { return r.versions[len(r.versions)-1].tag }

// live returns the versions since the resource was last created: after
// its last delete, none while it is deleted. A server without tombstones
// keeps no more than that.
func (r *record) live() []version {
	for i := len(r.versions) - 1; i >= 0; i-- {
		if r.versions[i].deleted {
			return r.versions[i+1:]
		}
	}
	return r.versions
}

func (r *record) ref() string { return r.typ + "/" + r.id }

// store holds every resource. It is not safe for concurrent use; Server
// guards it with its mutex.
type store struct {
	// uuids makes version tags UUIDs derived from seed and written, the
	// number of versions written so far.
	uuids   bool
	seed    int64
	written uint64

	seq     int64
	byType  map[string]map[string]*record
	ordered map[string][]*record            // by seq, per type
	byPat   map[string]map[string][]*record // type -> patient ref -> records by seq
}

func newStore(seed int64, uuidVersions bool) *store {
	s := &store{
		uuids:   uuidVersions,
		seed:    seed,
		byType:  map[string]map[string]*record{},
		ordered: map[string][]*record{},
		byPat:   map[string]map[string][]*record{},
	}
	for _, t := range resourceTypes {
		s.byType[t] = map[string]*record{}
		s.byPat[t] = map[string][]*record{}
	}
	return s
}

func (s *store) get(typ, id string) *record { return s.byType[typ][id] }

// newTag names version n of a resource: n itself, or with uuids a UUID
// hashed from the seed and the count of versions written, which is the
// same for the same seed and calls but bears no order.
func (s *store) newTag(n int) string {
	s.written++
	if !s.uuids {
		return strconv.Itoa(n)
	}
	var in [16]byte
	binary.BigEndian.PutUint64(in[:8], uint64(s.seed))
	binary.BigEndian.PutUint64(in[8:], s.written)
	sum := sha256.Sum256(in[:])
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// put writes a new version of res (its resourceType and id set) at time at.
// ifMatch, when not empty, is the versionId the caller expects to replace.
// It returns the record and whether it was created.
func (s *store) put(res object, at time.Time, ifMatch string) (*record, bool, error) {
	typ, id := str(res, "resourceType"), str(res, "id")
	if !knownType(typ) || id == "" {
		return nil, false, fmt.Errorf("%w: resourceType %q id %q", errMalformed, typ, id)
	}
	rec := s.byType[typ][id]
	created := rec == nil || rec.deleted
	if ifMatch != "" {
		if rec == nil || rec.deleted || rec.tag() != ifMatch {
			cur := "none"
			if rec != nil && !rec.deleted {
				cur = rec.tag()
			}
			return rec, false, fmt.Errorf("%w: %s/%s is at version %s, not %s", errConflict, typ, id, cur, ifMatch)
		}
	}
	next := 1
	if rec != nil {
		next = rec.version() + 1
	}
	tag := s.newTag(next)
	at = at.UTC().Truncate(time.Millisecond)
	meta := obj(res, "meta")
	if meta == nil {
		meta = object{}
	}
	meta["versionId"] = tag
	meta["lastUpdated"] = formatInstant(at)
	res["meta"] = meta
	body, err := encodeResource(res)
	if err != nil {
		return nil, false, err
	}
	if rec == nil {
		s.seq++
		rec = &record{typ: typ, id: id, seq: s.seq}
		s.byType[typ][id] = rec
		s.ordered[typ] = append(s.ordered[typ], rec)
	}
	oldPatient := rec.patient
	rec.versions = append(rec.versions, version{n: next, tag: tag, lastUpdated: at, body: body})
	rec.lastUpdated, rec.deleted, rec.body = at, false, body
	index(rec, res)
	if oldPatient != rec.patient || created {
		s.movePatient(rec, oldPatient)
	}
	return rec, created, nil
}

// movePatient keeps the patient index in step when a resource's patient
// changes or it is revived.
func (s *store) movePatient(rec *record, old string) {
	idx := s.byPat[rec.typ]
	if old != "" {
		idx[old] = slices.DeleteFunc(idx[old], func(r *record) bool { return r == rec })
	}
	if rec.patient != "" {
		l := idx[rec.patient]
		i, _ := slices.BinarySearchFunc(l, rec.seq, func(r *record, seq int64) int { return int(r.seq - seq) })
		if i < len(l) && l[i] == rec {
			return
		}
		idx[rec.patient] = slices.Insert(l, i, rec)
	}
}

// remove deletes typ/id at time at. Deleting a deleted resource is a no-op
// that reports false.
func (s *store) remove(typ, id string, at time.Time, ifMatch string) (*record, bool, error) {
	rec := s.byType[typ][id]
	if rec == nil || rec.deleted {
		return rec, false, nil
	}
	if ifMatch != "" && rec.tag() != ifMatch {
		return rec, false, fmt.Errorf("%w: %s/%s is at version %s, not %s", errConflict, typ, id, rec.tag(), ifMatch)
	}
	at = at.UTC().Truncate(time.Millisecond)
	n := rec.version() + 1
	rec.versions = append(rec.versions, version{n: n, tag: s.newTag(n), lastUpdated: at, deleted: true})
	rec.lastUpdated, rec.deleted, rec.body = at, true, nil
	if rec.patient != "" {
		idx := s.byPat[typ]
		idx[rec.patient] = slices.DeleteFunc(idx[rec.patient], func(r *record) bool { return r == rec })
	}
	return rec, true, nil
}

// index extracts the values search needs from the current version.
func index(rec *record, res object) {
	rec.patient, rec.identifiers, rec.emails, rec.names = "", nil, nil, nil
	rec.types, rec.categories, rec.status, rec.date = nil, nil, str(res, "status"), time.Time{}
	rec.related, rec.results, rec.locations = nil, nil, nil
	for _, v := range arr(res, "identifier") {
		if m, ok := v.(object); ok {
			rec.identifiers = append(rec.identifiers, token{str(m, "system"), str(m, "value")})
		}
	}
	if m := obj(res, "masterIdentifier"); m != nil {
		rec.identifiers = append(rec.identifiers, token{str(m, "system"), str(m, "value")})
	}
	for _, v := range arr(res, "category") {
		if m, ok := v.(object); ok {
			rec.categories = append(rec.categories, codings(m)...)
		}
	}
	switch rec.typ {
	case "Patient":
		rec.patient = "Patient/" + rec.id
		for _, v := range arr(res, "telecom") {
			if m, ok := v.(object); ok && str(m, "system") == "email" {
				rec.emails = append(rec.emails, strings.ToLower(str(m, "value")))
			}
		}
		for _, v := range arr(res, "name") {
			m, ok := v.(object)
			if !ok {
				continue
			}
			parts := []string{str(m, "family"), str(m, "text")}
			for _, g := range arr(m, "given") {
				if s, ok := g.(string); ok {
					parts = append(parts, s)
				}
			}
			for _, p := range parts {
				if p != "" {
					rec.names = append(rec.names, strings.ToLower(p))
				}
			}
		}
	case "DocumentReference":
		rec.patient = patientOf(obj(res, "subject"))
		rec.types = codings(obj(res, "type"))
		rec.date = parseLoose(str(res, "date"))
		rec.related = refsOf(arr(obj(res, "context"), "related"))
		for _, c := range arr(res, "content") {
			if m, ok := c.(object); ok {
				if u := str(obj(m, "attachment"), "url"); u != "" {
					rec.locations = append(rec.locations, u)
				}
			}
		}
	case "DiagnosticReport", "Observation":
		rec.patient = patientOf(obj(res, "subject"))
		rec.types = codings(obj(res, "code"))
		rec.date = parseLoose(str(res, "effectiveDateTime"))
		rec.results = refsOf(arr(res, "result"))
	case "Task":
		rec.patient = patientOf(obj(res, "for"))
		rec.types = codings(obj(res, "code"))
	}
}

// refsOf returns the "Type/id" of each Reference in refs.
func refsOf(refs []any) []string {
	var out []string
	for _, v := range refs {
		if m, ok := v.(object); ok {
			if t := refTarget(str(m, "reference")); strings.Contains(t, "/") {
				out = append(out, t)
			}
		}
	}
	return out
}

func patientOf(ref object) string {
	t := refTarget(str(ref, "reference"))
	if strings.HasPrefix(t, "Patient/") {
		return t
	}
	return ""
}

// parseLoose reads a FHIR date or dateTime as the start of its range.
func parseLoose(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	r, err := parseDateRange(s)
	if err != nil {
		return time.Time{}
	}
	return r.start
}
