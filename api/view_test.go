package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// TestDocumentView syncs documents of several formats from the provider
// and reads each one's view: sanitized, extracted, or a download with the
// reason, never an error.
func TestDocumentView(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	seedUser(t, h, practice.RoleDietician, "dee@example.com", password)
	token := signIn(t, h, "dee@example.com", password).AccessToken

	pdf, err := os.ReadFile(filepath.Join("..", "present", "testdata", "mock-lab.pdf"))
	require.NoError(t, err)
	p := h.php.PutPatient(connector.Patient{Name: "Vi Ewer", Email: "vi@example.com",
		Identifiers: []connector.Identifier{{System: "urn:mrn", Value: "MRN-V"}}})
	for _, d := range []struct{ title, contentType, content string }{
		{"Note", "text/plain; charset=utf-8", "Less salt, more walks."},
		{"Letter", "text/html", `<p onclick="steal()">Dear colleague,</p><script>steal()</script><img src="https://tracker.example/x.png" alt="logo">`},
		{"Summary", "application/xml", `<ClinicalDocument xmlns="urn:hl7-org:v3"><title>Episode summary</title><component><structuredBody>` +
			`<component><section><title>Allergies</title><text><paragraph>Peanuts</paragraph></text></section></component>` +
			`</structuredBody></component></ClinicalDocument>`},
		{"Broken summary", "application/cda+xml", `<ClinicalDocument xmlns="urn:hl7-org:v3"><title>cut off`},
		{"Lab report", "application/pdf", string(pdf)},
		{"Archive", "application/zip", "PK\x03\x04 not shown"},
	} {
		_, err := h.php.AddDocument(connector.Document{Patient: p.Ref, Type: connector.DocumentOther, Title: d.title,
			ContentType: d.contentType, Content: []byte(d.content)})
		require.NoError(t, err)
	}
	res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: token, Body: map[string]any{
		"name": "Vi Ewer", "email": "vi@example.com", "identifiers": []any{map[string]any{"system": "urn:mrn", "value": "MRN-V"}}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	created := decode[api.PatientWithSync](t, res)
	followRun(t, h, token, created.Sync.Id)

	res = h.do(t, request{Method: http.MethodGet, Path: "/patients/" + itoa(created.Patient.Id) + "/documents", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	views := map[string]api.DocumentView{}
	for _, d := range decode[api.DocumentPage](t, res).Items {
		res := h.do(t, request{Method: http.MethodGet, Path: "/documents/" + itoa(d.Id) + "/view", Token: token})
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", d.Title, res.Body)
		views[d.Title] = decode[api.DocumentView](t, res)
	}
	require.Len(t, views, 6)

	assert.Equal(t, api.DocumentViewKindText, views["Note"].Kind)
	assert.Equal(t, "Less salt, more walks.", views["Note"].Text)

	letter := views["Letter"]
	assert.Equal(t, api.DocumentViewKindHtml, letter.Kind)
	assert.Contains(t, letter.Html, "Dear colleague,")
	for _, bad := range []string{"<script", "onclick", "steal", "tracker.example"} {
		assert.NotContains(t, letter.Html, bad)
	}

	summary := views["Summary"]
	assert.Equal(t, api.DocumentViewKindHtml, summary.Kind)
	assert.Equal(t, "Episode summary", summary.Title)
	assert.Contains(t, summary.Html, "Allergies")
	assert.Contains(t, summary.Html, "Peanuts")

	broken := views["Broken summary"]
	assert.Equal(t, api.DocumentViewKindDownload, broken.Kind)
	assert.True(t, strings.HasPrefix(broken.Notice, "This document cannot be shown here ("), broken.Notice)

	lab := views["Lab report"]
	assert.Equal(t, api.DocumentViewKindPdf, lab.Kind)
	assert.NotEmpty(t, lab.Text, "the PDF's text")
	assert.Empty(t, lab.TextError)

	assert.Equal(t, api.DocumentViewKindDownload, views["Archive"].Kind)
	assert.Empty(t, views["Archive"].Notice, "a type the viewer does not show needs no excuse")

	// The PDF's words are searchable, as the pull extracted them.
	res = h.do(t, request{Method: http.MethodGet, Path: "/patients/" + itoa(created.Patient.Id) + "/documents?q=northwind+accession", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	found := decode[api.DocumentPage](t, res).Items
	require.Len(t, found, 1)
	assert.Equal(t, "Lab report", found[0].Title)

	// So are an upload's.
	body, ct := multipartBody("lab.pdf", pdf, map[string]string{"type": "lab_result", "title": "Uploaded lab"})
	res = h.do(t, request{Method: http.MethodPost, Path: "/patients/" + itoa(created.Patient.Id) + "/documents", Token: token, Body: body, ContentType: ct})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = h.do(t, request{Method: http.MethodGet, Path: "/patients/" + itoa(created.Patient.Id) + "/documents?q=northwind+accession&sort=title&order=asc", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	found = decode[api.DocumentPage](t, res).Items
	require.Len(t, found, 2)
	assert.Equal(t, "Uploaded lab", found[1].Title)

	// Every view was audited.
	require.NoError(t, h.svc.FlushAudit(t.Context()))
	var entries []practice.AuditEntry
	require.NoError(t, h.st.Read(t.Context(), func(tx practice.Tx) (err error) {
		entries, err = tx.Audit(t.Context(), practice.AuditQuery{Action: practice.ActionViewDocument, Limit: 100})
		return err
	}))
	assert.Len(t, entries, 6)
}
