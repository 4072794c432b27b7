package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/practice"
)

// TestSearchDocuments holds what a search across patients finds to what
// each role may see, in the matrix's world: the matrix checks only the
// status.
func TestSearchDocuments(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := newWorld(t, h)
	ids := w.ids
	search := func(role practice.Role, query string) api.DocumentPage {
		t.Helper()
		res := h.do(t, request{Method: http.MethodGet, Path: "/documents?" + query, Token: ids.tokens[role]})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		return decode[api.DocumentPage](t, res)
	}
	found := func(p api.DocumentPage) []int64 {
		var out []int64
		for _, d := range p.Items {
			out = append(out, d.Id)
		}
		return out
	}
	for _, c := range []struct {
		role practice.Role
		want []int64
	}{
		{practice.RoleDietician, []int64{ids.x, ids.y, ids.z, ids.z2}},
		{practice.RolePractitioner, []int64{ids.x}},
		{practice.RolePatient, []int64{ids.x, ids.y, ids.z, ids.z2}},
	} {
		t.Run(string(c.role), func(t *testing.T) {
			assert.ElementsMatch(t, c.want, found(search(c.role, "limit=100")))
		})
	}
	t.Run("admin", func(t *testing.T) {
		all := found(search(practice.RoleAdmin, "limit=100"))
		assert.Subset(t, all, []int64{ids.x, ids.y, ids.z, ids.z2, ids.w})
		assert.Len(t, all, 6, "P1's four and P2's two")
	})

	t.Run("links", func(t *testing.T) {
		// The page's URLs are written by hand (pagejson.go): each must be
		// the document's own.
		for _, d := range search(practice.RoleDietician, "limit=100").Items {
			assert.Equal(t, "/api/v1/documents/"+strconv.FormatInt(d.Id, 10), d.Url)
			assert.Equal(t, d.Url+"/content", d.ContentUrl)
			res := h.do(t, request{Method: http.MethodGet, Path: strings.TrimPrefix(d.Url, "/api/v1"), Token: ids.tokens[practice.RoleDietician]})
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			assert.Equal(t, d.Id, decode[api.Document](t, res).Id)
		}
	})

	t.Run("keywords, type and counts", func(t *testing.T) {
		p := search(practice.RoleDietician, "q=dietician&sort=title&order=asc")
		assert.Equal(t, []int64{ids.z, ids.z2}, found(p), "the uploads' text")
		assert.Equal(t, api.DocumentCounts{ProgressNote: 2}, p.Counts)
		assert.Empty(t, found(search(practice.RolePractitioner, "q=dietician")), "uploads not shared")
		p = search(practice.RoleAdmin, "type=progress_note&limit=1")
		assert.Len(t, p.Items, 1)
		assert.NotEmpty(t, p.NextCursor)
		c := p.Counts
		assert.Equal(t, 6, c.LabResult+c.Other+c.PhysicalAssessment+c.ProgressNote, "every type's, not the page's")
	})

	t.Run("bad input", func(t *testing.T) {
		res := h.do(t, request{Method: http.MethodGet, Path: "/documents?sort=size", Token: ids.tokens[practice.RoleAdmin]})
		assert.Equal(t, http.StatusBadRequest, res.Status)
		assert.Contains(t, res.problem(t).Detail, "sort")
		res = h.do(t, request{Method: http.MethodGet, Path: "/documents"})
		assert.Equal(t, http.StatusUnauthorized, res.Status)
	})

	t.Run("audited", func(t *testing.T) {
		require.NoError(t, h.svc.FlushAudit(t.Context()))
		res := h.do(t, request{Method: http.MethodGet, Path: "/audit?action=document.search&limit=100",
			Token: ids.tokens[practice.RoleAdmin]})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Contains(t, string(res.Body), `"document.search"`)
	})
}
