package console_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/practice"
)

// TestVersionPages checks the version pages' answers to what the browser
// test does not send: malformed and missing versions.
func TestVersionPages(t *testing.T) {
	w := newWorld(t, console.Config{})
	ctx := context.Background()
	w.providerPatient(t, "Ann Example", "ann@example.com")
	diet := w.actor(t, practice.RoleDietician)
	p, run, err := w.svc.CreatePatient(ctx, diet, practice.NewPatient{Name: "Ann Example", Email: "ann@example.com"})
	require.NoError(t, err)
	w.finish(t, diet, run)
	docs, err := w.svc.Documents(ctx, diet, p.ID, practice.DocumentList{Type: connector.DocumentProgressNote})
	require.NoError(t, err)
	require.Len(t, docs.Items, 1)
	doc := "/documents/" + itoa(docs.Items[0].ID)

	c := &client{t: t, base: w.url}
	c.login(w.users[practice.RoleDietician].Email)
	view := c.do(http.MethodGet, doc, nil, nil)
	require.Equal(t, http.StatusOK, view.Status)
	assert.Contains(t, view.Body, `href="/console`+doc+`/versions/1/content"`)
	assert.NotContains(t, view.Body, "Compare", "one version: nothing to compare")

	for _, tc := range []struct {
		path   string
		status int
		says   string
	}{
		{doc + "/versions/1/content", http.StatusOK, "Weight stable."},
		{doc + "/versions/2/content", http.StatusNotFound, ""},
		{doc + "/versions/x/content", http.StatusNotFound, ""},
		{doc + "/versions/compare?from=1&to=1", http.StatusOK, "The text is the same in both versions."},
		{doc + "/versions/compare?from=1&to=2", http.StatusNotFound, "no such record"},
		{doc + "/versions/compare?from=0&to=1", http.StatusBadRequest, "from: is not a version number"},
		{doc + "/versions/compare?from=1", http.StatusBadRequest, "to: is not a version number"},
		{"/documents/999999/versions/compare?from=1&to=1", http.StatusNotFound, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := c.do(http.MethodGet, tc.path, nil, nil)
			assert.Equal(t, tc.status, res.Status)
			assert.Contains(t, res.Body, tc.says)
		})
	}
}

// finish waits for the sync run to end.
func (w *world) finish(t testing.TB, a practice.Actor, run string) {
	t.Helper()
	events, err := w.svc.WatchRun(context.Background(), a, run)
	require.NoError(t, err)
	for range events {
	}
}
