package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDocumentPageJSON holds the hand-written page encoder to
// encoding/json's bytes: on pages whose every field is set (by
// reflection, so that a field the spec adds to the page or to Document
// is set too, and fails here until the encoder writes it), on pages with
// every optional field empty, and on strings that need escaping.
func TestDocumentPageJSON(t *testing.T) {
	strs := []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
		"\x00\x01\x1f\x7f", "é ü 日本 🍎", "line\u2028para\u2029", "bad \xff\xfe utf-8 \xe2\x82", "\xed\xa0\x80 surrogate"}
	pages := []DocumentPage{{}, {Items: []Document{}}}
	for i, s := range strs {
		var d Document
		fill(reflect.ValueOf(&d).Elem(), s, i)
		var full DocumentPage
		fill(reflect.ValueOf(&full).Elem(), s, i)
		full.Items = []Document{d, {Id: int64(i), Title: s}}
		pages = append(pages, full, DocumentPage{Items: []Document{{Title: s, Date: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}}})
	}
	for i, p := range pages {
		var want bytes.Buffer
		require.NoError(t, json.NewEncoder(&want).Encode(p))
		got, err := documentPage(p).appendJSON(nil)
		require.NoError(t, err)
		assert.Equal(t, want.String(), string(got), "page %d", i)
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
	require.NoError(t, documentPage{Items: []Document{{Id: 1}}}.VisitListDocumentsResponse(rec))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))

	_, err := documentPage{Items: []Document{{Date: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}}.appendJSON(nil)
	assert.ErrorContains(t, err, "year 10000")
}

// BenchmarkDocumentPageJSON compares the encoder with encoding/json on a
// page of 50 documents as the store lists them.
func BenchmarkDocumentPageJSON(b *testing.B) {
	var p DocumentPage
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	for i := range 50 {
		id := int64(1000 + i)
		u := "/api/v1/documents/" + strconv.FormatInt(id, 10)
		p.Items = append(p.Items, Document{Id: id, PatientId: 17, Type: "lab_result", Title: "Lipid profile",
			Date: at, Author: "Dr Jane Smith", Source: "Primary Healthcare Provider", ContentType: "text/plain; charset=utf-8",
			Size: 3072, ContentHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Version: "3",
			UpdatedAt: at, Url: u, ContentUrl: u + "/content"})
	}
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var buf bytes.Buffer
			_ = json.NewEncoder(&buf).Encode(p)
		}
	})
	b.Run("by-hand", func(b *testing.B) {
		for b.Loop() {
			_, _ = documentPage(p).appendJSON(make([]byte, 0, 128+512*len(p.Items)))
		}
	})
}
