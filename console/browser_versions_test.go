package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/practice"
)

// TestBrowserVersions: a document amended at the provider has two
// versions in the viewer; comparing them shows the lines removed and
// added; version 1 downloads as it was. A practitioner with a share
// reads the document but is told why its versions are not theirs. The
// sync log draws its events per day beside their table.
func TestBrowserVersions(t *testing.T) {
	w := newWorld(t, console.Config{})
	shots := shotDir(t)
	ctx := context.Background()
	w.providerPatient(t, "Vera Versions", "vera@example.com")
	diet := w.actor(t, practice.RoleDietician)
	p, run, err := w.svc.CreatePatient(ctx, diet, practice.NewPatient{Name: "Vera Versions", Email: "vera@example.com"})
	require.NoError(t, err)
	w.finish(t, diet, run)
	var ref string
	for _, d := range w.php.Documents() {
		if d.Title == "First visit" {
			ref = d.Ref.ID
		}
	}
	require.NotEmpty(t, ref)
	_, err = w.php.UpdateDocument(ref, func(d *connector.Document) { d.Content = []byte("Weight down 2 kg.\nSodium 138.") })
	require.NoError(t, err)
	run, err = w.svc.StartSync(ctx, diet, p.ID)
	require.NoError(t, err)
	w.finish(t, diet, run)
	docs, err := w.svc.Documents(ctx, diet, p.ID, practice.DocumentList{Type: connector.DocumentProgressNote})
	require.NoError(t, err)
	require.Len(t, docs.Items, 1)
	viewer := w.url + "/documents/" + itoa(docs.Items[0].ID)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	d := newTab(t)
	d.login(w.url, w.users[practice.RoleDietician].Email)
	d.do(chromedp.Navigate(viewer), chromedp.WaitVisible(css(`#versions-table`)))
	assert.Contains(t, d.text(`.doc-text`), "Weight down 2 kg.")
	assert.Equal(t, 2, eval[int](d, `document.querySelectorAll("#versions-table tbody tr").length`))
	assert.Contains(t, d.text(`#versions-table tbody tr[aria-current="true"]`), "2 (current)")
	d.check("version history")

	// Version 1 downloads as it was, as an attachment.
	got := eval[string](d, `fetch(document.querySelector("#versions-table a[href$='/versions/1/content']").href).then(async r =>
		r.headers.get("Content-Disposition") + "\n" + await r.text())`)
	disposition, body, _ := strings.Cut(got, "\n")
	assert.True(t, strings.HasPrefix(disposition, "attachment"), disposition)
	assert.Equal(t, "Weight stable.", body, "version 1's bytes")

	d.do(chromedp.Click(chromedp.Search(`//button[text()="Compare"]`)), chromedp.WaitVisible(css(`#fields`)))
	assert.Contains(t, d.location(), "/versions/compare?from=1&to=2")
	assert.Equal(t, []string{"Weight stable."}, eval[[]string](d, `[...document.querySelectorAll("#diff del")].map(e => e.textContent)`))
	assert.Equal(t, []string{"Weight down 2 kg.", "Sodium 138."}, eval[[]string](d, `[...document.querySelectorAll("#diff ins")].map(e => e.textContent)`))
	// Each line says what happened to it in words, and its numbers.
	assert.Equal(t, []string{"1\t\tRemoved\tWeight stable.", "\t1\tAdded\tWeight down 2 kg.", "\t2\tAdded\tSodium 138."},
		eval[[]string](d, `[...document.querySelectorAll("#diff tbody tr")].map(r => [...r.cells].map(c => c.textContent).join("\t"))`))
	assert.Contains(t, d.text(`#diff caption`), "2 lines added, 1 removed")
	assert.Contains(t, d.text(`#fields`), "Changed", "the content is marked changed")
	d.check("version diff")
	d.shots(shots, "versions")

	// Comparing a version with itself compares no text.
	d.do(chromedp.Navigate(viewer+"/versions/compare?from=2&to=2"), chromedp.WaitVisible(css(`#fields`)))
	assert.Contains(t, d.text(`main`), "The text is the same in both versions.")

	// A practitioner with a share reads the document, not its versions.
	_, err = w.svc.ShareDocument(ctx, diet, docs.Items[0].ID, practice.ShareInput{WithEmail: w.users[practice.RolePractitioner].Email})
	require.NoError(t, err)
	pr := newTab(t)
	pr.login(w.url, w.users[practice.RolePractitioner].Email)
	pr.do(chromedp.Navigate(viewer), chromedp.WaitVisible(css(`#versions`)))
	assert.Contains(t, pr.text(`.doc-text`), "Weight down 2 kg.")
	assert.Contains(t, pr.text(`#versions`), "You may not do this: a share gives the document as it is now, not its earlier versions.")
	assert.Zero(t, eval[int](pr, `document.querySelectorAll("#versions-table").length`))
	pr.check("versions refused")
	pr.do(chromedp.Navigate(viewer+"/versions/compare?from=1&to=2"), chromedp.WaitVisible(css(`.problem`)))
	assert.Contains(t, pr.text(`.problem`), "a share gives the document as it is now")
	assert.Equal(t, 403, eval[int](pr, `fetch(location.origin + "`+strings.TrimPrefix(viewer, w.srv.URL)+`/versions/1/content").then(r => r.status)`))
	pr.check("compare refused")

	// The sync log: its chart is drawn from the table beside it.
	d.do(chromedp.Navigate(w.url+"/logs"), chromedp.WaitVisible(css(`#log`)))
	d.poll(`document.querySelector("[data-chart='log-days'] canvas") !== null`)
	assert.True(t, eval[bool](d, inked(`document.querySelector("[data-chart='log-days'] canvas")`)), "the chart has ink on it")
	rows := eval[[]string](d, `[...document.querySelectorAll("#log-days tbody tr")].map(r => r.cells[1].textContent)`)
	assert.Len(t, rows, 14, "the last 14 days")
	assert.NotEqual(t, "0", rows[len(rows)-1], "today's successes are counted")
	d.do(chromedp.Click(chromedp.Search(`//summary[text()="The figures of the chart"]`)), chromedp.WaitVisible(css(`#log-days`)))
	d.check("log chart")
	d.shots(shots, "log-chart")
}
