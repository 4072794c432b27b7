package mockphp

import (
	"errors"
	"fmt"
	"slices"
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
	errGone      = errors.New("resource deleted")
	errConflict  = errors.New("version conflict")
	errMalformed = errors.New("malformed resource")
)

type token struct{ system, value string }

// version is one stored version of a resource.
type version struct {
	id          int
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
}

func (r *record) version() int { return r.versions[len(r.versions)-1].id }

func (r *record) ref() string { return r.typ + "/" + r.id }

// store holds every resource. It is not safe for concurrent use; Server
// guards it with its mutex.
type store struct {
	seq     int64
	byType  map[string]map[string]*record
	ordered map[string][]*record            // by seq, per type
	byPat   map[string]map[string][]*record // type -> patient ref -> records by seq
}

func newStore() *store {
	s := &store{
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

// put writes a new version of res (its resourceType and id set) at time at.
// ifMatch, when not zero, is the version the caller expects to replace.
// It returns the record and whether it was created.
func (s *store) put(res object, at time.Time, ifMatch int) (*record, bool, error) {
	typ, id := str(res, "resourceType"), str(res, "id")
	if !knownType(typ) || id == "" {
		return nil, false, fmt.Errorf("%w: resourceType %q id %q", errMalformed, typ, id)
	}
	rec := s.byType[typ][id]
	created := rec == nil || rec.deleted
	if ifMatch != 0 {
		if rec == nil || rec.deleted || rec.version() != ifMatch {
			cur := 0
			if rec != nil && !rec.deleted {
				cur = rec.version()
			}
			return rec, false, fmt.Errorf("%w: %s/%s is at version %d, not %d", errConflict, typ, id, cur, ifMatch)
		}
	}
	next := 1
	if rec != nil {
		next = rec.version() + 1
	}
	at = at.UTC().Truncate(time.Millisecond)
	meta := obj(res, "meta")
	if meta == nil {
		meta = object{}
	}
	meta["versionId"] = versionString(next)
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
	rec.versions = append(rec.versions, version{id: next, lastUpdated: at, body: body})
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
func (s *store) remove(typ, id string, at time.Time, ifMatch int) (*record, bool, error) {
	rec := s.byType[typ][id]
	if rec == nil || rec.deleted {
		return rec, false, nil
	}
	if ifMatch != 0 && rec.version() != ifMatch {
		return rec, false, fmt.Errorf("%w: %s/%s is at version %d, not %d", errConflict, typ, id, rec.version(), ifMatch)
	}
	at = at.UTC().Truncate(time.Millisecond)
	rec.versions = append(rec.versions, version{id: rec.version() + 1, lastUpdated: at, deleted: true})
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
	case "DiagnosticReport", "Observation":
		rec.patient = patientOf(obj(res, "subject"))
		rec.types = codings(obj(res, "code"))
		rec.date = parseLoose(str(res, "effectiveDateTime"))
	case "Task":
		rec.patient = patientOf(obj(res, "for"))
		rec.types = codings(obj(res, "code"))
	}
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
