package mockphp

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errBadSearch marks a search the server refuses (400).
var errBadSearch = errors.New("invalid search")

const (
	defaultCount = 50
	maxCount     = 1000
)

// dateRange is the half-open interval [start, end) a FHIR date value of a
// given precision stands for.
type dateRange struct{ start, end time.Time }

// parseDateRange reads a FHIR date, dateTime or instant and returns the
// range its precision implies: "2024" is the whole year, "2024-03-05T10:00"
// the whole minute, "…:05.120Z" one millisecond.
func parseDateRange(s string) (dateRange, error) {
	layouts := []struct {
		layout string
		step   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	}
	for _, l := range layouts {
		if len(s) == len(l.layout) {
			t, err := time.Parse(l.layout, s)
			if err != nil {
				return dateRange{}, fmt.Errorf("%w: date %q: %w", errBadSearch, s, err)
			}
			return dateRange{t, l.step(t)}, nil
		}
	}
	// A time: find the zone and the precision of what precedes it.
	body, zone := s, ""
	if strings.HasSuffix(s, "Z") {
		body, zone = s[:len(s)-1], "Z"
	} else if len(s) > 19 && (s[len(s)-6] == '+' || s[len(s)-6] == '-') {
		body, zone = s[:len(s)-6], s[len(s)-6:]
	}
	if zone == "" {
		zone = "Z" // no zone given: the server reads UTC
	}
	var step time.Duration
	layout := ""
	switch {
	case len(body) == 16:
		layout, step = "2006-01-02T15:04", time.Minute
	case len(body) == 19:
		layout, step = "2006-01-02T15:04:05", time.Second
	case len(body) > 20 && body[19] == '.':
		digits := len(body) - 20
		if digits > 9 {
			return dateRange{}, fmt.Errorf("%w: date %q has too many fractional digits", errBadSearch, s)
		}
		layout = "2006-01-02T15:04:05." + strings.Repeat("0", digits)
		step = time.Second
		for range digits {
			step /= 10
		}
	default:
		return dateRange{}, fmt.Errorf("%w: date %q is not a FHIR date", errBadSearch, s)
	}
	if zone != "Z" {
		layout += "-07:00"
	} else {
		layout += "Z07:00"
	}
	t, err := time.Parse(layout, body+zone)
	if err != nil {
		return dateRange{}, fmt.Errorf("%w: date %q: %w", errBadSearch, s, err)
	}
	return dateRange{t, t.Add(step)}, nil
}

// dateTest is one prefixed date comparison, such as gt2024-01-01.
type dateTest struct {
	prefix string
	r      dateRange
}

func parseDateTest(v string) (dateTest, error) {
	prefix := "eq"
	if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' && v[1] >= 'a' && v[1] <= 'z' {
		prefix, v = v[:2], v[2:]
	}
	switch prefix {
	case "eq", "ne", "gt", "ge", "lt", "le", "sa", "eb":
	default:
		return dateTest{}, fmt.Errorf("%w: date prefix %q is not supported", errBadSearch, prefix)
	}
	r, err := parseDateRange(v)
	if err != nil {
		return dateTest{}, err
	}
	return dateTest{prefix, r}, nil
}

// match compares an instant t (a stored lastUpdated, millisecond precise)
// with the search range, following FHIR's rules for ranges: gt means after
// the whole range of the search value, ge means at or after its start.
func (d dateTest) match(t time.Time) bool {
	if t.IsZero() {
		return false
	}
	switch d.prefix {
	case "eq":
		return !t.Before(d.r.start) && t.Before(d.r.end)
	case "ne":
		return t.Before(d.r.start) || !t.Before(d.r.end)
	case "gt", "sa":
		return !t.Before(d.r.end)
	case "ge":
		return !t.Before(d.r.start)
	case "lt", "eb":
		return t.Before(d.r.start)
	case "le":
		return t.Before(d.r.end)
	}
	return false
}

// tokenTest matches [system]|[code] against a list of tokens.
type tokenTest struct {
	system    string
	hasSystem bool
	value     string
}

func parseToken(v string) tokenTest {
	if i := strings.IndexByte(v, '|'); i >= 0 {
		return tokenTest{system: v[:i], hasSystem: true, value: v[i+1:]}
	}
	return tokenTest{value: v}
}

func (t tokenTest) match(ts []token) bool {
	for _, x := range ts {
		if t.hasSystem && x.system != t.system {
			continue
		}
		if t.value == "" || x.value == t.value {
			return true
		}
	}
	return false
}

// criterion is one parsed search parameter: every value list is ANDed with
// the others, values within one list (comma separated) are ORed.
type criterion func(*record) bool

// searchParams are the parameters each type understands besides the
// common ones (_id, _lastUpdated).
var searchParams = map[string][]string{
	"Patient":           {"identifier", "email", "name", "family", "given"},
	"DocumentReference": {"patient", "subject", "identifier", "type", "category", "status", "date", "related", "location"},
	"DiagnosticReport":  {"patient", "subject", "identifier", "code", "category", "status", "date", "result"},
	"Observation":       {"patient", "subject", "identifier", "code", "category", "status", "date"},
	"Task":              {"patient", "subject", "identifier", "code", "status"},
	"Binary":            {},
	"Subscription":      {"status"},
}

// controlParams shape the result rather than select resources.
var controlParams = []string{"_count", "_offset", "_sort", "_page", "_format", "_total", "_summary", "_elements", "_pretty"}

// refTargets is the resource type each reference search parameter points
// at; empty means any type.
var refTargets = map[string]string{
	"patient": "Patient",
	"subject": "Patient", // the only subjects the server indexes
	"result":  "Observation",
	"related": "",
}

// searchOptions are what parsing a search needs beyond its parameters.
type searchOptions struct {
	// strict refuses unknown parameters (Prefer: handling=strict).
	strict bool
	// base is the absolute FHIR base, which absolute references and URLs
	// in search values may start with.
	base string
	// behaviour is the server's; TypedReferences and IgnoreCount shape
	// parsing.
	behaviour ServerBehaviour
}

// query is a parsed search.
type query struct {
	typ      string
	criteria []criterion
	count    int
	offset   int    // matches skipped (after the _page cursor, if any)
	sort     string // "", "_lastUpdated" or "-_lastUpdated"
	after    *cursor
	summary  bool       // _summary=count: total only
	self     url.Values // the parameters the server used, for Bundle.link
}

// parseQuery turns URL parameters into a query. Unknown parameters are
// ignored (and left out of the self link) unless opts.strict is set, as
// the FHIR spec's Prefer: handling=lenient|strict asks.
func parseQuery(typ string, params url.Values, opts searchOptions) (*query, error) {
	q := &query{typ: typ, count: defaultCount, self: url.Values{}}
	if opts.behaviour.IgnoreCount {
		q.count = IgnoredCountPageSize
	}
	strict := opts.strict
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		base, modifier, _ := strings.Cut(name, ":")
		values := params[name]
		if slices.Contains(controlParams, base) {
			if base == "_count" && opts.behaviour.IgnoreCount {
				continue
			}
			if err := q.control(base, values); err != nil {
				return nil, err
			}
			continue
		}
		known := base == "_id" || base == "_lastUpdated" || slices.Contains(searchParams[typ], base)
		if !known {
			if strict {
				return nil, fmt.Errorf("%w: %s does not support search parameter %q", errBadSearch, typ, base)
			}
			continue
		}
		if modifier != "" {
			return nil, fmt.Errorf("%w: modifier %q on %q is not supported", errBadSearch, modifier, base)
		}
		for _, v := range values {
			c, err := makeCriterion(base, v, opts)
			if err != nil {
				return nil, err
			}
			q.criteria = append(q.criteria, c)
			q.self.Add(name, v)
		}
	}
	return q, nil
}

func (q *query) control(name string, values []string) error {
	v := values[len(values)-1]
	switch name {
	case "_count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: _count %q", errBadSearch, v)
		}
		q.count = min(n, maxCount)
		q.self.Set(name, strconv.Itoa(q.count))
	case "_offset":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: _offset %q", errBadSearch, v)
		}
		q.offset = n
		q.self.Set(name, strconv.Itoa(n))
	case "_sort":
		switch v {
		case "_lastUpdated", "-_lastUpdated", "_id":
			if v != "_id" {
				q.sort = v
			}
			q.self.Set(name, v)
		default:
			return fmt.Errorf("%w: _sort %q is not supported (use _lastUpdated or -_lastUpdated)", errBadSearch, v)
		}
	case "_page":
		c, err := decodeCursor(v)
		if err != nil {
			return err
		}
		q.after = &c
	case "_summary":
		if v == "count" {
			q.summary = true
			q.self.Set(name, v)
		}
	}
	return nil
}

func makeCriterion(name, value string, opts searchOptions) (criterion, error) {
	alts := splitValues(value)
	var tests []criterion
	for _, v := range alts {
		t, err := makeTest(name, v, opts)
		if err != nil {
			return nil, err
		}
		tests = append(tests, t)
	}
	return func(r *record) bool {
		for _, t := range tests {
			if t(r) {
				return true
			}
		}
		return false
	}, nil
}

// splitValues splits on commas not escaped with a backslash.
func splitValues(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v):
			i++
			cur.WriteByte(v[i])
		case v[i] == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(v[i])
		}
	}
	return append(out, cur.String())
}

func makeTest(name, v string, opts searchOptions) (criterion, error) {
	switch name {
	case "_id":
		return func(r *record) bool { return r.id == v }, nil
	case "_lastUpdated":
		d, err := parseDateTest(v)
		if err != nil {
			return nil, err
		}
		return func(r *record) bool { return d.match(r.lastUpdated) }, nil
	case "date":
		d, err := parseDateTest(v)
		if err != nil {
			return nil, err
		}
		return func(r *record) bool { return d.match(r.date) }, nil
	case "patient", "subject", "result", "related":
		typ, id, ok := opts.reference(v, refTargets[name])
		if !ok {
			return func(*record) bool { return false }, nil
		}
		named := func(ref string) bool {
			if typ == "" {
				return strings.HasSuffix(ref, "/"+id)
			}
			return ref == typ+"/"+id
		}
		switch name {
		case "result":
			return func(r *record) bool { return slices.ContainsFunc(r.results, named) }, nil
		case "related":
			return func(r *record) bool { return slices.ContainsFunc(r.related, named) }, nil
		}
		return func(r *record) bool { return r.patient != "" && named(r.patient) }, nil
	case "location":
		want := opts.relative(v)
		return func(r *record) bool {
			return slices.ContainsFunc(r.locations, func(u string) bool { return opts.relative(u) == want })
		}, nil
	case "identifier":
		t := parseToken(v)
		return func(r *record) bool { return t.match(r.identifiers) }, nil
	case "type", "code":
		t := parseToken(v)
		return func(r *record) bool { return t.match(r.types) }, nil
	case "category":
		t := parseToken(v)
		return func(r *record) bool { return t.match(r.categories) }, nil
	case "status":
		return func(r *record) bool { return r.status == v }, nil
	case "email":
		e := strings.ToLower(v)
		if _, after, ok := strings.Cut(e, "|"); ok {
			e = after
		}
		return func(r *record) bool { return slices.Contains(r.emails, e) }, nil
	case "name", "family", "given":
		p := strings.ToLower(v)
		return func(r *record) bool {
			for _, n := range r.names {
				if strings.HasPrefix(n, p) {
					return true
				}
			}
			return false
		}, nil
	}
	return nil, fmt.Errorf("%w: parameter %q", errBadSearch, name)
}

// reference reads a reference search value aimed at target (a type, or
// empty for any) and returns the type and id it names; typ is empty when
// the value names an id of any type. With TypedReferences only "Type/id"
// and "<base>/Type/id" name anything, and only of the target type;
// otherwise a bare id stands for target/id, and an absolute URL or a
// versioned reference is cut to its "Type/id".
func (o searchOptions) reference(v, target string) (typ, id string, ok bool) {
	if o.behaviour.TypedReferences {
		rest := v
		if o.base != "" && strings.HasPrefix(v, o.base+"/") {
			rest = v[len(o.base)+1:]
		}
		typ, id, ok = strings.Cut(rest, "/")
		if !ok || typ == "" || id == "" || strings.Contains(id, "/") || !knownType(typ) || (target != "" && typ != target) {
			return "", "", false
		}
		return typ, id, true
	}
	ref := refTarget(v)
	typ, id, ok = strings.Cut(ref, "/")
	if !ok {
		return target, ref, ref != ""
	}
	return typ, id, id != ""
}

// relative strips the server's base from an absolute URL, so that
// "Binary/1" and "<base>/Binary/1" compare equal, as a server resolves a
// relative attachment URL against its base.
func (o searchOptions) relative(u string) string {
	if o.base != "" {
		if rest, ok := strings.CutPrefix(u, o.base+"/"); ok {
			return rest
		}
	}
	return u
}

// cursor marks the last entry of a page: the next page starts after it in
// the query's order. Keyset paging keeps pages stable while resources are
// created or updated between requests.
type cursor struct {
	at  time.Time
	seq int64
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", c.at.UnixMilli(), c.seq))
}

func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, fmt.Errorf("%w: _page %q", errBadSearch, s)
	}
	ms, seq, ok := strings.Cut(string(b), ".")
	m, err1 := strconv.ParseInt(ms, 10, 64)
	n, err2 := strconv.ParseInt(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return cursor{}, fmt.Errorf("%w: _page %q", errBadSearch, s)
	}
	return cursor{at: time.UnixMilli(m).UTC(), seq: n}, nil
}

// compare orders records for the query's sort, breaking ties by creation.
func (q *query) compare(a, b *record) int {
	switch q.sort {
	case "_lastUpdated":
		if c := a.lastUpdated.Compare(b.lastUpdated); c != 0 {
			return c
		}
	case "-_lastUpdated":
		if c := b.lastUpdated.Compare(a.lastUpdated); c != 0 {
			return c
		}
	}
	return cmpInt(a.seq, b.seq)
}

func (q *query) afterCursor(r *record) bool {
	if q.after == nil {
		return true
	}
	c := &record{lastUpdated: q.after.at, seq: q.after.seq}
	return q.compare(r, c) > 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// page is what one search request returns.
type page struct {
	total   int
	entries []*record
	next    *cursor
}

// run executes q over the store. The patient criterion, when present, narrows
// the candidates through the patient index first.
func (s *store) run(q *query, patient string) page {
	var candidates []*record
	if patient != "" {
		candidates = s.byPat[q.typ][patient]
	} else {
		candidates = s.ordered[q.typ]
	}
	var matched []*record
	for _, r := range candidates {
		if r.deleted {
			continue
		}
		ok := true
		for _, c := range q.criteria {
			if !c(r) {
				ok = false
				break
			}
		}
		if ok {
			matched = append(matched, r)
		}
	}
	if q.sort != "" {
		slices.SortStableFunc(matched, q.compare)
	}
	p := page{total: len(matched)}
	if q.summary || q.count == 0 {
		return p
	}
	start := 0
	if q.after != nil {
		start, _ = slices.BinarySearchFunc(matched, true, func(r *record, _ bool) int {
			if q.afterCursor(r) {
				return 1
			}
			return -1
		})
	}
	start = min(start+q.offset, len(matched))
	end := min(start+q.count, len(matched))
	p.entries = matched[start:end]
	if end < len(matched) {
		last := matched[end-1]
		p.next = &cursor{at: last.lastUpdated, seq: last.seq}
	}
	return p
}

// patientParam returns the single patient a query is restricted to, if it
// has exactly one patient/subject value, so run can use the index.
func patientParam(params url.Values) string {
	var refs []string
	for _, k := range []string{"patient", "subject"} {
		refs = append(refs, params[k]...)
	}
	if len(refs) != 1 || strings.Contains(refs[0], ",") {
		return ""
	}
	ref := refTarget(refs[0])
	if !strings.Contains(ref, "/") {
		ref = "Patient/" + ref
	}
	return ref
}
