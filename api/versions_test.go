package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// TestDocumentVersions amends a document at the provider and reads its
// versions, each one's content and the diff between them.
func TestDocumentVersions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(hc *harnessConfig) { hc.syncEvery = time.Millisecond })
	seedUser(t, h, practice.RoleDietician, "dee@example.com", password)
	token := signIn(t, h, "dee@example.com", password).AccessToken

	p := h.php.PutPatient(connector.Patient{Name: "Vera Sion", Email: "vera@example.com",
		Identifiers: []connector.Identifier{{System: "urn:mrn", Value: "MRN-VS"}}})
	note, err := h.php.AddDocument(connector.Document{Patient: p.Ref, Type: connector.DocumentLabResult, Title: "Lipids",
		ContentType: "text/plain", Content: []byte("LDL 3.1 mmol/L\nHDL 1.2 mmol/L\nTriglycerides 1.4 mmol/L\n")})
	require.NoError(t, err)
	image, err := h.php.AddDocument(connector.Document{Patient: p.Ref, Type: connector.DocumentOther, Title: "Photo",
		ContentType: "image/png", Content: []byte("\x89PNG\r\n\x1a\n first")})
	require.NoError(t, err)
	lab, err := os.ReadFile(filepath.Join("..", "present", "testdata", "mock-lab.pdf"))
	require.NoError(t, err)
	report, err := h.php.AddDocument(connector.Document{Patient: p.Ref, Type: connector.DocumentLabResult, Title: "Report",
		ContentType: "application/pdf", Content: lab})
	require.NoError(t, err)
	res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: token, Body: map[string]any{
		"name": "Vera Sion", "email": "vera@example.com", "identifiers": []any{map[string]any{"system": "urn:mrn", "value": "MRN-VS"}}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	created := decode[api.PatientWithSync](t, res)
	followRun(t, h, token, created.Sync.Id)
	patient := itoa(created.Patient.Id)
	sync := func() {
		t.Helper()
		res := h.do(t, request{Method: http.MethodPost, Path: "/patients/" + patient + "/sync", Token: token})
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		followRun(t, h, token, decode[api.SyncRun](t, res).Id)
	}
	ids := map[string]string{}
	res = h.do(t, request{Method: http.MethodGet, Path: "/patients/" + patient + "/documents", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	for _, d := range decode[api.DocumentPage](t, res).Items {
		ids[d.Title] = itoa(d.Id)
	}
	require.Len(t, ids, 3)

	// The provider amends both; a second sync of the same versions keeps
	// nothing more.
	_, err = h.php.UpdateDocument(note.Ref.ID, func(d *connector.Document) {
		d.Content = []byte("LDL 2.6 mmol/L\nHDL 1.2 mmol/L\nTriglycerides 1.4 mmol/L\nReviewed by Dr. Bo\n")
		d.Title = "Lipids (amended)"
	})
	require.NoError(t, err)
	amended, err := os.ReadFile(filepath.Join("..", "present", "testdata", "mock-note.pdf"))
	require.NoError(t, err)
	_, err = h.php.UpdateDocument(report.Ref.ID, func(d *connector.Document) { d.Content = amended })
	require.NoError(t, err)
	_, err = h.php.UpdateDocument(image.Ref.ID, func(d *connector.Document) { d.Content = []byte("\x89PNG\r\n\x1a\n second") })
	require.NoError(t, err)
	sync()
	sync()

	res = h.do(t, request{Method: http.MethodGet, Path: "/documents/" + ids["Lipids"] + "/versions", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	vs := decode[api.DocumentVersionList](t, res).Items
	require.Len(t, vs, 2)
	assert.Equal(t, 1, vs[0].Number)
	assert.False(t, vs[0].Current)
	assert.Equal(t, "Lipids", vs[0].Title)
	assert.True(t, vs[1].Current)
	assert.Equal(t, "Lipids (amended)", vs[1].Title)
	assert.Equal(t, "/api/v1/documents/"+ids["Lipids"]+"/versions/1/content", vs[0].ContentUrl)

	res = h.do(t, request{Method: http.MethodGet, Path: "/documents/" + ids["Lipids"] + "/versions/1/content", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "LDL 3.1 mmol/L\nHDL 1.2 mmol/L\nTriglycerides 1.4 mmol/L\n", string(res.Body))
	assert.Contains(t, res.Header.Get("Content-Disposition"), "attachment")

	res = h.do(t, request{Method: http.MethodGet, Path: "/documents/" + ids["Lipids"] + "/versions/2", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.True(t, decode[api.DocumentVersion](t, res).Current)

	res = h.do(t, request{Method: http.MethodGet, Path: "/documents/" + ids["Lipids"] + "/diff?from=1&to=2", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	diff := decode[api.VersionDiff](t, res)
	assert.Equal(t, []api.VersionDiffChanged{"title", "content"}, diff.Changed)
	assert.Equal(t, 2, diff.Added)
	assert.Equal(t, 1, diff.Removed)
	assert.Equal(t, "2 lines added, 1 line removed", diff.Summary)
	var ops []string
	for _, l := range diff.Lines {
		ops = append(ops, string(l.Op)+" "+l.Text)
	}
	assert.Equal(t, []string{"removed LDL 3.1 mmol/L", "added LDL 2.6 mmol/L", "equal HDL 1.2 mmol/L",
		"equal Triglycerides 1.4 mmol/L", "added Reviewed by Dr. Bo"}, ops)
	assert.Equal(t, api.DiffLine{Op: "added", Text: "LDL 2.6 mmol/L", New: 1}, diff.Lines[1], "line numbers")

	// A PDF's versions compare by the text the pull extracted.
	res = h.do(t, request{Method: http.MethodGet, Path: "/documents/" + ids["Report"] + "/diff?from=1&to=2", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	diff = decode[api.VersionDiff](t, res)
	assert.Empty(t, diff.Notice)
	assert.Contains(t, diff.Lines, api.DiffLine{Op: "added", Text: "Plan: review HbA1c in 3 months.", New: 3})
	assert.Contains(t, diff.Lines, api.DiffLine{Op: "removed", Text: "Lipid Panel", Old: 2})

	// An image has no text to compare: the fields that changed and why.
	res = h.do(t, request{Method: http.MethodGet, Path: "/documents/" + ids["Photo"] + "/diff?from=1&to=2", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	diff = decode[api.VersionDiff](t, res)
	assert.Equal(t, []api.VersionDiffChanged{"content"}, diff.Changed)
	assert.Empty(t, diff.Lines)
	assert.Contains(t, diff.Notice, "no text to compare")
	assert.Equal(t, "changed: content", diff.Summary)

	// A version that is not there, and a number that is not one.
	for _, path := range []string{"/versions/3", "/versions/3/content", "/diff?from=1&to=3"} {
		res = h.do(t, request{Method: http.MethodGet, Path: "/documents/" + ids["Lipids"] + path, Token: token})
		checkProblem(t, res, http.StatusNotFound)
	}
	for _, path := range []string{"/versions/0", "/versions/first", "/diff?from=1", "/diff?from=0&to=1"} {
		res = h.do(t, request{Method: http.MethodGet, Path: "/documents/" + ids["Lipids"] + path, Token: token})
		checkProblem(t, res, http.StatusBadRequest)
	}
}
