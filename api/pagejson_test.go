package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// pageServer is a server with what its pages need: the base path.
func pageServer(base string) *server {
	return &server{cfg: Config{BasePath: base}, jsonBase: jsonBase(base)}
}

// TestDocumentPageJSON holds the hand-written page encoder to
// encoding/json's bytes of the page documentOut and countsOut build: on
// documents whose every field is set (by reflection, so that a field
// practice.Document gains is set too), on pages with every optional field
// empty, on strings that need escaping, and under two base paths. And
// documentOut must set every field of Document, so that a field the spec
// adds fails here until it is converted (and then, until encoded).
func TestDocumentPageJSON(t *testing.T) {
	strs := []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
		"\x00\x01\x1f\x7f", "é ü 日本 🍎", "line\u2028para\u2029", "bad \xff\xfe utf-8 \xe2\x82", "\xed\xa0\x80 surrogate"}
	var ascii []byte
	for c := range byte(utf8.RuneSelf) {
		ascii = append(ascii, c)
	}
	strs = append(strs, string(ascii))
	pages := []practice.DocumentPage{{}, {List: practice.List[practice.Document]{Items: []practice.Document{}}}}
	for i, s := range strs {
		var d practice.Document
		fill(reflect.ValueOf(&d).Elem(), s, i)
		full := practice.DocumentPage{List: practice.List[practice.Document]{
			Items: []practice.Document{d, {ID: int64(i), Title: s}}, Next: s + "·next"}}
		full.Counts = map[connector.DocumentType]int{connector.DocumentLabResult: i + 1, connector.DocumentOther: i + 2,
			connector.DocumentPhysicalAssessment: i + 3, connector.DocumentProgressNote: i + 4, "unknown": 9}
		pages = append(pages, full, practice.DocumentPage{List: practice.List[practice.Document]{
			Items: []practice.Document{{Title: s, Date: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}}}})
	}
	for _, base := range []string{"/api/v1", "/prac<t>&ice/api"} {
		s := pageServer(base)
		for i, p := range pages {
			var want bytes.Buffer
			page := DocumentPage{Items: mapItems(p.Items, s.documentOut), Counts: countsOut(p.Counts), NextCursor: p.Next}
			require.NoError(t, json.NewEncoder(&want).Encode(page))
			got, err := s.documentPage(p).appendJSON(nil)
			require.NoError(t, err)
			assert.Equal(t, want.String(), string(got), "page %d under %s", i, base)
		}
	}

	var d practice.Document
	fill(reflect.ValueOf(&d).Elem(), "set", 1)
	out := reflect.ValueOf(pageServer("/api/v1").documentOut(d))
	for i := range out.NumField() {
		assert.False(t, out.Field(i).IsZero(), "documentOut leaves Document.%s empty", out.Type().Field(i).Name)
	}
}

// fill sets every field of v, recursively, to a value that is not its
// zero: strings to s, numbers to n+1, times to a time with nanoseconds
// and a zone, slices to one element.
func fill(v reflect.Value, s string, n int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s + "·" + strconv.Itoa(n))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(n + 1))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), s, n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2020+n, 1, 2, 3, 4, 5, 600+n, time.FixedZone("", 3600*n))))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), s, n)
		}
	default:
		panic("fill: no value for a " + v.Type().String())
	}
}

func TestDocumentPageJSONHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	one := func(d practice.Document) documentPage {
		return documentPage{page: practice.DocumentPage{List: practice.List[practice.Document]{Items: []practice.Document{d}}}}
	}
	require.NoError(t, one(practice.Document{ID: 1}).VisitListDocumentsResponse(rec))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))

	_, err := one(practice.Document{Date: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).appendJSON(nil)
	assert.ErrorContains(t, err, "year 10000")
}

// BenchmarkDocumentPageJSON compares the encoder with encoding/json on a
// page of 50 documents as the store lists them, each from the practice's
// page: encoding/json's with its conversion to the generated types.
func BenchmarkDocumentPageJSON(b *testing.B) {
	var p practice.DocumentPage
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	for i := range 50 {
		p.Items = append(p.Items, practice.Document{ID: int64(1000 + i), PatientID: 17, Type: "lab_result", Title: "Lipid profile",
			Date: at, Author: "Dr Jane Smith", Source: "Primary Healthcare Provider", ContentType: "text/plain; charset=utf-8",
			Size: 3072, ContentHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Version: "3",
			UpdatedAt: at})
	}
	s := pageServer("/api/v1")
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var buf bytes.Buffer
			_ = json.NewEncoder(&buf).Encode(DocumentPage{Items: mapItems(p.Items, s.documentOut), Counts: countsOut(p.Counts)})
		}
	})
	b.Run("by-hand", func(b *testing.B) {
		for b.Loop() {
			_, _ = s.documentPage(p).appendJSON(make([]byte, 0, 128+512*len(p.Items)))
		}
	})
}
