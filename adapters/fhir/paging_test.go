package fhir_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/fhir"
	"github.com/healthcare-records/healthcare-records/connector"
)

// seedMany gives p1 n progress notes.
func seedMany(s *fhirServer, n int) []string {
	s.patient("p1", "Ada Lovelace", "ada@example.org", "mrn-1")
	var want []string
	for i := range n {
		id := fmt.Sprintf("d%02d", i)
		s.docRef(id, "p1", "11506-3", "b"+id, []byte("note "+id))
		want = append(want, "DocumentReference/"+id+"@1")
	}
	return want
}

// A listing reaches every document of a server that pages without next
// links: by _offset with a total, or with its own page size.
func TestListDocumentsWithoutNextLinks(t *testing.T) {
	for _, tc := range []struct {
		name        string
		pageSize    int // _count sent
		ownPageSize int // the server's, whatever _count says
	}{
		{name: "paged by _offset, _count honoured", pageSize: 3},
		{name: "_count ignored", pageSize: 10, ownPageSize: 4},
		{name: "_count ignored, larger pages", pageSize: 3, ownPageSize: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFHIRServer(t)
			s.noLinks, s.ownPageSize = true, tc.ownPageSize
			want := seedMany(s, 11)
			items, _ := listAll(t, newSource(t, s, tc.pageSize), "p1", "")
			assert.ElementsMatch(t, want, refs(items))
			var offsets int
			for _, r := range s.requestLog() {
				if strings.Contains(r, "_offset=") {
					offsets++
				}
			}
			assert.Positive(t, offsets, "later pages searched by _offset")
		})
	}
}

// listServer answers every DocumentReference search with one entry and
// a next link made by link(n) for the n-th request.
func listServer(t *testing.T, maxPages int, link func(n int64) string) (*fhir.Source, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		w.Header().Set("Content-Type", "application/fhir+json")
		next := ""
		if l := link(i); l != "" {
			next = fmt.Sprintf(`"link":[{"relation":"next","url":%q}],`, srv.URL+"/fhir/DocumentReference?"+l)
		}
		fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset",%s"entry":[{"resource":{"resourceType":"DocumentReference","id":"d%d",
			"meta":{"versionId":"1","lastUpdated":"2026-02-01T10:00:00Z"},"status":"current","subject":{"reference":"Patient/p1"}}}]}`, next, i)
	}))
	t.Cleanup(srv.Close)
	return sourceOn(t, srv.URL+"/fhir", maxPages), &n
}

// A server whose next links never repeat fails the listing at the page
// bound, with a cursor that stays small, instead of listing forever.
func TestListDocumentsBounded(t *testing.T) {
	t.Run("next links that never end", func(t *testing.T) {
		src, n := listServer(t, 400, func(i int64) string { return fmt.Sprintf("page=%d", i) })
		cursor := ""
		var sizes []int
		var err error
		for range 1000 {
			var p connector.Page
			p, err = src.ListDocuments(t.Context(), connector.Ref{Type: "Patient", ID: "p1"}, cursor)
			if err != nil {
				break
			}
			require.True(t, p.More)
			cursor, sizes = p.Cursor, append(sizes, len(p.Cursor))
		}
		require.Error(t, err)
		assert.True(t, connector.IsPermanent(err))
		assert.Contains(t, err.Error(), "more than 400 pages")
		assert.Equal(t, int64(400), n.Load())
		require.Len(t, sizes, 399)
		assert.InDelta(t, sizes[200], sizes[398], 16, "the cursor does not grow with the pages")
		assert.Less(t, sizes[398], 8<<10)
	})
	t.Run("a next link too long for a cursor", func(t *testing.T) {
		src, _ := listServer(t, 50, func(int64) string { return "token=" + strings.Repeat("x", 9000) })
		_, err := src.ListDocuments(t.Context(), connector.Ref{Type: "Patient", ID: "p1"}, "")
		require.Error(t, err)
		assert.True(t, connector.IsPermanent(err))
		assert.Contains(t, err.Error(), "cursor too large")
	})
	t.Run("an oversized cursor restarts the listing", func(t *testing.T) {
		src, _ := listServer(t, 50, func(int64) string { return "" })
		p, err := src.ListDocuments(t.Context(), connector.Ref{Type: "Patient", ID: "p1"}, "fhir1."+strings.Repeat("A", 20000))
		require.NoError(t, err)
		assert.Len(t, p.Items, 1)
		assert.True(t, p.More, "on to the DiagnosticReports, from the beginning")
	})
}
