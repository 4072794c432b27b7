package console_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/practice"
)

// TestBrowserPages covers the pages the story does not pass through: lab
// trends (a chart beside its data table), upload, the sync log, the
// profile and user management, each clean under axe-core, the CSP and
// the console.
func TestBrowserPages(t *testing.T) {
	w := newWorld(t, console.Config{})
	shots := shotDir(t)
	ctx := context.Background()
	w.providerPatient(t, "Flo Labs", "flo@example.com")
	_, err := w.php.FillObservations(time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC), 6, "mg/dL", "2345-7")
	require.NoError(t, err)
	diet := w.actor(t, practice.RoleDietician)
	p, run, err := w.svc.CreatePatient(ctx, diet, practice.NewPatient{Name: "Flo Labs", Email: "flo@example.com"})
	require.NoError(t, err)
	require.NotEmpty(t, run)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	d := newTab(t)
	d.login(w.url, w.users[practice.RoleDietician].Email)
	patientURL := w.url + "/patients/" + itoa(p.ID)
	// The observations arrive with the first sync.
	deadline := time.Now().Add(20 * time.Second)
	for {
		d.do(chromedp.Navigate(patientURL), chromedp.WaitVisible(css(`main h1`)))
		if eval[bool](d, `document.getElementById("lab-table-glucose") !== null`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	d.poll(`document.querySelector("[data-chart='lab-table-glucose'] canvas") !== null`)
	assert.Equal(t, 6, eval[int](d, `document.querySelectorAll("#lab-table-glucose tbody tr").length`))
	d.check("lab trends")
	d.shots(shots, "lab-trends")

	// Upload a text file: the viewer shows it.
	file := filepath.Join(t.TempDir(), "note.txt")
	require.NoError(t, os.WriteFile(file, []byte("Seen today: eating well."), 0o644))
	d.do(chromedp.Navigate(patientURL+"/upload"), chromedp.WaitVisible(css(`#u-file`)))
	d.check("upload")
	d.do(chromedp.SetUploadFiles(css(`#u-file`), []string{file}), chromedp.SendKeys(css(`#u-title`), "Visit note"),
		chromedp.Click(chromedp.Search(`//button[text()="Upload"]`)), chromedp.WaitVisible(css(`.doc-text`)))
	assert.Contains(t, d.text(`.doc-text`), "eating well")
	d.check("uploaded text")
	// Its source edits its details.
	d.do(chromedp.Click(chromedp.Search(`//summary[text()="Edit the details"]`)), chromedp.WaitVisible(css(`#d-title`)),
		chromedp.SetValue(css(`#d-title`), "Visit note, March"), chromedp.Submit(css(`#d-title`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[text()="Visit note, March"]`)))
	d.check("edited document")

	d.do(chromedp.Navigate(w.url+"/logs"), chromedp.WaitVisible(css(`#log`)))
	d.check("logs")
	d.shots(shots, "logs")
	d.do(chromedp.Navigate(w.url+"/logs?status=error"), chromedp.WaitVisible(css(`main h1`)))
	assert.Contains(t, d.text(`main`), "No entry matches")

	d.do(chromedp.Navigate(w.url+"/search"), chromedp.WaitVisible(css(`#search-q`)), chromedp.SendKeys(css(`#search-q`), "Flo\r"),
		chromedp.WaitVisible(css(`#hits-patients`)))
	assert.Contains(t, d.text(`main`), "Flo Labs")
	d.check("search")
	d.shots(shots, "search")

	d.do(chromedp.Navigate(w.url+"/profile"), chromedp.WaitVisible(css(`#pr-name`)))
	d.check("profile")
	d.do(chromedp.SetValue(css(`#pr-name`), "Dana Renamed"), chromedp.Submit(css(`#pr-name`)), chromedp.WaitVisible(css(`p[role=status]`)))
	assert.Contains(t, d.text(`footer`), "Dana Renamed", "the name shown is the user's current one")

	a := newTab(t)
	a.login(w.url, w.users[practice.RoleAdmin].Email)
	a.do(chromedp.Navigate(w.url+"/users"), chromedp.WaitVisible(css(`#users`)))
	a.check("users")
	a.shots(shots, "users")
	a.do(chromedp.SendKeys(css(`#nu-name`), "Gil Practitioner"), chromedp.SendKeys(css(`#nu-email`), "gil@example.com"),
		chromedp.SetValue(css(`#nu-role`), "practitioner"), chromedp.SendKeys(css(`#nu-password`), password),
		chromedp.Submit(css(`#nu-password`)), chromedp.WaitVisible(chromedp.Search(`//td[text()="gil@example.com"]`)))
	a.check("user created")
	list, err := w.svc.Users(ctx, w.actor(t, practice.RoleAdmin), practice.UserList{Text: "gil"})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	assert.Equal(t, practice.RolePractitioner, list.Items[0].Role)
}
